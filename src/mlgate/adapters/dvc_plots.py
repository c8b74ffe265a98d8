"""The plots a DVC project declares, at the base commit and at head, read and filled by DVC itself.

`Repo.plots.show(revs=[base, head])` (what `dvc plots diff` calls) reads top-level and stage `plots:` and
dvclive's plots; `dvc.render.match.match_defs_renderers` turns them into dvc-render renderers with DVC's
templates, so the Vega-Lite spec rendered here is the one `dvc plots diff --show-vega` prints. Revisions are
relabelled `base`/`head` before filling, so the legends say which side is which.

What is kept, per plot: Mermaid-ready data (mlgate.compare.plotdata), the spec rendered to PNG with
vl-convert (an embedded renderer: no browser, no network), and image plots as the files they are, all
under `<results>/plots/` named by content hash.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlgate.compare import plotdata

MAX_PLOTS = 50
MAX_IMAGE_BYTES = 10 * 2**20
PNG_SCALE = 2.0
PLOTS_DIR = "plots"
SIDES = ("base", "head")
KINDS = {
    "confusion": "confusion",
    "confusion_normalized": "confusion",
    "scatter": "scatter",
    "scatter_jitter": "scatter",
    "bar_horizontal": "bar",
    "bar_horizontal_sorted": "bar",
}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _stored(out_dir: Path, name: str, data: bytes, suffix: str) -> str:
    """`data` saved under out_dir/plots/ by content hash; the path relative to out_dir."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    relative = f"{PLOTS_DIR}/{digest}-{_UNSAFE_NAME.sub('_', name)[-60:]}{suffix}"
    target = out_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return relative


def render_png(spec: dict[str, Any]) -> bytes:
    """A Vega-Lite spec as PNG, rendered offline by vl-convert (imported here: it is large)."""
    import vl_convert

    return vl_convert.vegalite_to_png(vl_spec=spec, scale=PNG_SCALE)


def _vega_item(renderer: Any, out_dir: Path) -> dict[str, Any]:
    props = renderer.properties
    template = str(props.get("template") or "linear")
    kind = KINDS.get(template, "curve")
    x, y = props.get("x"), props.get("y")
    item: dict[str, Any] = {
        "id": renderer.name,
        "kind": kind,
        "template": template,
        "title": props.get("title") or renderer.name,
        "x_label": props.get("x_label") or x,
        "y_label": props.get("y_label") or y,
    }
    points = renderer.datapoints
    several = len(props.get("anchors_y_definitions") or ()) > 1
    if kind == "curve" and x and y:
        series = plotdata.series_of(points, x, y, ("rev", "filename", "field") if several else ("rev",))
        series = sorted(series, key=lambda s: _side_order(s.name.partition(" · ")[0]))[: len(SIDES) * 2]
        item["chart"] = plotdata.grid(series)
        item["sides"] = [plotdata.side_summary(s) for s in series]
    elif kind == "bar" and x and y:
        item["chart"] = plotdata.bars(points, x, y, SIDES)
    elif kind == "confusion" and x and y:
        item["confusion"] = plotdata.confusion(points, x, y, SIDES)
    try:
        item["png"] = _stored(out_dir, renderer.name, render_png(renderer.get_filled_template()), ".png")
    except Exception as exc:  # a chart that does not render is reported; the rest still shows
        item.setdefault("errors", {})["png"] = f"the chart did not render ({str(exc).splitlines()[0][:200]})"
    return item


def _image_item(renderer: Any, out_dir: Path) -> dict[str, Any]:
    images: dict[str, str] = {}
    errors: dict[str, str] = {}
    suffix = Path(renderer.name).suffix.lower() or ".png"
    for point in renderer.datapoints:
        side, source = point.get("rev"), str(point.get("src", ""))
        data = base64.b64decode(source.partition(",")[2]) if source.startswith("data:") else b""
        if len(data) > MAX_IMAGE_BYTES:
            errors[str(side)] = f"the image is larger than {MAX_IMAGE_BYTES // 2**20} MiB"
        elif data:
            images[str(side)] = _stored(out_dir, f"{side}-{renderer.name}", data, suffix)
    item: dict[str, Any] = {"id": renderer.name, "kind": "image", "title": renderer.name, "images": images}
    if errors:
        item["errors"] = errors
    return item


def _side_order(name: str) -> int:
    return SIDES.index(name) if name in SIDES else len(SIDES)


def _errors(found: Any, labels: dict[str, str]) -> dict[str, str]:
    messages = {}
    for rev, exception in found.definition_errors.items():
        messages[labels.get(rev, rev)] = str(exception) or type(exception).__name__
    for rev, sources in found.source_errors.items():
        for source, exception in sources.items():
            messages[labels.get(rev, rev)] = f"{source}: {str(exception) or type(exception).__name__}"
    return messages


def collect(root: Path, base_sha: str, head_rev: str | None, names: Sequence[str] | None, out_dir: Path) -> dict:
    """The project's plots at `base_sha` and at `head_rev` (None: the workspace): {items, errors}.
    `names` limits them to those plot ids (None: all). DVC failing leaves an error, never an exception:
    plots are evidence for reviewers, not a gate."""
    from dvc.render.match import match_defs_renderers
    from dvc.repo import Repo

    from mlgate.adapters.dvc_outputs import workspace_remotes

    head = head_rev or "workspace"
    labels = {base_sha: "base", head: "head"}
    try:
        # the workspace's local remotes: DVC would resolve a relative URL against the base commit's tree
        with Repo(str(root), config=workspace_remotes(root)) as repo:
            data = repo.plots.show(revs=[base_sha, head])
            templates = repo.plots.templates_dir
            found = match_defs_renderers(data, templates_dir=templates)
    except Exception as exc:  # DVC and dvc-data raise more than DvcException
        return {"items": [], "errors": [f"DVC could not read the plots: {exc}"]}
    items, skipped = [], 0
    for entry in found:
        renderer = entry.renderer
        if names is not None and renderer.name not in names:
            continue
        if len(items) == MAX_PLOTS:
            skipped += 1
            continue
        for point in renderer.datapoints:
            point["rev"] = labels.get(point.get("rev"), point.get("rev"))
        revs = renderer.properties.get("revs_with_datapoints") or []
        # The templates' colour domain lists the revisions: base first, as `dvc plots diff main` orders them.
        renderer.properties["revs_with_datapoints"] = sorted((labels.get(r, r) for r in revs), key=_side_order)
        item = _image_item(renderer, out_dir) if renderer.TYPE == "image" else _vega_item(renderer, out_dir)
        errors = _errors(entry, labels)
        if errors:
            item["errors"] = {**item.get("errors", {}), **errors}
        items.append(item)
    notes = [f"{skipped} more plots left out (at most {MAX_PLOTS})"] if skipped else []
    return {"items": items, "errors": notes, "revisions": {"base": base_sha, "head": head}}
