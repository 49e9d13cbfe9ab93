// keepTopCandidates against the full sort it replaces in top-k: the same k candidates in the same order
// (logit descending, lower id first on ties), on random logits with many ties, for k from 1 to the whole
// vocabulary, unsorted and already-sorted inputs.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createCandidates, fillCandidates, keepTopCandidates, sortCandidates } from "./candidates.js";
import { createRng } from "./rng.js";

test("keepTopCandidates keeps exactly the first k of a full sort, in order", () => {
  const rng = createRng(7);
  for (const n of [1, 5, 64, 1000, 4099]) {
    const logits = new Float32Array(n);
    // coarse values so ties are common, and a few -Infinity (banned tokens)
    for (let i = 0; i < n; i++) logits[i] = rng.next() < 0.02 ? -Infinity : Math.round(rng.next() * 40) / 4;
    for (const k of [1, 2, 3, 10, 40, n - 1, n]) {
      if (k < 1) continue;
      const full = createCandidates(n), part = createCandidates(n);
      fillCandidates(full, logits);
      sortCandidates(full);
      fillCandidates(part, logits);
      keepTopCandidates(part, k);
      assert.equal(part.size, Math.min(k, n));
      assert.equal(part.sorted, true);
      assert.deepEqual(Array.from(part.ids.subarray(0, part.size)), Array.from(full.ids.subarray(0, part.size)), `n ${n}, k ${k}`);
      assert.deepEqual(Array.from(part.logits.subarray(0, part.size)), Array.from(full.logits.subarray(0, part.size)));
      // already sorted: a prefix
      keepTopCandidates(full, Math.max(1, k - 1));
      assert.equal(full.size, Math.min(n, Math.max(1, k - 1)));
    }
  }
});
