// Screenshot HTML pages in ONE headless Chromium session (puppeteer-core drives the system's `chromium`).
// Input on stdin: {"chromium": path, "width": px, "pages": [{"html": path, "png": path, "find": [text, ...]}]}.
// Output on stdout: one entry per page: {"height", "heading": {text, box}, "charts": [{box, plot}],
// "found": {text: box|null}} or
// {"error"}; a box is {x, y, width, height} in page pixels. Exit 0 when every page rendered, 1 otherwise.
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const job = JSON.parse(input);

const browser = await puppeteer.launch({
  executablePath: job.chromium,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--allow-file-access-from-files", "--font-render-hinting=none"],
});
const results = [];
try {
  const page = await browser.newPage();
  await page.setViewport({ width: job.width, height: 800, deviceScaleFactor: 1 });
  for (const item of job.pages) {
    try {
      await page.goto(pathToFileURL(item.html).href, { waitUntil: "load" });
      await page.waitForFunction("window.mermaidDone !== undefined", { timeout: 60000 });
      const failed = await page.evaluate("window.mermaidDone");
      if (failed !== true) throw new Error(`mermaid: ${failed}`);
      const measured = await page.evaluate((needles) => {
        const box = (rect) => ({
          x: rect.left + window.scrollX,
          y: rect.top + window.scrollY,
          width: rect.width,
          height: rect.height,
        });
        const charts = [...document.querySelectorAll("pre.mermaid svg")].map((svg) => {
          const plot = svg.querySelector("g.plot");
          return { box: box(svg.getBoundingClientRect()), plot: plot ? box(plot.getBoundingClientRect()) : null };
        });
        // The first visible text node holding each needle (folded <details> content is not visible).
        const found = {};
        for (const needle of needles) {
          found[needle] = null;
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const at = node.textContent.indexOf(needle);
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + needle.length);
            const rect = range.getBoundingClientRect();
            if (rect.width > 0 && rect.height > 0) {
              found[needle] = box(rect);
              break;
            }
          }
        }
        const first = document.querySelector("article h1, article h2, article h3");
        const heading = first ? { text: first.textContent.trim(), box: box(first.getBoundingClientRect()) } : null;
        return { height: document.documentElement.scrollHeight, heading, charts, found };
      }, item.find ?? []);
      await page.screenshot({ path: item.png, fullPage: true });
      results.push(measured);
    } catch (error) {
      results.push({ error: String(error?.message ?? error) });
    }
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results));
process.exit(results.every((r) => !r.error) ? 0 : 1);
