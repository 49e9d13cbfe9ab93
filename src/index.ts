/**
 * Peel's public API (browser-safe part). Node users import the same names plus `loadModel(path)` from
 * the package root, which resolves to index.node.ts under Node.
 */

export { PeelError, type PeelErrorCode } from "./util/errors.js";
export type { DType } from "./tensor/dtype.js";
export type { Tensor } from "./tensor/tensor.js";

export type { ByteSource } from "./formats/byte-source.js";
export { bytesSource, blobSource } from "./formats/byte-source.js";

export type { Kernels, KvDType } from "./kernels/kernels.js";
export { createTsKernels } from "./kernels/ts/index.js";
export { createWasmKernels, type WasmKernels, type WasmKernelsOptions } from "./kernels/wasm/index.js";
export { createWebGpuKernels, type WebGpuKernels, type WebGpuOptions } from "./kernels/webgpu/index.js";
export type { Gpu } from "./kernels/webgpu/gpu-types.js";

export type { ActivationKind as BlockActivationKind, BiasChoices, EncoderConfig, PoolingKind, ModelConfig, ProjectionLayout, RopeConfig, RopeScaling } from "./model/config.js";
export type { Model, ModelInfo, TensorSummary } from "./model/model.js";
export { loadModelFromSource, loadModelFromFolder, type BackendName, type LoadOptions, type LoadProgress } from "./model/load.js";
export type { FolderSource } from "./model/load-hf.js";
export { createTrace, type Trace, type TapName, type TapRecord } from "./model/trace.js";
export type { Intervention, HeadScale, MlpScale, ResidPatch } from "./model/intervention.js";

export * from "./tokenizer/index.js";

export { createSampler, type Sampler, type SamplingOptions, type SamplerContext } from "./sample/sampler.js";
// structured output (sample/grammar/): GBNF grammars and JSON Schema enforced while sampling
export type { Grammar, GrammarRule, GrammarElement, GrammarSequence, CharSet } from "./sample/grammar/grammar.js";
export { compileGbnf } from "./sample/grammar/gbnf.js";
export { jsonSchemaToGbnf, jsonSchemaToGrammar, jsonObjectGbnf } from "./sample/grammar/json-schema.js";
export { grammarForResponseFormat, jsonObjectGrammar } from "./sample/grammar/response-format.js";
export { createGrammarMatcher, type GrammarMatcher } from "./sample/grammar/matcher.js";
export { grammarStage, type GrammarStage } from "./sample/grammar/grammar-stage.js";
export { tokenTableFor, type TokenSource, type TokenTable } from "./sample/grammar/token-table.js";
export { createSession, type Session, type SessionOptions, type EvaluateOptions, type FlashAttention } from "./generate/session.js";
export { embed, type EmbedOptions } from "./embed/embed.js";
export { embedTokensInSession, embedWithDecoder, type DecoderEmbedOptions } from "./embed/decoder-embed.js";
export { cosineSimilarity, normalizeL2 } from "./embed/pool.js";
export { rerank, type RerankOptions } from "./embed/rerank.js";
export { generate, type GenerateOptions, type Generation, type GeneratedToken, type GeneratedChoice, type FinishReason, type GenerationTimings } from "./generate/generate.js";
export { stepLogprobs, MAX_TOP_LOGPROBS, type StepLogprobs, type TokenLogprob } from "./generate/logprobs.js";
export { createStopMatcher, type StopMatcher } from "./generate/stop-strings.js";

// chat (chat/): templates, built-ins, conversations kept in a session's cache
export { createChatTemplate, type ChatMessage, type ChatTemplate, type ChatTemplateOptions, type RenderOptions } from "./chat/chat-template.js";
export { BUILTIN_TEMPLATE_NAMES, builtinTemplateText, type BuiltinTemplateName } from "./chat/builtin-templates.js";
export { modelChatTemplate, type ChatTemplateChoice } from "./chat/model-template.js";
export {
  createChatSession, tokenizeChat, endOfTurnToken, commonPrefixLength,
  type ChatSession, type ChatSessionOptions, type ChatReply, type ReplyOptions, type TurnStats,
} from "./chat/chat-session.js";

// OpenAI's chat and text completions in-process (server/completion-api.ts, browser-safe; `peel serve` answers
// through the same functions): the same request bodies, checks and answer objects, without a server
export {
  createChatCompletion, createChatCompletionStream, createCompletion, createCompletionStream, type CompletionApiOptions,
} from "./server/completion-api.js";
export { ApiError } from "./server/api-error.js";
export type { ChatCompletion, ChatCompletionChunk, Completion, CompletionChunk } from "./server/openai/responses.js";

