// The trainer reads configs with PyYAML, with YAML 1.2 booleans and floats patched in
// (trainer/fact_rlhf/config/yaml_source.py), but PyYAML's YAML 1.1 integers, nulls and timestamps
// left as they are. This server reads YAML 1.2. Where the two would read a plain scalar
// differently — `010` is 10 here and 8 there, `1_000` and `1:30` are text here and numbers there,
// `0o17` is a number here and text there, `2024-01-01` is text here and a date there — the
// scalar gets a warning and a spelling both read the same way.
import { isMap, isScalar, isSeq } from 'yaml';
import type { Scalar } from 'yaml';
import { makeDiagnostic, replaceFix } from './yamlFile';
import type { ParsedFile } from './yamlFile';
import type { EngineDiagnostic, PathSegment } from './types';
import { pathToString } from './types';

const PY_NULL = /^(?:~|null|Null|NULL|)$/;
const BOOL_12 = /^(?:true|True|TRUE|false|False|FALSE)$/;
const PY_INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT_12 = /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const PY_TIMESTAMP =
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/;

const DATE = Symbol('date');

/** PyYAML's construct_yaml_int, for the forms its int resolver accepts. */
function pyInt(src: string): number {
  let s = src.replace(/_/g, '');
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s.startsWith('0b')) return sign * Number.parseInt(s.slice(2), 2);
  if (s.startsWith('0x')) return sign * Number.parseInt(s.slice(2), 16);
  if (s.startsWith('0')) return sign * Number.parseInt(s, 8);
  if (s.includes(':')) return sign * s.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
  return sign * Number.parseInt(s, 10);
}

/** What the trainer's loader makes of a plain scalar. */
export function trainerReads(src: string): unknown {
  if (PY_NULL.test(src)) return null;
  if (BOOL_12.test(src)) return /^t/i.test(src);
  if (PY_INT.test(src)) return pyInt(src);
  if (FLOAT_12.test(src)) {
    if (/nan/i.test(src)) return Number.NaN;
    if (/inf/i.test(src)) return src.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    return Number.parseFloat(src);
  }
  if (PY_TIMESTAMP.test(src)) return DATE;
  return src;
}

function same(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
}

function describe(v: unknown): string {
  if (v === DATE) return 'a date';
  if (typeof v === 'string') return `the text "${v}"`;
  return `the number ${String(v)}`;
}

function check(pf: ParsedFile, node: Scalar, path: PathSegment[], out: EngineDiagnostic[]): void {
  if (node.type !== 'PLAIN' || !node.range) return;
  const src = typeof node.source === 'string' ? node.source : String(node.value);
  const ours = node.value;
  const theirs = trainerReads(src);
  if (same(ours, theirs)) return;
  // A spelling both loaders read as this editor does: a plain decimal for numbers, quotes for text.
  let fix: string;
  if (typeof ours === 'number' && Number.isFinite(ours)) fix = String(ours);
  else if (typeof ours === 'string' && typeof theirs === 'number' && !src.includes(':')) fix = String(theirs);
  else fix = JSON.stringify(src);
  const range: [number, number] = [node.range[0], node.range[1]];
  out.push(
    makeDiagnostic(
      pf,
      range[0],
      range[1],
      'warning',
      'yaml-1.1',
      `\`${pathToString(path)}\`: the trainer's YAML reader (PyYAML) reads \`${src}\` as ${describe(theirs)}, this editor as ${describe(ours)}; write \`${fix}\``,
      [replaceFix(pf, range, fix, `Write ${fix}`, true)],
    ),
  );
}

export function portabilityDiagnostics(pf: ParsedFile): EngineDiagnostic[] {
  const out: EngineDiagnostic[] = [];
  const visit = (node: unknown, path: PathSegment[], depth: number): void => {
    if (depth > 64) return;
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : '?';
        visit(pair.value, [...path, k], depth + 1);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, i], depth + 1));
    } else if (isScalar(node)) {
      check(pf, node, path, out);
    }
  };
  visit(pf.doc.contents, [], 0);
  return out;
}
