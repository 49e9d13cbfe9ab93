// Child process of test/threads.test.ts: loads a model with 2 threads, generates, and ends without
// disposing anything — normally ("ok"), or by throwing out of generate ("throw"). The test checks that the
// process exits promptly: pool workers must never keep it alive.
import { loadModel } from "../src/model/load.node.js";
import { generate } from "../src/generate/generate.js";

const [path, mode] = process.argv.slice(2);
const model = await loadModel(path!, { threads: 2 });
const controller = new AbortController();
const gen = generate(model, [1, 450, 1996], { maxTokens: 8, stopAtEog: false, signal: controller.signal });
let n = 0;
for await (const _ of gen) {
  if (mode === "throw" && ++n === 2) controller.abort(); // the next step throws ABORTED out of the loop
}
console.log(`generated ${gen.tokens.length}`);