// inspect/: looking inside a forward pass (issue 14's engine side; web/ draws these)
export {
  traceForward, ALL_TRACE_TAPS, DEFAULT_TRACE_TAPS,
  type TraceForwardOptions, type ForwardTrace, type LayerTrace, type TraceTapName,
} from "./inspect/trace-forward.js";
export { traceSeq2seq, type Seq2seqTrace, type Seq2seqTraceOptions } from "./inspect/trace-seq2seq.js";
export { attentionRow, kvHeadsOf, type AttentionMap, type FullAttentionMap, type TopKAttentionMap } from "./inspect/attention-map.js";
export { logitLens, type LogitLens, type LogitLensOptions, type LensLayer, type LensCell } from "./inspect/logit-lens.js";
export { streamNorms, rowNorms, type StreamNorms, type LayerNorms } from "./inspect/stream-norms.js";
export { samplerSteps, type SamplerSteps, type StageEffect, type CandidateView } from "./inspect/sampler-steps.js";
export {
  createEmbeddingSpace, type EmbeddingSpace, type EmbeddingQuery, type Neighbour, type NeighbourOptions, type Analogy, type EmbeddingProjection,
} from "./inspect/embeddings.js";
export { pca2d, type Pca2d } from "./inspect/pca.js";
export {
  ablate, patchResidual, compareLogits, type Ablation, type ResidPatchSpec, type DistributionChange, type InterventionRunOptions,
} from "./inspect/interventions.js";
export { softmax64, topTokens, rankOf, klDivergence, type TokenProb } from "./inspect/distribution.js";
export {
  createInspector, type Inspector, type InspectorOptions, type InspectorInfo, type TokenView, type ProbView, type TokenizeResult, type AnalyzeResult,
  type LensCellView, type AttentionView, type InspectStep, type ChangeView, type ProbLike, type ModelRole, type AttentionMapKind,
} from "./inspect/inspector.js";
export { callInspector, INSPECT_METHODS, type InspectMethod } from "./inspect/protocol.js";
export { parameterGroups, stageOfTensor, type ParameterGroup, type ParameterStage } from "./inspect/parameters.js";
export { mergeRows, MODEL_TOKENIZER, type MergeRows, type MergeRowsWord, type TokenizerLibrary } from "./inspect/tokenizer-shelf.js";

export { readSafetensors, readSafetensorsHeader, readSafetensorsTensors, type ReadSafetensorsOptions, type SafetensorsFile } from "./formats/safetensors/read.js";
export { writeSafetensors, type SafetensorsWriteSpec } from "./formats/safetensors/write.js";
export type { SafetensorsHeader, SafetensorsTensorInfo, SafetensorsRawTensor, SafetensorsDType } from "./formats/safetensors/types.js";

// training (train/): configs and parameters, the tape and the batched forward, optimizer, trainer, export
export {
  PRESETS, PRESET_NAMES, validateTrainModelConfig,
  type TrainModelConfig, type PresetName, type NormKind, type PositionKind, type ActivationKind,
} from "./train/model/config.js";
export { createParams, initParams, countParams, type Param, type ModelParams, type LayerParams } from "./train/model/params.js";
export { Tape, type Value } from "./train/autograd/tape.js";
export { forwardLogits, forwardLoss } from "./train/model/forward.js";
export { createAdamW, type AdamW, type AdamWOptions, type AdamWState } from "./train/optim/adamw.js";
export { clipGradNorm } from "./train/optim/clip.js";
export { learningRateAt, type LrSchedule } from "./train/optim/schedule.js";
export { splitTokens, sampleBatch, evalBatches, type Batch, type EvalBatch } from "./train/data/batches.js";
export {
  createTrainer, type Trainer, type TrainHyperparameters, type TrainData, type TrainerSnapshot, type StepResult,
} from "./train/loop/trainer.js";
export { exportLlamaGguf, GGUF_EXPORT_DTYPES, type GgufExportDType, type GgufExportOptions } from "./train/export/gguf.js";
export { exportGguf, ggufArchitectureOf, type GgufArchitecture } from "./train/export/export-gguf.js";
export { exportGpt2Gguf } from "./train/export/gguf-gpt2.js";
export { lossCurveSvg, type LossCurves } from "./train/report/loss-curve-svg.js";
