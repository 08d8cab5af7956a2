// The sample sources behind the sample inspector and `fact-rlhf samples` (see ./types.ts).
export { openSampleSource, SourceError, type SourceOptions } from './open';
export type { SampleSource, SampleSourceInfo } from './types';
