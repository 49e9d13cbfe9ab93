/**
 * The tokenizer playground: the text as the model's tokenizer splits it (pieces coloured in turn, with ids
 * and the span of text each covers), the count, and the ids as a list to copy. Pieces are the vocabulary's
 * own strings (Ġ / ▁ for spaces); the text row shows what each token decodes to.
 */
import { useEffect, useState } from "preact/hooks";
import type { TokenizeResult } from "peel";
import type { Engine } from "../engine/engine";
import { visible } from "./format";

const COLORS = ["#fde68a", "#bfdbfe", "#bbf7d0", "#fecaca", "#ddd6fe", "#fed7aa"];

export function TokensView({ engine }: { readonly engine: Engine }) {
  const [text, setText] = useState("Once upon a time, there was a little girl named Lily.\nShe loved to play outside!");
  const [special, setSpecial] = useState(true);
  const [result, setResult] = useState<TokenizeResult | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    let live = true;
    engine.call<TokenizeResult>("tokenize", { text, addSpecial: special })
      .then((r) => { if (live) { setResult(r); setError(undefined); } })
      .catch((e: Error) => { if (live) setError(e.message); });
    return () => { live = false; };
  }, [engine, text, special]);

  return (
    <div data-testid="view-tokens">
      <textarea data-testid="tokenize-input" rows={4} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      <label><input type="checkbox" checked={special} onChange={(e) => setSpecial((e.target as HTMLInputElement).checked)} /> add BOS/EOS as the model does</label>
      {error !== undefined && <p class="error">{error}</p>}
      {result !== undefined && (
        <>
          <p><strong data-testid="token-count">{result.count}</strong> tokens for {text.length} characters</p>
          <div class="chips" data-testid="token-chips">
            {result.tokens.map((t, i) => (
              <span key={i} class="chip" style={{ background: COLORS[i % COLORS.length] }} data-testid="token" data-id={t.id} data-piece={t.piece}
                title={`id ${t.id} · piece ${JSON.stringify(t.piece)} · text [${result.offsets[i]?.[0]}, ${result.offsets[i]?.[1]})`}>
                <span class="chip-text">{visible(t.text)}</span>
                <span class="chip-id">{t.id}</span>
              </span>
            ))}
          </div>
          <h3>Ids</h3>
          <pre class="ids" data-testid="token-ids">{JSON.stringify(result.ids)}</pre>
          <h3>Pieces</h3>
          <table class="numbers">
            <thead><tr><th>#</th><th>id</th><th>piece</th><th>text</th><th>span</th></tr></thead>
            <tbody>{result.tokens.map((t, i) => <tr key={i}><td>{i}</td><td>{t.id}</td><td><code>{t.piece}</code></td><td><code>{visible(t.text)}</code></td><td>{result.offsets[i]?.join("–")}</td></tr>)}</tbody>
          </table>
        </>
      )}
    </div>
  );
}
