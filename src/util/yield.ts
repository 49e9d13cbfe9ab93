/**
 * Lets the event loop run (timers, I/O, abort events) between generation steps without the ≥1 ms clamp of
 * setTimeout: setImmediate in Node, a MessageChannel round trip in browsers.
 */

type Immediate = (cb: () => void) => unknown;

export function yieldToEventLoop(): Promise<void> {
  const setImmediateFn = (globalThis as { setImmediate?: Immediate }).setImmediate;
  if (setImmediateFn !== undefined) return new Promise((resolve) => { setImmediateFn(resolve); });
  if (typeof MessageChannel !== "undefined") {
    return new Promise((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => { ch.port1.close(); resolve(); };
      ch.port2.postMessage(0);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}
