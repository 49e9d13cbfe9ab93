/**
 * The token-embedding table as a space: nearest neighbours of a word (cosine; a word of several tokens is
 * their mean), arithmetic a − b + c with the inputs left out of the answer, and a 2-D PCA of chosen words.
 * All from the engine's `neighbours`, `analogy` and `project` calls.
 */
import { useState } from "preact/hooks";
import type { ProbLike, TokenView } from "peel";
import type { Engine } from "../engine/engine";
import { scatter } from "../plots/charts";
import { Figure } from "../plots/figure";
import { visible } from "./format";

interface Projection { readonly labels: readonly string[]; readonly points: ReadonlyArray<readonly [number, number]>; readonly variance: readonly [number, number] }

function Neighbours({ list, testId }: { readonly list: readonly ProbLike[]; readonly testId: string }) {
  return (
    <table class="numbers" data-testid={testId}>
      <thead><tr><th>token</th><th>id</th><th>cosine</th></tr></thead>
      <tbody>{list.map((n) => <tr key={n.id} data-id={n.id} data-similarity={n.similarity}><td><code>{visible(n.text)}</code></td><td>{n.id}</td><td>{n.similarity.toFixed(4)}</td></tr>)}</tbody>
    </table>
  );
}

export function EmbeddingsView({ engine }: { readonly engine: Engine }) {
  const [word, setWord] = useState("girl");
  const [near, setNear] = useState<ProbLike[] | undefined>(undefined);
  const [abc, setAbc] = useState<[string, string, string]>(["girl", "boy", "he"]);
  // Byte-level BPE and SentencePiece vocabularies store a word as it appears inside a sentence, with its space.
  const [spaced, setSpaced] = useState(true);
  const mode = spaced ? "in-sentence" : "as-typed";
  const [analogy, setAnalogy] = useState<{ excluded: readonly TokenView[]; neighbours: ProbLike[] } | undefined>(undefined);
  const [words, setWords] = useState("boy, girl, man, woman, cat, dog, bird, red, blue, green, happy, sad");
  const [proj, setProj] = useState<Projection | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  const run = (f: () => Promise<void>) => { f().then(() => setError(undefined), (e: Error) => setError(e.message)); };

  return (
    <div data-testid="view-embeddings">
      {error !== undefined && <p class="error" data-testid="embeddings-error">{error}</p>}
      <label class="muted"><input type="checkbox" data-testid="spaced" checked={spaced} onChange={(e) => setSpaced((e.target as HTMLInputElement).checked)} />
        {" "}read words as they appear inside a sentence (with the leading space most vocabularies store)</label>
      <section>
        <h3>Nearest neighbours</h3>
        <div class="controls">
          <input data-testid="neighbour-word" value={word} onInput={(e) => setWord((e.target as HTMLInputElement).value)} />
          <button data-testid="neighbour-run" onClick={() => run(async () => setNear(await engine.call<ProbLike[]>("neighbours", { query: word, k: 12, words: mode })))}>Find</button>
        </div>
        {near !== undefined && <Neighbours list={near} testId="neighbours" />}
      </section>
      <section>
        <h3>Arithmetic: a − b + c</h3>
        <div class="controls">
          {abc.map((v, i) => (
            <span key={i}>{i === 1 ? " − " : i === 2 ? " + " : ""}<input data-testid={`analogy-${"abc"[i]}`} size={10} value={v}
              onInput={(e) => { const next = [...abc] as [string, string, string]; next[i] = (e.target as HTMLInputElement).value; setAbc(next); }} /></span>
          ))}
          <button data-testid="analogy-run" onClick={() => run(async () => setAnalogy(await engine.call("analogy", { a: abc[0], b: abc[1], c: abc[2], k: 12, words: mode })))}>≈ ?</button>
        </div>
        {analogy !== undefined && (
          <>
            <p class="muted">Left out of the answer (the inputs' tokens): {analogy.excluded.map((t) => visible(t.text)).join(", ")}</p>
            <Neighbours list={analogy.neighbours} testId="analogy-result" />
          </>
        )}
      </section>
      <section>
        <h3>Projection (PCA of the embeddings)</h3>
        <div class="controls">
          <input data-testid="pca-words" size={70} value={words} onInput={(e) => setWords((e.target as HTMLInputElement).value)} />
          <button data-testid="pca-run" onClick={() => run(async () => setProj(await engine.call<Projection>("project", { queries: words.split(",").map((x) => x.trim()).filter((x) => x !== ""), words: mode })))}>Project</button>
        </div>
        {proj !== undefined && (
          <Figure testId="pca-chart" deps={[proj]} make={() => scatter(proj.labels.map((l, i) => ({ label: l, x: proj.points[i]?.[0] ?? 0, y: proj.points[i]?.[1] ?? 0 })),
            { xLabel: `PC1 (variance ${proj.variance[0].toFixed(3)})`, yLabel: `PC2 (variance ${proj.variance[1].toFixed(3)})` })} />
        )}
      </section>
    </div>
  );
}
