/**
 * dst (cols, rows) = src (rows, cols)ᵀ for f32 matrices, in 4×4 tiles moved as SIMD registers (four loads,
 * eight shuffles, four stores) so training's transposed products do not pay a scalar pass over memory.
 */

export function transposeF32(dst: usize, src: usize, rows: i32, cols: i32): void {
  const r4 = rows & ~3, c4 = cols & ~3;
  const srcRow = <usize>cols << 2, dstRow = <usize>rows << 2;
  for (let r = 0; r < r4; r += 4) {
    const s = src + <usize>r * srcRow;
    for (let c = 0; c < c4; c += 4) {
      const o = <usize>c << 2;
      const a = v128.load(s + o), b = v128.load(s + srcRow + o), e = v128.load(s + 2 * srcRow + o), f = v128.load(s + 3 * srcRow + o);
      const ab0 = i32x4.shuffle(a, b, 0, 4, 1, 5), ab1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
      const ef0 = i32x4.shuffle(e, f, 0, 4, 1, 5), ef1 = i32x4.shuffle(e, f, 2, 6, 3, 7);
      const d = dst + <usize>c * dstRow + (<usize>r << 2);
      v128.store(d, i64x2.shuffle(ab0, ef0, 0, 2));
      v128.store(d + dstRow, i64x2.shuffle(ab0, ef0, 1, 3));
      v128.store(d + 2 * dstRow, i64x2.shuffle(ab1, ef1, 0, 2));
      v128.store(d + 3 * dstRow, i64x2.shuffle(ab1, ef1, 1, 3));
    }
  }
  // the ragged edges: rows past the last tile (all columns), then columns past it (tiled rows)
  for (let r = r4; r < rows; r++) for (let c = 0; c < cols; c++) store<f32>(dst + <usize>c * dstRow + (<usize>r << 2), load<f32>(src + <usize>r * srcRow + (<usize>c << 2)));
  for (let r = 0; r < r4; r++) for (let c = c4; c < cols; c++) store<f32>(dst + <usize>c * dstRow + (<usize>r << 2), load<f32>(src + <usize>r * srcRow + (<usize>c << 2)));
}
