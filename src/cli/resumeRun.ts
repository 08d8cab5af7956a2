// `fact-rlhf resume RUN_DIR [--python PATH]`: continues a run from its latest checkpoint. The stage
// and the config come from the run's run.json; the checks are `--resume --run-dir`'s (resume.ts:
// a run folder, not live, with a checkpoint), made before anything starts.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Stage } from '../protocol';
import { MANIFEST_FILE, readManifest } from '../runs/runDirectory';
import { explicitRun, ResumeError } from './resume';

export interface ResumePlan {
  stage: Stage;
  /** The argument vector for the stage command: CONFIG --resume --run-dir RUN_DIR [options]. */
  argv: string[];
  note: string;
}

export function planResume(argv: string[]): ResumePlan {
  let runDir: string | undefined;
  const passthrough: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--python') {
      const v = argv[++i];
      if (v === undefined) throw new ResumeError('resume: --python needs a value');
      passthrough.push(a, v);
    } else if (a.startsWith('-')) throw new ResumeError(`resume: unknown option ${a}`);
    else if (runDir === undefined) runDir = a;
    else throw new ResumeError(`resume: unexpected argument ${a}`);
  }
  if (!runDir) throw new ResumeError('resume needs a RUN_DIR (a run folder with checkpoints/latest)');
  const dir = resolve(runDir);
  if (!existsSync(resolve(dir, MANIFEST_FILE))) throw new ResumeError(`resume: ${dir} is not a run folder (no ${MANIFEST_FILE})`);
  let manifest;
  try {
    manifest = readManifest(dir);
  } catch (err) {
    throw new ResumeError(`resume: ${(err as Error).message}`);
  }
  if (!manifest) throw new ResumeError(`resume: ${dir} is not a run folder (no ${MANIFEST_FILE})`);
  if (!manifest.config_path)
    throw new ResumeError(
      `resume: ${resolve(dir, MANIFEST_FILE)} does not name its config file (config_path); run \`fact-rlhf ${manifest.stage} CONFIG --resume --run-dir ${dir}\``,
    );
  const choice = explicitRun(dir, manifest.stage);
  return { stage: manifest.stage, argv: [manifest.config_path, '--resume', '--run-dir', dir, ...passthrough], note: choice.note };
}
