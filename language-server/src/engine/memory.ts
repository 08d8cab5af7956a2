// A per-GPU peak-memory estimate of the PPO stage, in the reference layout (FACT_RLHF.md §4): one
// shared base model carrying four LoRA adapters (policy and value trainable; reference and reward
// frozen), the KV cache of a rollout micro-batch, and the activations of a training micro-batch.
// It is arithmetic on the config, not a measurement; the hover shows every term.
import * as nodePath from 'node:path';
import type { ResolvedConfig } from './chain';
import { configPath } from './dataFiles';
import { isPlainObject } from './chain';
import type { EngineHost } from './types';

export interface ModelDims {
  layers: number;
  hidden: number;
  /** Width of the keys/values per layer (hidden × kv_heads / heads). */
  kvWidth: number;
  intermediate: number;
  vocab: number;
  lmParams: number;
  visionParams: number;
  source: string;
}

export interface MemoryEstimate {
  dims: ModelDims;
  terms: Array<{ label: string; bytes: number }>;
  totalBytes: number;
  assumptions: string[];
}

const GiB = 1024 ** 3;

/** Llama-2 family shapes behind LLaVA 7B/13B and the common larger sizes. */
const KNOWN_SIZES: Record<string, { layers: number; hidden: number; intermediate: number; kvHeadsRatio: number }> = {
  '7': { layers: 32, hidden: 4096, intermediate: 11008, kvHeadsRatio: 1 },
  '13': { layers: 40, hidden: 5120, intermediate: 13824, kvHeadsRatio: 1 },
  '34': { layers: 48, hidden: 7168, intermediate: 20480, kvHeadsRatio: 1 / 7 },
  '70': { layers: 80, hidden: 8192, intermediate: 28672, kvHeadsRatio: 1 / 8 },
};
const CLIP_L_PARAMS = 304e6;

function lmParams(layers: number, hidden: number, kvWidth: number, intermediate: number, vocab: number): number {
  return 2 * vocab * hidden + layers * (2 * hidden * hidden + 2 * hidden * kvWidth + 3 * hidden * intermediate);
}

