/**
 * Counters for /metrics, in Prometheus's text format (version 0.0.4): requests by endpoint and outcome,
 * prompt and generated tokens, prompt tokens found in a slot's cache, the slots in use and the queue,
 * generation speed and the process's resident memory. Speed is tokens over the time spent decoding them,
 * summed over requests (so concurrent requests on a shared CPU each count their own, slower, steps).
 * Nothing here times anything.
 */

export interface Metrics {
  request(endpoint: string, status: number): void;
  tokens(t: { prompt: number; reused: number; generated: number; decodeTokens: number; decodeMs: number }): void;
  /** The Prometheus text, with the live gauges read now. */
  render(live: { busySlots: number; totalSlots: number; queued: number; rssBytes: number }): string;
}

export function createMetrics(): Metrics {
  const requests = new Map<string, number>(); // "endpoint\tstatus" → count
  let promptTokens = 0, reusedTokens = 0, generatedTokens = 0, decodeTokens = 0, decodeMs = 0;
  return {
    request(endpoint, status) {
      const key = `${endpoint}\t${status}`;
      requests.set(key, (requests.get(key) ?? 0) + 1);
    },
    tokens(t) {
      promptTokens += t.prompt;
      reusedTokens += t.reused;
      generatedTokens += t.generated;
      decodeTokens += t.decodeTokens;
      decodeMs += t.decodeMs;
    },
    render(live) {
      const lines: string[] = [];
      const metric = (name: string, type: "counter" | "gauge", help: string, samples: readonly [string, number][]) => {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
        for (const [labels, v] of samples) lines.push(`${name}${labels} ${Number.isFinite(v) ? v : 0}`);
      };
      const byRoute = [...requests].sort(([a], [b]) => a.localeCompare(b)).map(([key, v]): [string, number] => {
        const [endpoint, status] = key.split("\t");
        return [`{endpoint="${endpoint ?? ""}",status="${status ?? ""}"}`, v];
      });
      metric("peel_requests_total", "counter", "HTTP requests answered, by endpoint and status.", byRoute);
      metric("peel_prompt_tokens_total", "counter", "Prompt tokens of generation requests.", [["", promptTokens]]);
      metric("peel_prompt_tokens_cached_total", "counter", "Prompt tokens found in a slot's KV cache (not evaluated again).", [["", reusedTokens]]);
      metric("peel_generated_tokens_total", "counter", "Tokens generated.", [["", generatedTokens]]);
      metric("peel_decode_seconds_total", "counter", "Time spent evaluating generated tokens.", [["", decodeMs / 1000]]);
      metric("peel_tokens_per_second", "gauge", "Generated tokens per second of decoding, over all requests so far.", [["", decodeMs > 0 ? (decodeTokens * 1000) / decodeMs : 0]]);
      metric("peel_slots_busy", "gauge", "Slots serving a request.", [["", live.busySlots]]);
      metric("peel_slots_total", "gauge", "Slots (--parallel).", [["", live.totalSlots]]);
      metric("peel_queue_depth", "gauge", "Requests waiting for a slot.", [["", live.queued]]);
      metric("process_resident_memory_bytes", "gauge", "Resident memory of the server process (the wasm heap included).", [["", live.rssBytes]]);
      return `${lines.join("\n")}\n`;
    },
  };
}
