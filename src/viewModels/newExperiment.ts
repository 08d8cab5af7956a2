// "New Experiment…" without VS Code: the presets (the example configs the VSIX ships), the file
// name check, and the new file's text. The new file is a COPY of the example with a header comment
// and its own `name`, not an `extends` of it: the example lives inside the installed extension,
// whose folder changes with every update, so an `extends` to it would break on the next update and
// could not be shared with a colleague; a copy stays runnable from the user's folder (runs go to
// `runs/` beside it) and every value is there to read and change. The `name` edit is the form's
// own minimal edit (configEdit.ts), so the example's comments and layout are kept.
import { posix } from 'node:path';
import { applyChanges, editField } from './configEdit';

export interface ExperimentPreset {
  id: 'tiny' | 'llava-rlhf-7b' | 'llava-rlhf-13b';
  label: string;
  detail: string;
  /** Under the extension's examples/ folder. */
  example: string;
  /** What the new file is called unless the user says otherwise. */
  defaultFileName: string;
}

export const EXPERIMENT_PRESETS: readonly ExperimentPreset[] = [
  {
    id: 'tiny',
    label: 'Tiny PPO on the built-in shapes world (CPU)',
    detail: 'A randomly initialised tiny LLaVA and a fact-augmented reward model; runs in about a minute on a laptop CPU.',
    example: 'tiny-ppo.rlhf.yaml',
    defaultFileName: 'tiny-experiment.rlhf.yaml',
  },
  {
    id: 'llava-rlhf-7b',
    label: 'LLaVA-RLHF 7B (the reference recipe)',
    detail: 'One node of 8 × A100-80GB; data and models through $LLAVA_RLHF_DATA and $LLAVA_RLHF_MODELS.',
    example: 'llava-rlhf-7b.rlhf.yaml',
    defaultFileName: 'llava-rlhf-7b.rlhf.yaml',
  },
  {
    id: 'llava-rlhf-13b',
    label: 'LLaVA-RLHF 13B (the reference recipe)',
    detail: 'One node of 8 × A100-80GB; data and models through $LLAVA_RLHF_DATA and $LLAVA_RLHF_MODELS.',
    example: 'llava-rlhf-13b.rlhf.yaml',
    defaultFileName: 'llava-rlhf-13b.rlhf.yaml',
  },
];

export const EXPERIMENT_SUFFIX = '.rlhf.yaml';

/** The file name as typed, with the suffix added when it is missing ("my-run" → "my-run.rlhf.yaml"). */
export function normaliseExperimentFileName(input: string): string {
  const name = input.trim().replace(/\\/g, '/');
  if (name.endsWith(EXPERIMENT_SUFFIX)) return name;
  return name.endsWith('.yaml') || name.endsWith('.yml') ? name.replace(/\.ya?ml$/, EXPERIMENT_SUFFIX) : `${name}${EXPERIMENT_SUFFIX}`;
}

/** Why a typed name cannot be the new file (undefined: it can). `exists` says whether it is taken. */
export function experimentFileNameProblem(input: string, exists: (relative: string) => boolean): string | undefined {
  const trimmed = input.trim();
  if (!trimmed) return 'Give the experiment a file name, e.g. my-experiment.rlhf.yaml';
  const name = normaliseExperimentFileName(trimmed);
  if (posix.isAbsolute(name) || /^[A-Za-z]:/.test(name)) return 'A name inside the folder, not an absolute path';
  const parts = name.split('/');
  if (parts.some((p) => p === '..' || p === '.')) return 'A name inside the folder: no "." or ".." parts';
  if (parts.some((p) => p === '')) return 'No empty folder names (two "/" in a row, or a trailing "/")';
  if (parts[parts.length - 1] === EXPERIMENT_SUFFIX) return 'The file needs a name before .rlhf.yaml';
  if (exists(name)) return `${name} already exists: choose another name (nothing is overwritten)`;
  return undefined;
}

/** The experiment name a file stands for: its stem ("runs/my-exp.rlhf.yaml" → "my-exp"). */
export function experimentNameOf(fileName: string): string {
  const base = normaliseExperimentFileName(fileName).split('/').pop() ?? fileName;
  return base.slice(0, -EXPERIMENT_SUFFIX.length);
}

/** The new file's text: a header saying where it came from, then the example with this experiment's name. */
export function presetText(preset: ExperimentPreset, exampleText: string, fileName: string, extensionVersion: string): string {
  const name = experimentNameOf(fileName);
  const named = applyChanges(exampleText, editField(exampleText, ['name'], name));
  const header = [
    `# ${name}: made by "Fact-RLHF: New Experiment…" from the preset "${preset.label}",`,
    `# a copy of examples/${preset.example} of Fact-RLHF Studio ${extensionVersion}. Its runs go to`,
    '# output_dir (relative to this file). Edit it here or with "Open as Form".',
    '#',
  ].join('\n');
  return `${header}\n${named}`;
}
