// Runs one llama.cpp decode and writes every contiguous f32 tensor its graph computes to DIR/<name>.f32 (raw
// little-endian floats), listing them in DIR/index.txt as "name ne0 ne1 ne2 ne3" in the order computed (a name
// that repeats, such as Qcur-0 before and after RoPE, keeps its last tensor). Used by scripts/tensor-diff.ts.
// Usage: tensor-dump MODEL DIR FLASH(0|1) SPLIT ID...  — ids[0..SPLIT) are decoded first without dumping, then
// the rest as one batch (SPLIT = n − 1 compares a single decode step after a prompt).
#include "llama.h"
#include "ggml.h"
#include "ggml-backend.h"
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

struct Sink { std::string dir; FILE * index; bool on; };

static bool on_tensor(struct ggml_tensor * t, bool ask, void * user) {
  if (ask) return true; // every tensor
  Sink * s = (Sink *) user;
  if (!s->on || t->type != GGML_TYPE_F32 || !ggml_is_contiguous(t)) return true;
  std::vector<float> buf(ggml_nelements(t));
  ggml_backend_tensor_get(t, buf.data(), 0, ggml_nbytes(t));
  std::string name = t->name;
  for (char & c : name) if (c == '/' || c == ' ' || c == '(' || c == ')') c = '_';
  FILE * f = fopen((s->dir + "/" + name + ".f32").c_str(), "wb");
  if (f == nullptr) return false;
  fwrite(buf.data(), sizeof(float), buf.size(), f);
  fclose(f);
  fprintf(s->index, "%s %lld %lld %lld %lld\n", name.c_str(), (long long) t->ne[0], (long long) t->ne[1], (long long) t->ne[2], (long long) t->ne[3]);
  return true;
}

int main(int argc, char ** argv) {
  if (argc < 6) { fprintf(stderr, "usage: tensor-dump MODEL DIR FLASH SPLIT ID...\n"); return 2; }
  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model * model = llama_model_load_from_file(argv[1], mp);
  if (model == nullptr) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
  Sink sink{argv[2], fopen((std::string(argv[2]) + "/index.txt").c_str(), "w"), false};
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 256; cp.n_batch = 256; cp.n_ubatch = 256; cp.n_threads = 1; cp.n_threads_batch = 1;
  cp.flash_attn_type = atoi(argv[3]) ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  cp.cb_eval = on_tensor; cp.cb_eval_user_data = &sink;
  llama_context * ctx = llama_init_from_model(model, cp);
  std::vector<llama_token> ids;
  for (int i = 5; i < argc; i++) ids.push_back(atoi(argv[i]));
  int split = atoi(argv[4]);
  if (split > 0 && llama_decode(ctx, llama_batch_get_one(ids.data(), split)) != 0) { fprintf(stderr, "decode failed\n"); return 1; }
  sink.on = true;
  if (llama_decode(ctx, llama_batch_get_one(ids.data() + split, (int) ids.size() - split)) != 0) { fprintf(stderr, "decode failed\n"); return 1; }
  fclose(sink.index);
  llama_free(ctx);
  llama_model_free(model);
  return 0;
}
