"""The report as a reviewer sees it on GitHub: HTML pages built the way GitHub shows a comment (cmark-gfm for the
markdown, GitHub's markdown CSS from the npm package `github-markdown-css`, Mermaid drawn by mermaid.js), in the
light and the dark theme, and their screenshots in headless Chromium, one browser session for all pages.

It needs what a checkout of mlgate installs for its tests (`make install`: cmarkgfm, node_modules) and Debian's
`chromium`; `missing_tools()` says in one sentence what is not there, so callers can skip with a reason.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parents[3]
NODE_MODULES = CHECKOUT / "node_modules"
SCREENSHOT_TOOL = Path(__file__).with_name("screenshot.mjs")
# Page backgrounds of GitHub's themes (github-markdown-css --bgColor-default).
THEMES = {"light": "#ffffff", "dark": "#0d1117"}
_BORDERS = {"light": "#d1d9e0", "dark": "#3d444d"}
VIEWPORT_WIDTH = 960  # the conversation column of a pull request on a laptop screen
_ASSETS = {
    "mermaid.min.js": NODE_MODULES / "mermaid/dist/mermaid.min.js",
    "github-markdown-light.css": NODE_MODULES / "github-markdown-css/github-markdown-light.css",
    "github-markdown-dark.css": NODE_MODULES / "github-markdown-css/github-markdown-dark.css",
}
MANIFEST = "shots.json"  # what was measured on each page, beside the pictures
_MERMAID_PRE = re.compile(r'<pre lang="mermaid"><code>(.*?)</code></pre>', re.DOTALL)


@dataclass(frozen=True)
class Page:
    name: str  # file stem, e.g. pr-1-comment-light
    title: str  # what GitHub shows above the body (who commented, the check run's title)
    markdown: str
    theme: str  # light | dark
    find: tuple[str, ...] = ()  # texts whose position on the page to report


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    box: Box  # the whole diagram
    plot: Box | None  # its lines and bars


@dataclass(frozen=True)
class Shot:
    page: Page
    html: Path
    png: Path
    height: float
    heading: str  # the text of the report's first heading (the verdict line)
    heading_box: Box | None
    charts: tuple[Chart, ...]
    found: dict[str, Box | None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.page.name,
            "theme": self.page.theme,
            "html": str(self.html),
            "png": str(self.png),
            "height": self.height,
            "heading": self.heading,
            "heading_box": asdict(self.heading_box) if self.heading_box else None,
            "charts": [asdict(chart) for chart in self.charts],
            "found": {needle: asdict(box) if box else None for needle, box in self.found.items()},
        }


class PreviewError(RuntimeError):
    """The browser could not render a page (a broken chart, a crash); says which page and why."""


def missing_tools() -> str | None:
    """Why screenshots cannot be made here, or None when everything they need is installed."""
    try:
        import cmarkgfm  # noqa: F401
    except ImportError:
        return "cmarkgfm is not installed (pip install -e '.[test]')"
    if shutil.which("node") is None:
        return "node is not on PATH"
    if missing := [name for name, path in _ASSETS.items() if not path.is_file()]:
        return f"{', '.join(missing)} missing from {NODE_MODULES} (run `make install`)"
    if not (NODE_MODULES / "puppeteer-core").is_dir():
        return f"puppeteer-core missing from {NODE_MODULES} (run `make install`)"
    if chromium() is None:
        return "Chromium is not installed (apt-get install -y chromium)"
    return None


def chromium() -> str | None:
    return next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)


def markdown_html(markdown: str) -> str:
    """The body as GitHub renders it: cmark-gfm with GitHub's extensions; ```mermaid blocks become diagrams."""
    import cmarkgfm
    from cmarkgfm.cmark import Options

    body = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    return _MERMAID_PRE.sub(lambda match: f'<pre class="mermaid">{match.group(1)}</pre>', body)


