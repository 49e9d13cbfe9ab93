// Runs llama.cpp's own CPU dot-product kernels for Q2_K, Q3_K and IQ4_XS weights on inputs made by a seeded
// xorshift32 stream (test/fixtures/kquant-dots.ts makes the same inputs in TypeScript) and prints each output's
// f32 bits, one JSON object per line. Built and run by scripts/refs-kquants.mjs against llama.cpp's static
// libraries (GGML_NATIVE on an AVX-512 CPU: the code paths the prebuilt zen4 variant of node-llama-cpp runs).
// Q2_K goes through the 8-row repacked gemv/gemm llama.cpp uses for Q2_K on AVX-512 (the weights are
// interleaved as its repack does: make_block_q2_Kx8), Q3_K and IQ4_XS through ggml_vec_dot_*_q8_K.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ggml_cpu_init(void);
void quantize_row_q8_K(const float * x, void * y, int64_t k);
void ggml_quantize_mat_q8_K_4x8(const float * x, void * vy, int64_t k);
void ggml_vec_dot_q3_K_q8_K(int n, float * s, size_t bs, const void * vx, size_t bx, const void * vy, size_t by, int nrc);
void ggml_vec_dot_iq4_xs_q8_K(int n, float * s, size_t bs, const void * vx, size_t bx, const void * vy, size_t by, int nrc);
void ggml_gemv_q2_K_8x8_q8_K(int n, float * s, size_t bs, const void * vx, const void * vy, int nr, int nc);
void ggml_gemm_q2_K_8x8_q8_K(int n, float * s, size_t bs, const void * vx, const void * vy, int nr, int nc);

enum { QK = 256, Q8K_BYTES = 4 + 256 + 32 };

static uint32_t state;
static uint32_t next(void) { state ^= state << 13; state ^= state >> 17; state ^= state << 5; return state; }

// Weight rows: random bytes, then each super-block's f16 scales set to 0x1800 + r % 0x1000 with a random sign.
static void weights(uint8_t * w, int rows, int cols, int bb, int d0, int d1) {
  int nb = cols / QK;
  for (int i = 0; i < rows * nb * bb; i++) w[i] = (uint8_t)(next() & 0xff);
  for (int b = 0; b < rows * nb; b++) {
    for (int k = 0; k < 2; k++) {
      int off = k == 0 ? d0 : d1;
      if (off < 0) continue;
      uint32_t r = next();
      uint16_t h = (uint16_t)(0x1800 + r % 0x1000) | (uint16_t)(r & 0x10000 ? 0x8000 : 0);
      memcpy(w + (size_t)b * bb + off, &h, 2);
    }
  }
}

// Activations: (r >> 8) − 2^23 times 2^-23 times a per-token power of two (exact in f32).
static void activations(float * x, int tokens, int cols) {
  for (int t = 0; t < tokens; t++) {
    float scale = (float)(1 << (t % 5)) / 8.0f;
    for (int i = 0; i < cols; i++) x[t * cols + i] = (float)((int32_t)(next() >> 8) - (1 << 23)) / 8388608.0f * scale;
  }
}

static void print_bits(const char * key, const float * v, int n) {
  printf("\"%s\":[", key);
  for (int i = 0; i < n; i++) { uint32_t b; memcpy(&b, &v[i], 4); printf("%s\"%08x\"", i ? "," : "", b); }
  printf("]");
}

// Q2_K rows → llama.cpp's block_q2_Kx8 layout (8 rows interleaved per super-block).
static void repack_q2k(uint8_t * dst, const uint8_t * src, int rows, int nb) {
  for (int g = 0; g < rows / 8; g++) {
    for (int b = 0; b < nb; b++) {
      const uint8_t * in[8];
      for (int i = 0; i < 8; i++) in[i] = src + ((size_t)(g * 8 + i) * nb + b) * 84;
      uint8_t * o = dst + ((size_t)g * nb + b) * 672;
      for (int i = 0; i < 8; i++) memcpy(o + 2 * i, in[i] + 80, 2);
      for (int i = 0; i < 8; i++) memcpy(o + 16 + 2 * i, in[i] + 82, 2);
      for (int i = 0; i < 128; i++) o[32 + i] = in[(i % 16) / 2][(i / 16) * 2 + (i % 2)];
      for (int i = 0; i < 64; i++) memcpy(o + 160 + 8 * i, in[i % 8] + 16 + (i / 8) * 8, 8);
    }
  }
}

int main(int argc, char ** argv) {
  if (argc < 6) { fprintf(stderr, "usage: kquant-dots TYPE SEED ROWS COLS TOKENS\n"); return 2; }
  const char * type = argv[1];
  state = (uint32_t)strtoul(argv[2], 0, 10);
  int rows = atoi(argv[3]), cols = atoi(argv[4]), tokens = atoi(argv[5]), nb = cols / QK;
  ggml_cpu_init();
  int q2 = strcmp(type, "Q2_K") == 0, q3 = strcmp(type, "Q3_K") == 0;
  int bb = q2 ? 84 : q3 ? 110 : 136;
  uint8_t * w = malloc((size_t)rows * nb * bb);
  float * x = malloc(sizeof(float) * tokens * cols);
  weights(w, rows, cols, bb, q2 ? 80 : q3 ? 108 : 0, q2 ? 82 : -1);
  activations(x, tokens, cols);
  uint8_t * xq = malloc((size_t)tokens * nb * Q8K_BYTES);
  for (int t = 0; t < tokens; t++) quantize_row_q8_K(x + t * cols, xq + (size_t)t * nb * Q8K_BYTES, cols);
  float * one = malloc(sizeof(float) * tokens * rows), * batch = malloc(sizeof(float) * tokens * rows);
  printf("{\"type\":\"%s\",\"seed\":%s,\"rows\":%d,\"cols\":%d,\"tokens\":%d,", type, argv[2], rows, cols, tokens);
  if (q2) {
    uint8_t * rp = malloc((size_t)rows * nb * 84);
    repack_q2k(rp, w, rows, nb);
    for (int t = 0; t < tokens; t++) ggml_gemv_q2_K_8x8_q8_K(cols, one + t * rows, rows, rp, xq + (size_t)t * nb * Q8K_BYTES, 1, rows);
    uint8_t * x4 = malloc((size_t)tokens * nb * Q8K_BYTES);
    int full = tokens - tokens % 4; // llama.cpp's batch: gemm over whole groups of four tokens, gemv for the rest
    for (int t = 0; t < full; t += 4) ggml_quantize_mat_q8_K_4x8(x + t * cols, x4 + (size_t)t * nb * Q8K_BYTES, cols);
    if (full > 0) ggml_gemm_q2_K_8x8_q8_K(cols, batch, rows, rp, x4, full, rows);
    print_bits("gemv", one, tokens * rows); printf(","); print_bits("gemm", batch, full * rows);
  } else {
    for (int t = 0; t < tokens; t++) {
      for (int r = 0; r < rows; r++) {
        const void * wr = w + (size_t)r * nb * bb, * xr = xq + (size_t)t * nb * Q8K_BYTES;
        if (q3) ggml_vec_dot_q3_K_q8_K(cols, one + t * rows + r, 0, wr, 0, xr, 0, 1);
        else ggml_vec_dot_iq4_xs_q8_K(cols, one + t * rows + r, 0, wr, 0, xr, 0, 1);
      }
    }
    print_bits("vecDot", one, tokens * rows);
  }
  printf("}\n");
  return 0;
}
