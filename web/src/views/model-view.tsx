/**
 * The architecture diagram, drawn from the loaded model's config: the pipeline from tokens to the sampler,
 * one block's sub-stages with their sizes, the choices this family makes (as `peel info` words them), and
 * parameters per stage. Everything comes from the engine's `info` call.
 */
import type { InspectorInfo } from "peel";
import { barChart } from "../plots/charts";
import { Figure } from "../plots/figure";
import { bytes, count } from "./format";

function Box(props: { readonly title: string; readonly detail: string; readonly kind?: string }) {
  return (
    <div class={`box ${props.kind ?? ""}`}>
      <strong>{props.title}</strong>
      <span>{props.detail}</span>
    </div>
  );
}

export function ModelView({ info }: { readonly info: InspectorInfo }) {
  const h = info.hyperparameters;
  const num = (k: string): number => (typeof h[k] === "number" ? (h[k] as number) : 0);
  const choice = (k: string): string => info.choices.find(([c]) => c === k)?.[1] ?? "";
  const sliding = info.windows.filter((w) => w > 0).length;
  const postNorms = h["postNorms"] === true;
  const params = (stage: string) => info.parameters.find((p) => p.stage === stage);
  return (
    <div class="model-view" data-testid="view-model">
      <h2>{info.name}</h2>
      <p class="muted">{info.format.toUpperCase()} · {info.architecture} · {info.role} · {count(info.totalParameters)} parameters · weights {bytes(info.weightBytes)} · KV cache {bytes(info.kvCacheBytes)} (F16, full context {num("contextLength")})</p>
      <div class="diagram" data-testid="diagram">
        <Box title="Text → tokens" detail={`${info.tokenizer.kind} tokenizer, ${info.tokenizer.vocabSize} tokens`} />
        <Box title="Token embedding" detail={`(${num("vocabSize")} × ${num("dim")}) · ${choice("embedding")}`} kind="embed" />
        <div class="block" data-testid="block">
          <div class="block-title">× {num("nLayers")} blocks ({choice("residual")} residual{sliding > 0 ? `; ${sliding} of ${info.windows.length} layers slide` : ""})</div>
          <Box title={`${h["norm"] === "layer" ? "LayerNorm" : "RMSNorm"}`} detail={choice("norm")} kind="norm" />
          <Box title="Self-attention" detail={`${choice("attention")}; q (${num("dim")}→${num("nHeads") * num("headDim")}), k/v (${num("dim")}→${num("kvDim")}); ${choice("position")}; ${choice("window")}`} kind="attn" />
          {postNorms && <Box title="Post-attention norm" detail="normalises the attention output before the residual add" kind="norm" />}
          <Box title="+ residual" detail={`stream width ${num("dim")}`} kind="add" />
          <Box title={`${h["norm"] === "layer" ? "LayerNorm" : "RMSNorm"}`} detail="before the feed-forward" kind="norm" />
          <Box title="Feed-forward" detail={`${choice("feed-forward")}: ${num("dim")} → ${num("hiddenDim")} → ${num("dim")}`} kind="ffn" />
          {postNorms && <Box title="Post-FFN norm" detail="normalises the feed-forward output before the residual add" kind="norm" />}
          <Box title="+ residual" detail={`stream width ${num("dim")}`} kind="add" />
        </div>
        <Box title="Final norm" detail={`(${num("dim")})`} kind="norm" />
        <Box title="LM head" detail={`(${num("dim")} → ${num("vocabSize")}) · ${choice("head")}`} kind="head" />
        <Box title="Softmax → sampler" detail="temperature, top-k, top-p, min-p… (see Generate)" />
      </div>
      <h3>Choices</h3>
      <table class="choices" data-testid="choices">
        <tbody>{info.choices.map(([k, v]) => <tr key={k}><th>{k}</th><td>{v}</td></tr>)}</tbody>
      </table>
      <h3>Parameters per stage</h3>
      <Figure testId="params-chart" deps={[info]} make={() => barChart(info.parameters.map((p) => ({ label: p.stage, value: p.count })), { xLabel: "parameters" })} />
      <table class="numbers">
        <thead><tr><th>stage</th><th>parameters</th><th>tensors</th><th>bytes</th></tr></thead>
        <tbody>{info.parameters.map((p) => <tr key={p.stage}><td>{p.stage}</td><td>{count(p.count)}</td><td>{p.tensors}</td><td>{bytes(p.bytes)}</td></tr>)}</tbody>
      </table>
      {params("head") === undefined && <p class="muted">The LM head has no tensor of its own: it is the token embedding, transposed.</p>}
      <h3>Hyperparameters</h3>
      <table class="choices">
        <tbody>{Object.entries(h).map(([k, v]) => <tr key={k}><th>{k}</th><td>{String(v)}</td></tr>)}</tbody>
      </table>
    </div>
  );
}
