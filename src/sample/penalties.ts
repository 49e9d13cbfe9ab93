/**
 * Repetition, frequency and presence penalties over the last `lastN` tokens of the context (prompt and
 * generated), as llama.cpp's penalties sampler applies them: for a token seen `count` > 0 times in that window,
 * its logit is divided by `repeat` when positive and multiplied by it when not, then lowered by
 * count · frequency + presence. A stage with memory: `accept` records each token the context takes, `reset`
 * forgets them. The window is a ring of token ids with a count per id, so a step costs O(window).
 */

import type { Candidates } from "./candidates.js";
import type { SamplerStage } from "./stages.js";

export interface PenaltyOptions {
  /** > 1 discourages repeats (1: off). */
  readonly repeat: number;
  /** Subtracted once per occurrence (0: off). */
  readonly frequency: number;
  /** Subtracted once for any occurrence (0: off). */
  readonly presence: number;
  /** Tokens looked back on (llama.cpp's penalty_last_n). */
  readonly lastN: number;
}

export function penalties(o: PenaltyOptions): SamplerStage {
  const ring = new Int32Array(Math.max(1, o.lastN));
  const counts = new Map<number, number>();
  let filled = 0, next = 0;
  return {
    name: `penalties(repeat ${o.repeat}, frequency ${o.frequency}, presence ${o.presence}, last ${o.lastN})`,
    apply(c: Candidates) {
      if (counts.size === 0) return;
      for (let i = 0; i < c.size; i++) {
        const count = counts.get(c.ids[i] as number);
        if (count === undefined) continue;
        let l = c.logits[i] as number;
        l = l <= 0 ? l * o.repeat : l / o.repeat;
        c.logits[i] = l - count * o.frequency - o.presence;
      }
      c.sorted = false;
    },
    accept(id: number) {
      if (o.lastN <= 0) return;
      if (filled === ring.length) { // the oldest token leaves the window
        const old = ring[next] as number, n = (counts.get(old) ?? 1) - 1;
        if (n === 0) counts.delete(old); else counts.set(old, n);
      } else {
        filled++;
      }
      ring[next] = id;
      next = (next + 1) % ring.length;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    },
    reset() {
      counts.clear();
      filled = 0;
      next = 0;
    },
  };
}
