// Stop strings over text that arrives in pieces, checked by hand: held-back text, a stop spanning pieces,
// a false start released, the earliest of several stops, and flush at the end.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createStopMatcher } from "./stop-strings.js";

test("a stop string split across pieces is caught, and nothing of it is shown", () => {
  const m = createStopMatcher(["<|im_end|>"]);
  assert.deepEqual(m.push("Hello <|im"), { text: "Hello ", stopped: false }); // "<|im" could start the stop
  assert.deepEqual(m.push("_en"), { text: "", stopped: false });
  assert.deepEqual(m.push("d|> tail"), { text: "", stopped: true });
  assert.deepEqual(m.push("more"), { text: "", stopped: true });
});

test("a false start is released once it cannot be a stop any more", () => {
  const m = createStopMatcher(["END"]);
  assert.deepEqual(m.push("the EN"), { text: "the ", stopped: false });
  assert.deepEqual(m.push("D"), { text: "", stopped: true });
  const n = createStopMatcher(["END"]);
  assert.deepEqual(n.push("ENZ"), { text: "ENZ", stopped: false });
  assert.deepEqual(n.push("E"), { text: "", stopped: false });
  assert.equal(n.flush(), "E");
});

test("the earliest of several stops wins; no stops passes text through", () => {
  const m = createStopMatcher(["cd", "b"]);
  assert.deepEqual(m.push("abcd"), { text: "a", stopped: true });
  const none = createStopMatcher([]);
  assert.deepEqual(none.push("anything <|"), { text: "anything <|", stopped: false });
  assert.throws(() => createStopMatcher([""]));
});
