// `eval.judge.base_url`: where the MMHal judge's requests (and an API key) go. The trainer
// (trainer/fact_rlhf/eval/judge_openai.py) sends the environment's OPENAI_API_KEY only to the
// endpoint the environment names and refuses plain http:// off loopback; these rules say so at the
// line, before a run finds out.
import type { ResolvedConfig } from './chain';
import { makeDiagnostic } from './yamlFile';
import type { EngineDiagnostic, EngineHost } from './types';

export const DEFAULT_JUDGE_URL = 'https://api.openai.com/v1';
const ENV_NAMES = 'FACT_RLHF_JUDGE_BASE_URL or OPENAI_BASE_URL';

/** The judge endpoint the user's environment names (the only one the environment's key goes to). */
export function environmentJudgeUrl(env: Readonly<Record<string, string | undefined>> | undefined): string {
  return env?.FACT_RLHF_JUDGE_BASE_URL || env?.OPENAI_BASE_URL || DEFAULT_JUDGE_URL;
}

function endpoint(url: string): string | undefined {
  try {
    const u = new URL(url.trim());
    return `${u.protocol}//${u.hostname.toLowerCase()}:${u.port || (u.protocol === 'https:' ? '443' : '80')}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

/** Same scheme, host, port and path (case of scheme and host, default ports and a trailing `/` aside). */
export function sameEndpoint(a: string, b: string): boolean {
  const x = endpoint(a);
  return x !== undefined && x === endpoint(b);
}

export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url.trim()).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (host === 'localhost' || host.endsWith('.localhost') || host === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function judgeDiagnostics(r: ResolvedConfig, host: EngineHost): EngineDiagnostic[] {
  const url = r.raw(['eval', 'judge', 'base_url']);
  const origin = r.where(['eval', 'judge', 'base_url']);
  if (typeof url !== 'string' || !origin) return [];
  const [start, end] = origin.loc.valueRange;
  const at = (severity: 'error' | 'warning', code: string, message: string): EngineDiagnostic[] => [
    makeDiagnostic(origin.pf, start, end, severity, code, message),
  ];
  if (!/^https?:\/\//i.test(url.trim()))
    return at('error', 'judge-url', '`eval.judge.base_url` must start with https:// (or http:// on loopback)');
  if (/^http:\/\//i.test(url.trim()) && !isLoopbackUrl(url)) {
    return at(
      'error',
      'judge-insecure',
      '`eval.judge.base_url` uses plain http:// to another machine: the requests (and any API key) would cross the network unencrypted. Use https://; plain http is accepted only for loopback (localhost, 127.0.0.1, ::1)',
    );
  }
  if (r.raw(['eval', 'judge', 'api_key']) === undefined && !sameEndpoint(url, environmentJudgeUrl(host.env))) {
    return at(
      'warning',
      'judge-key-withheld',
      `\`eval.judge.base_url\` names an endpoint your environment does not (${ENV_NAMES}, else OpenAI's): your OPENAI_API_KEY is not sent to it, since a config may come from anyone. To send it, set ${ENV_NAMES} to this URL in your environment`,
    );
  }
  return [];
}
