/**
 * Stop strings over streamed text: text arrives in pieces (one token's worth at a time) and a stop string
 * may span several pieces, so text is held back while its end could still be the start of a stop string,
 * and released once it cannot. At a match, the text before it is released and the rest is dropped.
 * It knows nothing of tokens or models; generate.ts feeds it each token's text.
 */

import { PeelError } from "../util/errors.js";

export interface StopMatcher {
  /** Adds text; returns what can be shown now and whether a stop string was completed. */
  push(text: string): { readonly text: string; readonly stopped: boolean };
  /** At the end of generation (no match): the held-back text. */
  flush(): string;
}

export function createStopMatcher(stops: readonly string[]): StopMatcher {
  if (stops.some((s) => typeof s !== "string" || s === "")) throw new PeelError("INVALID_ARGUMENT", "stop strings must be non-empty strings");
  let held = "";
  let done = false;
  return {
    push(text) {
      if (done) return { text: "", stopped: true };
      held += text;
      let at = -1;
      for (const s of stops) {
        const i = held.indexOf(s);
        if (i >= 0 && (at < 0 || i < at)) at = i;
      }
      if (at >= 0) {
        done = true;
        const out = held.slice(0, at);
        held = "";
        return { text: out, stopped: true };
      }
      const keep = longestStopPrefixSuffix(held, stops);
      const out = held.slice(0, held.length - keep);
      held = held.slice(held.length - keep);
      return { text: out, stopped: false };
    },
    flush() {
      const out = held;
      held = "";
      return out;
    },
  };
}

/** Length of the longest suffix of `text` that is a proper prefix of some stop string. */
function longestStopPrefixSuffix(text: string, stops: readonly string[]): number {
  let best = 0;
  for (const s of stops) {
    for (let n = Math.min(s.length - 1, text.length); n > best; n--) {
      if (text.endsWith(s.slice(0, n))) { best = n; break; }
    }
  }
  return best;
}
