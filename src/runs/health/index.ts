// Training-health rules (VS Code-free): see monitor.ts for how they run, rules/ for each rule's source.
export * from './types';
export { HealthMonitor, MonitorConfigError, RULES, checkHealth, type MonitorConfig } from './monitor';
