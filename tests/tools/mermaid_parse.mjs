// Parse Mermaid diagrams with the real `mermaid` package (v11) the way GitHub's renderer would, under node.
// Mermaid needs a DOM (it sanitizes labels with DOMPurify), so jsdom provides window/document.
// Input: a JSON array of diagram sources on stdin. Output: a JSON array, one {ok, type} or {ok, error}
// per diagram, on stdout. Exit 0 when every diagram parsed, 1 otherwise.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const name of ["DOMParser", "Element", "HTMLElement", "Node", "navigator"]) {
  if (!(name in globalThis)) globalThis[name] = dom.window[name];
}

const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

let input = "";
for await (const chunk of process.stdin) input += chunk;
const diagrams = JSON.parse(input);

const results = [];
for (const source of diagrams) {
  try {
    const parsed = await mermaid.parse(source);
    results.push({ ok: true, type: parsed.diagramType });
  } catch (error) {
    results.push({ ok: false, error: String(error?.message ?? error) });
  }
}
process.stdout.write(JSON.stringify(results));
process.exit(results.every((r) => r.ok) ? 0 : 1);
