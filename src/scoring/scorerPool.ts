// One RewardScorer per reward model, created on first use and kept: its worker holds the loaded
// ONNX session, so a second score of the same model costs milliseconds, not a reload.
import { resolve } from 'node:path';
import type { RewardScorer } from './rewardScorer';

export class ScorerPool {
  private readonly scorers = new Map<string, RewardScorer>();
  private disposed = false;

  /** The scorer for `model` (an export or rm run folder; the same folder however it is spelt),
   *  made by `create` the first time. */
  get(model: string, create: (model: string) => RewardScorer): RewardScorer {
    if (this.disposed) throw new Error('the scorers were disposed');
    const key = resolve(model);
    let scorer = this.scorers.get(key);
    if (!scorer) {
      scorer = create(key);
      this.scorers.set(key, scorer);
    }
    return scorer;
  }

  get size(): number {
    return this.scorers.size;
  }

  /** Stops every worker (the extension's deactivate). */
  async dispose(): Promise<void> {
    this.disposed = true;
    const all = [...this.scorers.values()];
    this.scorers.clear();
    await Promise.all(all.map((s) => s.dispose()));
  }
}