def page_html(page: Page) -> str:
    background, border = THEMES[page.theme], _BORDERS[page.theme]
    mermaid_theme = "dark" if page.theme == "dark" else "default"  # what GitHub picks; charts may override it
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(page.name)}</title>
<link rel="stylesheet" href="assets/github-markdown-{page.theme}.css">
<style>
  body {{ background: {background}; margin: 0; padding: 16px; }}
  .comment {{ max-width: 880px; border: 1px solid {border}; border-radius: 6px; }}
  .comment-header {{ padding: 8px 16px; border-bottom: 1px solid {border}; }}
  .comment-header, .markdown-body {{ background: {background}; border-radius: 6px; }}
  .markdown-body {{ padding: 16px; }}
  .markdown-body pre.mermaid {{ background: transparent; padding: 0; }}
</style></head>
<body><div class="comment">
<div class="comment-header markdown-body"><strong>{html.escape(page.title)}</strong></div>
<article class="markdown-body">
{markdown_html(page.markdown)}
</article></div>
<script src="assets/mermaid.min.js"></script>
<script>
  mermaid.initialize({{ startOnLoad: false, theme: "{mermaid_theme}", securityLevel: "strict" }});
  mermaid.run({{ querySelector: "pre.mermaid" }}).then(
    () => {{ window.mermaidDone = true; }},
    (error) => {{ window.mermaidDone = String(error && error.message ? error.message : error); }},
  );
</script>
</body></html>
"""


def _box(raw: Any) -> Box | None:
    return Box(raw["x"], raw["y"], raw["width"], raw["height"]) if isinstance(raw, dict) else None


def screenshot(pages: Sequence[Page], directory: Path) -> list[Shot]:
    """Write each page as `directory/<name>.html` and screenshot it to `<name>.png` (full page)."""
    if reason := missing_tools():
        raise PreviewError(f"cannot take screenshots: {reason}")
    assets = directory / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    for name, source in _ASSETS.items():
        shutil.copyfile(source, assets / name)
    files = []
    for page in pages:
        target = directory / f"{page.name}.html"
        target.write_text(page_html(page), encoding="utf-8")
        files.append((page, target, directory / f"{page.name}.png"))
    job = {
        "chromium": chromium(),
        "width": VIEWPORT_WIDTH,
        "pages": [{"html": str(h), "png": str(p), "find": list(page.find)} for page, h, p in files],
    }
    done = subprocess.run(
        ["node", str(SCREENSHOT_TOOL)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        cwd=CHECKOUT,
        timeout=600,
        check=False,
    )
    try:
        measured = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise PreviewError(f"the screenshot tool failed ({done.returncode}): {done.stderr.strip()[-1000:]}") from None
    shots = []
    for (page, html_file, png), result in zip(files, measured, strict=True):
        if "error" in result:
            raise PreviewError(f"{html_file}: {result['error']}")
        charts = tuple(Chart(_box(chart["box"]), _box(chart["plot"])) for chart in result["charts"])  # type: ignore[arg-type]
        found = {needle: _box(box) for needle, box in result["found"].items()}
        heading = result["heading"] or {}
        shot = Shot(
            page, html_file, png, result["height"], heading.get("text", ""), _box(heading.get("box")), charts, found
        )
        shots.append(shot)
    (directory / MANIFEST).write_text(json.dumps([shot.to_dict() for shot in shots], indent=1), encoding="utf-8")
    return shots


def report_pages(prefix: str, comment: str, summary: str, check_title: str, check_text: str) -> list[Page]:
    """The three places a report appears on GitHub, each in both themes."""
    documents = (
        ("comment", "github-actions bot commented", comment),
        ("summary", "Job summary", summary),
        ("check", f"Check run mlgate — {check_title}", check_text),
    )
    return [
        Page(f"{prefix}-{kind}-{theme}", title, markdown, theme, find=("95% CI",))
        for kind, title, markdown in documents
        for theme in THEMES
    ]
