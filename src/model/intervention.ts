/**
 * Interventions: small, explicit edits to a forward pass, for experiments that ask "what if this part did
 * less?" (the inspector's ablations and activation patching). Three kinds, each applied where the forward
 * pass would otherwise just continue:
 *  - a head's share of the attention mix scaled (0 ablates it) before the output projection mixes heads;
 *  - a layer's feed-forward output scaled before it joins the residual stream;
 *  - one position's residual stream after a layer replaced by given values (activation patching).
 * Like a trace, an intervention is off by default and costs one undefined check then. This file holds the
 * record and the three edits; it does not decide what to ablate or patch (that is inspect/'s job), and it
 * knows nothing of inspect/.
 */

import { PeelError } from "../util/errors.js";
import type { ModelConfig } from "./config.js";
import type { Transformer } from "./transformer.js";

/** Multiplies query head `head`'s attention output in `layer` (before Wo) by `scale`. */
export interface HeadScale {
  readonly layer: number;
  readonly head: number;
  readonly scale: number;
}

/** Multiplies `layer`'s feed-forward output (after any post-norm) by `scale`. */
export interface MlpScale {
  readonly layer: number;
  readonly scale: number;
}

/** After `layer`, the residual stream at position `pos` becomes `values` (dim). */
export interface ResidPatch {
  readonly layer: number;
  readonly pos: number;
  readonly values: Float32Array;
}

export interface Intervention {
  readonly heads?: readonly HeadScale[];
  readonly mlp?: readonly MlpScale[];
  readonly resid?: readonly ResidPatch[];
}

/** Throws INVALID_ARGUMENT naming the first entry whose layer, head, scale or width does not fit the model. */
export function checkIntervention(c: ModelConfig, iv: Intervention): void {
  const layerOk = (l: number) => Number.isInteger(l) && l >= 0 && l < c.nLayers;
  const bad = (what: string) => new PeelError("INVALID_ARGUMENT", `intervention: ${what}`);
  for (const h of iv.heads ?? []) {
    if (!layerOk(h.layer)) throw bad(`layer ${h.layer} is outside 0..${c.nLayers - 1}`);
    if (!(Number.isInteger(h.head) && h.head >= 0 && h.head < c.nHeads)) throw bad(`head ${h.head} is outside 0..${c.nHeads - 1}`);
    if (!Number.isFinite(h.scale)) throw bad(`head scale must be a finite number, got ${h.scale}`);
  }
  for (const f of iv.mlp ?? []) {
    if (!layerOk(f.layer)) throw bad(`layer ${f.layer} is outside 0..${c.nLayers - 1}`);
    if (!Number.isFinite(f.scale)) throw bad(`feed-forward scale must be a finite number, got ${f.scale}`);
  }
  for (const r of iv.resid ?? []) {
    if (!layerOk(r.layer)) throw bad(`layer ${r.layer} is outside 0..${c.nLayers - 1}`);
    if (!(Number.isInteger(r.pos) && r.pos >= 0)) throw bad(`position ${r.pos} must be an integer ≥ 0`);
    if (r.values.length !== c.dim) throw bad(`a residual patch needs ${c.dim} values (dim), got ${r.values.length}`);
  }
}

/** att (nTokens, nHeads·headDim): scales the heads `iv` names for `layer`, in place. */
export function scaleHeads(m: Transformer, iv: Intervention, layer: number, nTokens: number, att: Float32Array): void {
  const { nHeads, headDim } = m.config;
  for (const h of iv.heads ?? []) {
    if (h.layer !== layer) continue;
    for (let t = 0; t < nTokens; t++) {
      const off = (t * nHeads + h.head) * headDim;
      m.kernels.scale(att.subarray(off, off + headDim), h.scale, headDim);
    }
  }
}

/** out (nTokens, dim): scales `layer`'s feed-forward output as `iv` says, in place. */
export function scaleMlp(m: Transformer, iv: Intervention, layer: number, nTokens: number, out: Float32Array): void {
  for (const f of iv.mlp ?? []) if (f.layer === layer) m.kernels.scale(out, f.scale, nTokens * m.config.dim);
}

/** x (nTokens, dim) at positions startPos..: overwrites the rows `iv` patches after `layer`. */
export function patchResid(m: Transformer, iv: Intervention, layer: number, startPos: number, nTokens: number, x: Float32Array): void {
  const dim = m.config.dim;
  for (const r of iv.resid ?? []) {
    const t = r.pos - startPos;
    if (r.layer === layer && t >= 0 && t < nTokens) x.set(r.values, t * dim);
  }
}
