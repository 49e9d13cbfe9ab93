/** Where a user gives the in-page engine a model: drop files anywhere, or pick a file or a folder. */
import { useEffect, useState } from "preact/hooks";

export function DropZone(props: { readonly onFiles: (files: readonly File[]) => void }) {
  const [over, setOver] = useState(false);
  useEffect(() => {
    const enter = (e: DragEvent) => { e.preventDefault(); setOver(true); };
    const leave = () => setOver(false);
    const drop = (e: DragEvent) => {
      e.preventDefault();
      setOver(false);
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length > 0) props.onFiles(files);
    };
    window.addEventListener("dragover", enter);
    window.addEventListener("dragleave", leave);
    window.addEventListener("drop", drop);
    return () => {
      window.removeEventListener("dragover", enter);
      window.removeEventListener("dragleave", leave);
      window.removeEventListener("drop", drop);
    };
  }, [props.onFiles]);
  const pick = (e: Event) => {
    const files = [...((e.target as HTMLInputElement).files ?? [])];
    if (files.length > 0) props.onFiles(files);
  };
  return (
    <div class={over ? "drop over" : "drop"}>
      <label>Open model file <input type="file" data-testid="file-input" accept=".gguf,.bin" multiple onChange={pick} /></label>
      <label>Open HF folder <input type="file" data-testid="folder-input" {...{ webkitdirectory: "" }} multiple onChange={pick} /></label>
      <span class="muted">or drop a .gguf here</span>
    </div>
  );
}
