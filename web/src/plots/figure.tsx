/**
 * Mounts a chart made by Observable Plot (a function returning an SVG or HTML element) into a Preact tree,
 * replacing it whenever the inputs change. Charts and their axes, scales and legends are Plot's; this file
 * only places the element.
 */
import { useEffect, useRef } from "preact/hooks";

export function Figure(props: { readonly make: () => Element; readonly deps: readonly unknown[]; readonly testId?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const host = ref.current;
    if (host === null) return;
    const el = props.make();
    host.replaceChildren(el);
    return () => el.remove();
  }, props.deps);
  return <div class="figure" ref={ref} data-testid={props.testId} />;
}
