/**
 * The table of storage types: one record per type with its block geometry.
 * Ids are ggml's tensor type ids (they are also what GGUF files store). Pure data: no conversion code here.
 */

export type DType =
  | "F32" | "F16" | "BF16"
  | "Q4_0" | "Q4_1" | "Q5_0" | "Q5_1" | "Q8_0" | "Q8_1"
  | "Q2_K" | "Q3_K" | "Q4_K" | "Q5_K" | "Q6_K" | "Q8_K"
  | "IQ4_NL" | "IQ4_XS";

export interface DTypeInfo {
  readonly name: DType;
  /** ggml / GGUF type id. */
  readonly ggmlId: number;
  /** Elements per block (1 for plain float types). */
  readonly blockElems: number;
  /** Bytes per block. */
  readonly blockBytes: number;
  /** True for block-quantized types. */
  readonly quantized: boolean;
}

function info(name: DType, ggmlId: number, blockElems: number, blockBytes: number): DTypeInfo {
  return { name, ggmlId, blockElems, blockBytes, quantized: blockElems > 1 };
}

export const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  F32: info("F32", 0, 1, 4),
  F16: info("F16", 1, 1, 2),
  Q4_0: info("Q4_0", 2, 32, 18),
  Q4_1: info("Q4_1", 3, 32, 20),
  Q5_0: info("Q5_0", 6, 32, 22),
  Q5_1: info("Q5_1", 7, 32, 24),
  Q8_0: info("Q8_0", 8, 32, 34),
  Q8_1: info("Q8_1", 9, 32, 36),
  Q2_K: info("Q2_K", 10, 256, 84),
  Q3_K: info("Q3_K", 11, 256, 110),
  Q4_K: info("Q4_K", 12, 256, 144),
  Q5_K: info("Q5_K", 13, 256, 176),
  Q6_K: info("Q6_K", 14, 256, 210),
  Q8_K: info("Q8_K", 15, 256, 292),
  IQ4_NL: info("IQ4_NL", 20, 32, 18),
  IQ4_XS: info("IQ4_XS", 23, 256, 136),
  BF16: info("BF16", 30, 1, 2),
};

/** Names of ggml types Peel recognises but cannot compute with; used to word "unsupported" errors. */
export const KNOWN_UNSUPPORTED_GGML_TYPES: Readonly<Record<number, string>> = {
  16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 21: "IQ3_S", 22: "IQ2_S",
  24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 34: "TQ1_0", 35: "TQ2_0",
};

const BY_GGML_ID = new Map<number, DType>(Object.values(DTYPES).map((d) => [d.ggmlId, d.name]));

export function dtypeFromGgmlId(id: number): DType | undefined {
  return BY_GGML_ID.get(id);
}

export function isDType(name: string): name is DType {
  return Object.prototype.hasOwnProperty.call(DTYPES, name);
}

/** Bytes needed for `nElems` consecutive elements; `nElems` must be a multiple of the block size. */
export function byteSize(dtype: DType, nElems: number): number {
  const d = DTYPES[dtype];
  return (nElems / d.blockElems) * d.blockBytes;
}
