// The T5 reference runner behind `npm run refs:t5` (scripts/refs-t5.mjs): loads a T5 GGUF with llama.cpp's
// library, encodes the given input ids, then decodes greedily from the decoder start token, printing one
// JSON object per decoder step: the greedy id and the top-k ids with their probabilities (softmax of the raw
// logits in double). It also prints llama.cpp's tokenization of each text given with --text. Flash attention
// is off (llama.cpp never uses it for T5's biased self-attention; this keeps the cross-attention standard
// too). Peel's own code is not involved; this file only drives llama.cpp.
#include "llama.h"
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static void quiet(enum ggml_log_level, const char *, void *) {}

static std::string json_escape(const std::string & s) {
    std::string o;
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') { o += '\\'; o += (char) c; }
        else if (c < 0x20) { char b[8]; snprintf(b, sizeof b, "\\u%04x", c); o += b; }
        else o += (char) c;
    }
    return o;
}

int main(int argc, char ** argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.gguf IDS(comma-separated) STEPS [TOPK] [--text TEXT]...\n", argv[0]);
        return 2;
    }
    const char * path = argv[1];
    std::vector<llama_token> input;
    for (const char * p = argv[2]; *p; ) {
        input.push_back((llama_token) strtol(p, (char **) &p, 10));
        if (*p == ',') p++;
    }
    const int steps = atoi(argv[3]);
    int topk = 5;
    std::vector<std::string> texts;
    const char * lines_path = nullptr;
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--text") == 0 && i + 1 < argc) texts.push_back(argv[++i]);
        else if (strcmp(argv[i], "--lines") == 0 && i + 1 < argc) lines_path = argv[++i];
        else topk = atoi(argv[i]);
    }
    if (!getenv("T5_REF_VERBOSE")) llama_log_set(quiet, nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    llama_model * model = llama_model_load_from_file(path, mp);
    if (!model) { fprintf(stderr, "cannot load %s\n", path); return 1; }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    for (const auto & t : texts) {
        std::vector<llama_token> ids(t.size() + 16);
        int n = llama_tokenize(vocab, t.c_str(), (int32_t) t.size(), ids.data(), (int32_t) ids.size(), true, false);
        if (n < 0) { fprintf(stderr, "tokenize failed\n"); return 1; }
        printf("{\"text\":\"%s\",\"ids\":[", json_escape(t).c_str());
        for (int i = 0; i < n; i++) printf("%s%d", i ? "," : "", ids[i]);
        printf("]}\n");
    }
    if (lines_path) { // one line of ids per input record, no JSON
        FILE * f = fopen(lines_path, "rb");
        if (!f) { fprintf(stderr, "cannot open %s\n", lines_path); return 1; }
        std::string all;
        char buf[65536];
        for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0; ) all.append(buf, n);
        fclose(f);
        // records: a decimal byte length, "\n", then that many bytes (lines may hold newlines themselves)
        size_t start = 0;
        while (start < all.size()) {
            size_t nl = all.find('\n', start);
            if (nl == std::string::npos) break;
            const size_t len = strtoul(all.substr(start, nl - start).c_str(), nullptr, 10);
            std::string t = all.substr(nl + 1, len);
            const size_t end = nl + len;
            std::vector<llama_token> ids(t.size() * 2 + 16);
            int n = llama_tokenize(vocab, t.c_str(), (int32_t) t.size(), ids.data(), (int32_t) ids.size(), false, false);
            if (n < 0) { fprintf(stderr, "tokenize failed\n"); return 1; }
            for (int i = 0; i < n; i++) printf("%s%d", i ? "," : "", ids[i]);
            printf("\n");
            start = end + 1;
        }
        return 0;
    }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 512;
    cp.n_batch = 512;
    cp.n_ubatch = 512;
    cp.n_threads = 2;
    cp.n_threads_batch = 2;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "cannot create context\n"); return 1; }
    if (llama_encode(ctx, llama_batch_get_one(input.data(), (int32_t) input.size()))) { fprintf(stderr, "encode failed\n"); return 1; }
    llama_token tok = llama_model_decoder_start_token(model);
    if (tok == LLAMA_TOKEN_NULL) tok = llama_vocab_bos(vocab);
    printf("{\"decoder_start\":%d}\n", tok);
    const int n_vocab = llama_vocab_n_tokens(vocab);
    for (int step = 0; step < steps; step++) {
        if (llama_decode(ctx, llama_batch_get_one(&tok, 1))) { fprintf(stderr, "decode failed\n"); return 1; }
        const float * logits = llama_get_logits_ith(ctx, -1);
        double mx = -INFINITY;
        for (int i = 0; i < n_vocab; i++) mx = std::max(mx, (double) logits[i]);
        double sum = 0;
        for (int i = 0; i < n_vocab; i++) sum += std::exp((double) logits[i] - mx);
        std::vector<int> order(n_vocab);
        for (int i = 0; i < n_vocab; i++) order[i] = i;
        std::partial_sort(order.begin(), order.begin() + topk, order.end(), [&](int a, int b) {
            return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
        });
        printf("{\"step\":%d,\"greedy\":%d,\"top\":[", step, order[0]);
        for (int i = 0; i < topk; i++) {
            printf("%s[%d,%.9g,%.9g]", i ? "," : "", order[i], std::exp((double) logits[order[i]] - mx) / sum, logits[order[i]]);
        }
        printf("]}\n");
        tok = order[0];
    }
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