function num(obj: Record<string, unknown>, key: string): number | undefined {
  const v = obj[key];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

function fromConfigJson(text: string, source: string): ModelDims | undefined {
  let cfg: unknown;
  try {
    cfg = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(cfg)) return undefined;
  const t = isPlainObject(cfg.text_config) ? cfg.text_config : cfg;
  const hidden = num(t, 'hidden_size');
  const layers = num(t, 'num_hidden_layers');
  if (!hidden || !layers) return undefined;
  const heads = num(t, 'num_attention_heads') ?? 1;
  const kvHeads = num(t, 'num_key_value_heads') ?? heads;
  const intermediate = num(t, 'intermediate_size') ?? 4 * hidden;
  const vocab = num(t, 'vocab_size') ?? 32000;
  const kvWidth = (hidden * kvHeads) / heads;
  let visionParams = 0;
  if (isPlainObject(cfg.vision_config)) {
    const v = cfg.vision_config;
    const vh = num(v, 'hidden_size') ?? 1024;
    const vl = num(v, 'num_hidden_layers') ?? 24;
    visionParams = vl * (4 * vh * vh + 2 * vh * (num(v, 'intermediate_size') ?? 4 * vh));
  } else if (typeof cfg.mm_vision_tower === 'string') visionParams = CLIP_L_PARAMS;
  return {
    layers,
    hidden,
    kvWidth,
    intermediate,
    vocab,
    lmParams: lmParams(layers, hidden, kvWidth, intermediate, vocab),
    visionParams,
    source,
  };
}

/** Model shape from the checkpoint's config.json, the built-in tiny model's keys, or a size in the name. */
export function modelDims(r: ResolvedConfig, host: EngineHost | undefined): ModelDims | undefined {
  const policy = r.str(['model', 'policy']) ?? '';
  if (policy.startsWith('builtin:')) {
    const h = r.num(['model', 'tiny', 'hidden_size']) ?? 64;
    const l = r.num(['model', 'tiny', 'num_layers']) ?? 2;
    const vh = r.num(['model', 'tiny', 'vision_hidden_size']) ?? 32;
    const vocab = 1000;
    return {
      layers: l,
      hidden: h,
      kvWidth: h,
      intermediate: 4 * h,
      vocab,
      lmParams: lmParams(l, h, h, 4 * h, vocab),
      visionParams: 2 * 12 * vh * vh,
      source: `${policy} (model.tiny)`,
    };
  }
  if (host) {
    const cp = configPath(r, ['model', 'policy'], host);
    if (cp?.expanded.absolute) {
      const text = host.readFile(nodePath.join(cp.expanded.absolute, 'config.json'));
      const dims = text === undefined ? undefined : fromConfigJson(text, `${cp.raw}/config.json`);
      if (dims) return dims;
    }
  }
  const m = /(?:^|[^a-z0-9.])(\d+(?:\.\d+)?)\s*b(?![a-z])/i.exec(policy);
  const known = m ? KNOWN_SIZES[String(Number(m[1]))] : undefined;
  if (!m || !known) return undefined;
  const kvWidth = known.hidden * known.kvHeadsRatio;
  return {
    layers: known.layers,
    hidden: known.hidden,
    kvWidth,
    intermediate: known.intermediate,
    vocab: 32000,
    lmParams: lmParams(known.layers, known.hidden, kvWidth, known.intermediate, 32000),
    visionParams: CLIP_L_PARAMS,
    source: `"${m[1]}B" in model.policy (Llama-2 shape)`,
  };
}

const DTYPE_BYTES: Record<string, number> = { fp32: 4, bf16: 2, fp16: 2 };

export function estimatePpoMemory(r: ResolvedConfig, host: EngineHost | undefined): MemoryEstimate | undefined {
  const dims = modelDims(r, host);
  if (!dims) return undefined;
  const dtype = r.str(['model', 'dtype']) ?? 'fp32';
  const quant = r.str(['model', 'quantization']) ?? 'none';
  const dtypeBytes = DTYPE_BYTES[dtype] ?? 4;
  const baseBytesPerParam = quant === '4bit' ? 0.516 : quant === '8bit' ? 1.01 : dtypeBytes; // NF4 + double-quant constants
  const rank = r.num(['model', 'lora', 'r']) ?? 64;
  const targetsRaw = r.get(['model', 'lora', 'target_modules']);
  const targets = Array.isArray(targetsRaw) ? targetsRaw.filter((t): t is string => typeof t === 'string') : [];
  const h = dims.hidden;
  const io: Record<string, number> = {
    q_proj: 2 * h,
    o_proj: 2 * h,
    k_proj: h + dims.kvWidth,
    v_proj: h + dims.kvWidth,
    gate_proj: h + dims.intermediate,
    up_proj: h + dims.intermediate,
    down_proj: h + dims.intermediate,
  };
  const loraParams = dims.layers * rank * targets.reduce((s, t) => s + (io[t] ?? 2 * h), 0);
  const perRollout = r.num(['ppo', 'rollout_per_device_batch_size']) ?? 1;
  const perStep = r.num(['ppo', 'step_per_device_batch_size']) ?? 1;
  const seq = (r.num(['ppo', 'query_len']) ?? 0) + (r.num(['ppo', 'response_len']) ?? 0);
  const ckpt = r.bool(['model', 'gradient_checkpointing']) ?? false;

  const terms = [
    {
      label: `base LM weights (${(dims.lmParams / 1e9).toFixed(2)} B params × ${baseBytesPerParam} B, ${quant === 'none' ? dtype : quant}), shared by the four models`,
      bytes: dims.lmParams * baseBytesPerParam,
    },
    {
      label: `vision tower + projector (${(dims.visionParams / 1e6).toFixed(0)} M params × ${dtypeBytes} B)`,
      bytes: dims.visionParams * dtypeBytes,
    },
    {
      label: `policy + value LoRA (2 × ${(loraParams / 1e6).toFixed(1)} M params × 16 B: fp32 weights, grads, Adam m and v)`,
      bytes: 2 * loraParams * 16,
    },
    {
      label: `reference + reward LoRA (2 × ${(loraParams / 1e6).toFixed(1)} M params × ${dtypeBytes} B, frozen)`,
      bytes: 2 * loraParams * dtypeBytes,
    },
  ];
  const kv = perRollout * seq * dims.layers * 2 * dims.kvWidth * dtypeBytes;
  const actPerLayer = perStep * seq * h;
  const activations =
    (ckpt ? actPerLayer * dtypeBytes * dims.layers + actPerLayer * 34 : actPerLayer * 34 * dims.layers) +
    perStep * seq * dims.vocab * 4 * 2;
  const phase =
    kv >= activations
      ? {
          label: `rollout KV cache (${perRollout} seqs × ${seq} tokens × ${dims.layers} layers × 2 × ${dims.kvWidth} × ${dtypeBytes} B) — larger than training activations`,
          bytes: kv,
        }
      : {
          label: `training activations (${perStep} seqs × ${seq} tokens, ${ckpt ? 'with' : 'without'} gradient checkpointing, + fp32 logits) — larger than the rollout KV cache`,
          bytes: activations,
        };
  terms.push(phase, { label: 'CUDA context and allocator slack', bytes: 1.0 * GiB });
  const totalBytes = terms.reduce((s, t) => s + t.bytes, 0);
  return {
    dims,
    terms,
    totalBytes,
    assumptions: [
      `model shape from ${dims.source}`,
      'reference layout: one base model with four LoRA adapters; rollout and training phases do not overlap',
      'activation size after Korthikanti et al. (34 bytes per token per hidden unit per layer without recomputation)',
    ],
  };
}

export function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

export function memoryMarkdown(est: MemoryEstimate, gpuGiB: number | undefined): string {
  const lines = [`**Estimated PPO peak memory per GPU: ${gib(est.totalBytes)}**${gpuGiB ? ` (GPU: ${gpuGiB.toFixed(0)} GiB)` : ''}`, ''];
  for (const t of est.terms) lines.push(`- ${gib(t.bytes)} — ${t.label}`);
  lines.push('', ...est.assumptions.map((a) => `_${a}_  `));
  return lines.join('\n');
}
