// Instantiates a kernels module (default: the relaxed build) so that V8 prints its machine code, and lists
// which function index each export is. A tool for reading what the optimizing compiler made of a kernel:
//   node --experimental-wasm-relaxed-simd --no-liftoff --no-wasm-lazy-compilation --print-wasm-code \
//     scripts/wasm-code.mjs [dist/peel-kernels-relaxed.wasm] > code.txt
// The machine code goes to stdout (one "name: wasm-function[i]" block per function), the export map to stderr.
import { readFileSync } from "node:fs";

const path = process.argv[2] ?? new URL("../dist/peel-kernels-relaxed.wasm", import.meta.url);
const bytes = readFileSync(path);
const module = new WebAssembly.Module(bytes);
const imports = {};
for (const imp of WebAssembly.Module.imports(module)) {
  imports[imp.module] ??= {};
  if (imp.kind === "memory") imports[imp.module][imp.name] = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
  else if (imp.kind === "function") imports[imp.module][imp.name] = () => {};
}
new WebAssembly.Instance(module, imports);

// export section (id 7): name → function index, read with a minimal LEB128 reader
let p = 8;
const leb = () => { let r = 0, shift = 0, b; do { b = bytes[p++]; r |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80); return r >>> 0; };
const names = [];
while (p < bytes.length) {
  const id = bytes[p++], size = leb(), end = p + size;
  if (id === 7) {
    for (let n = leb(), i = 0; i < n; i++) {
      const len = leb(), name = bytes.subarray(p, p + len).toString();
      p += len;
      const kind = bytes[p++], index = leb();
      if (kind === 0) names.push([index, name]);
    }
  }
  p = end;
}
for (const [index, name] of names.sort((a, b) => a[0] - b[0])) console.error(`wasm-function[${index}]\t${name}`);
