// A terminal progress line for a run: a bar on a TTY, periodic plain lines otherwise (CI logs).
import { formatDuration } from '../runs/duration';

export { formatDuration };

export interface ProgressState {
  step: number;
  total: number;
  eta: number | null;
  /** Name of the headline figure shown as `reward` (reward, loss, held-out acc). */
  label?: string;
  reward?: number | null;
  kl?: number | null;
}

const fmt = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : x.toFixed(3));

export function renderProgressLine(p: ProgressState, width = 28): string {
  const frac = p.total > 0 ? Math.min(1, p.step / p.total) : 0;
  const filled = Math.round(frac * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const eta = p.eta === null ? '' : `  eta ${formatDuration(p.eta)}`;
  const kl = p.kl === undefined ? '' : `  kl ${fmt(p.kl)}`;
  return `${bar} ${p.step}/${p.total}  ${p.label ?? 'reward'} ${fmt(p.reward)}${kl}${eta}`;
}

export class ProgressReporter {
  private lastPlainStep = -1;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly isTty = Boolean(out.isTTY),
  ) {}

  update(p: ProgressState): void {
    const line = renderProgressLine(p);
    if (this.isTty) {
      this.out.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      // Plain output: about ten lines per run, plus the last step.
      const every = Math.max(1, Math.ceil(p.total / 10));
      if (p.step === p.total || p.step - this.lastPlainStep >= every) {
        this.out.write(`${line}\n`);
        this.lastPlainStep = p.step;
      }
    }
  }

  /** Moves past the bar before other output. */
  clear(): void {
    if (this.isTty && this.drawn) {
      this.out.write('\n');
      this.drawn = false;
    }
  }
}
