/**
 * The tokenizer playground: the text as several tokenizers split it, side by side (the model's own, the
 * tokenizers shipped with the app, and any tokenizer file the user adds), with ids, pieces, counts and the
 * span of text each token covers; and, for merge-ranked BPE, the merge-by-merge trace of every word (the
 * bytes, then each merge by rank until no ranked pair is left). Every split comes from the engine.
 */
import { useEffect, useState } from "preact/hooks";
import type { MergeRows, TokenizeResult } from "peel";
import type { Engine } from "../engine/engine";
import { visible } from "./format";

const COLORS = ["#fde68a", "#bfdbfe", "#bbf7d0", "#fecaca", "#ddd6fe", "#fed7aa"];

interface Shelf { readonly loaded: readonly string[]; readonly available: readonly string[] }

function Chips({ name, result, offsetsOf }: { readonly name: string; readonly result: TokenizeResult; readonly offsetsOf: string }) {
  return (
    <div class="tokenizer-row" data-testid="tokenizer-row" data-tokenizer={name}>
      <h4>{name === "model" ? "the model's tokenizer" : name}: <strong data-testid={name === "model" ? "token-count" : "compare-count"}>{result.count}</strong> tokens</h4>
      <div class="chips" data-testid={name === "model" ? "token-chips" : "compare-chips"}>
        {result.tokens.map((t, i) => (
          <span key={i} class="chip" style={{ background: COLORS[i % COLORS.length] }} data-testid={name === "model" ? "token" : "compare-token"} data-id={t.id} data-piece={t.piece}
            title={`id ${t.id} · piece ${JSON.stringify(t.piece)} · ${offsetsOf} [${result.offsets[i]?.[0]}, ${result.offsets[i]?.[1]})`}>
            <span class="chip-text">{visible(t.text)}</span>
            <span class="chip-id">{t.id}</span>
          </span>
        ))}
      </div>
    </div>
  );
}

function MergeTrace({ trace }: { readonly trace: MergeRows }) {
  if (!trace.supported) return <p class="muted">This tokenizer ({trace.kind}) is not merge-ranked BPE; its split has no merge trace.</p>;
  return (
    <div class="merges" data-testid="merge-trace">
      {trace.words.map((w, i) => (
        <details key={i} open={i < 3} data-testid="merge-word">
          <summary><code>{visible(w.word)}</code> → {w.ids.length} token{w.ids.length === 1 ? "" : "s"}{w.whole ? " (the whole word is a piece: no merges)" : `, ${w.rows.length - 1} merges`}</summary>
          <table class="numbers">
            <tbody>
              {w.rows.map((r, j) => (
                <tr key={j} data-testid="merge-row">
                  <td class="muted">{r.merge === null ? "bytes" : `rank ${r.merge.rank}`}</td>
                  <td>{r.merge === null ? "" : <code>{r.merge.left} + {r.merge.right}</code>}</td>
                  <td>{r.pieces.map((p, k) => <span key={k} class={r.merge !== null && k === r.merge.at ? "piece merged" : "piece"}>{p}</span>)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ))}
    </div>
  );
}

export function TokensView({ engine }: { readonly engine: Engine }) {
  const [text, setText] = useState("Once upon a time, there was a little girl named Lily.\nShe loved to play outside!");
  const [special, setSpecial] = useState(true);
  const [shelf, setShelf] = useState<Shelf>({ loaded: ["model"], available: [] });
  const [shown, setShown] = useState<readonly string[]>(["model"]);
  const [results, setResults] = useState<ReadonlyMap<string, TokenizeResult>>(new Map());
  const [trace, setTrace] = useState<MergeRows | undefined>(undefined);
  const [traced, setTraced] = useState("model");
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState<string | undefined>(undefined);

  useEffect(() => { engine.call<Shelf>("tokenizers").then(setShelf, (e: Error) => setError(e.message)); }, [engine]);
  useEffect(() => {
    let live = true;
    Promise.all(shown.map(async (name) => [name, await engine.call<TokenizeResult>("tokenize", { text, addSpecial: special, tokenizer: name })] as const))
      .then((rs) => { if (live) { setResults(new Map(rs)); setError(undefined); } })
      .catch((e: Error) => { if (live) setError(e.message); });
    engine.call<MergeRows>("mergeTrace", { text, tokenizer: traced }).then((t) => { if (live) setTrace(t); }, () => {});
    return () => { live = false; };
  }, [engine, text, special, shown, traced]);

  const load = async (name: string) => {
    setLoading(name);
    try {
      setShelf(await engine.call<Shelf>("loadTokenizer", { name }));
      setShown([...shown, name]);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setLoading(undefined);
    }
  };
  const addFile = async (e: Event) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file === undefined || engine.addTokenizer === undefined) return;
    try {
      setShelf((await engine.addTokenizer(file)) as Shelf);
      setShown([...shown, file.name]);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <div data-testid="view-tokens">
      <textarea data-testid="tokenize-input" rows={4} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      <div class="controls">
        <label><input type="checkbox" checked={special} onChange={(e) => setSpecial((e.target as HTMLInputElement).checked)} /> add BOS/EOS as each tokenizer does</label>
        {shelf.loaded.filter((n) => n !== "model").map((n) => (
          <label key={n}><input type="checkbox" checked={shown.includes(n)} onChange={(e) => setShown((e.target as HTMLInputElement).checked ? [...shown, n] : shown.filter((x) => x !== n))} /> {n}</label>
        ))}
        {shelf.available.map((n) => (
          <button key={n} data-testid={`load-tokenizer-${n}`} disabled={loading !== undefined} onClick={() => void load(n)}>{loading === n ? `loading ${n}…` : `+ ${n}`}</button>
        ))}
        {engine.addTokenizer !== undefined && <label class="file-button">+ tokenizer file <input type="file" data-testid="tokenizer-file" accept=".json,.gguf" onChange={(e) => void addFile(e)} /></label>}
      </div>
      {error !== undefined && <p class="error">{error}</p>}
      {shown.map((name) => { const r = results.get(name); return r === undefined ? null : <Chips key={name} name={name} result={r} offsetsOf="text" />; })}
      <h3>Merge by merge <select value={traced} onChange={(e) => setTraced((e.target as HTMLSelectElement).value)}>{shelf.loaded.map((n) => <option key={n} value={n}>{n}</option>)}</select></h3>
      {trace !== undefined && <MergeTrace trace={trace} />}
      {results.get("model") !== undefined && (
        <>
          <h3>Ids (the model's tokenizer)</h3>
          <pre class="ids" data-testid="token-ids">{JSON.stringify(results.get("model")?.ids)}</pre>
        </>
      )}
    </div>
  );
}
