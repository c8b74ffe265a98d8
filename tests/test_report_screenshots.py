"""The demo's two pull requests as a reviewer sees them: the comment, job summary and check run rendered like
GitHub (cmark-gfm, github-markdown-css, mermaid.js) and screenshotted in headless Chromium, light and dark.

The assertions are on the pictures: the decision on the first screen, charts that can be seen on both themes,
and charts that fit a pull-request page. The PNGs stay in test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from bench.report_fixtures import run_mlgate
from bench.screenshot_fixtures import SCREENSHOTS, contrast

from mlgate.report import charts
from mlgate.report.preview import MANIFEST, THEMES, missing_tools

pytestmark = pytest.mark.slow

FIRST_SCREEN = 600  # px: what a reviewer sees without scrolling, under GitHub's page header
CHART_CONTRAST = 3.0  # WCAG's minimum for graphics
# A 2 px line chart covers 2-4% of its plot area, a bar chart far more; a chart in an invisible colour, 0%.
MIN_DRAWN_SHARE = 0.01
TEXT_CONTRAST = 4.5


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo") / "demo"


@pytest.fixture(scope="module")
def demo(demo_dir: Path) -> subprocess.CompletedProcess[str]:
    """One demo run (both pull requests, one browser session for all their pages)."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    # The demo trains and reports two PRs: ~1 min alone, many more on a loaded 2-core machine.
    return run_mlgate("demo", str(demo_dir), "--screenshots", str(SCREENSHOTS), cwd=demo_dir.parent, timeout=1200)


@pytest.fixture(scope="module")
def shots(demo: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert demo.returncode == 0, demo.stderr
    if reason := missing_tools():
        pytest.skip(f"NO SCREENSHOTS TAKEN, THE REPORT WAS NOT LOOKED AT: {reason}")
    assert f"Screenshots (the comment, job summary and check run as GitHub shows them): {SCREENSHOTS}" in demo.stdout
    return json.loads((SCREENSHOTS / MANIFEST).read_text())


def pixels(shot: dict[str, Any], box: dict[str, float]) -> Any:
    import numpy as np
    from PIL import Image

    with Image.open(shot["png"]) as image:
        crop = image.convert("RGB").crop(
            (round(box["x"]), round(box["y"]), round(box["x"] + box["width"]), round(box["y"] + box["height"]))
        )
        return np.asarray(crop)


def test_demo_shows_both_verdicts(demo: subprocess.CompletedProcess[str], demo_dir: Path) -> None:
    assert demo.returncode == 0, demo.stderr
    assert "PR #1 pr/regress: gate failed (exit 1)" in demo.stdout
    assert "PR #2 pr/tune: gate passed (exit 0)" in demo.stdout
    comments = sorted((demo_dir / ".mlgate/outbox/comment").glob("*.json"))
    bodies = [json.loads(path.read_text())["body"] for path in comments]
    assert len(bodies) == 2
    assert any("mlgate: **fail**" in body for body in bodies) and any("mlgate: **pass**" in body for body in bodies)


def test_the_demo_reports_show_reproducibility_tests_serving_and_the_environment(
    demo: subprocess.CompletedProcess[str], demo_dir: Path
) -> None:
    """#19 in the example's PR reports: the determinism audit and the stage outputs in the train row, a tests
    row, a serving row and the environment line, in the comment of each pull request."""
    assert demo.returncode == 0, demo.stderr
    comments = sorted((demo_dir / ".mlgate/outbox/comment").glob("*.json"))
    for body in (json.loads(path.read_text())["body"] for path in comments):
        train = next(line for line in body.splitlines() if line.startswith("| train | "))
        assert "deterministic over 2 runs (171 predictions alike)" in train, train
        assert "2 stage outputs match their schema" in train, train
        assert "| tests | ✅ pass | 2 passed in " in body
        assert "| serving | " in body and "### Serving" in body and "`serving.latency_p95_ms`" in body
        assert "<sub>environment: Python " in body and " · packages " in body


def test_every_place_the_report_appears_was_screenshotted_in_both_themes(shots: list[dict[str, Any]]) -> None:
    expected = {
        f"pr-{n}-{kind}-{theme}" for n in (1, 2) for kind in ("comment", "summary", "check") for theme in THEMES
    }
    assert {shot["name"] for shot in shots} == expected
    assert all(Path(shot["png"]).stat().st_size > 10_000 for shot in shots)


def test_the_decision_is_on_the_first_screen(shots: list[dict[str, Any]]) -> None:
    for shot in shots:
        verdict = "fail" if shot["name"].startswith("pr-1") else "pass"
        heading, box = shot["heading"], shot["heading_box"]
        assert heading.startswith(f"{'❌' if verdict == 'fail' else '✅'} mlgate: {verdict} · "), shot["name"]
        if verdict == "fail":
            assert heading.endswith("accuracy fell 9.36 pts"), heading  # the first failing rule, in plain words
        assert box["y"] + box["height"] <= FIRST_SCREEN, shot["name"]
        evidence = shot["found"]["95% CI"]  # the interval, the test and the allowance under the headline
        assert evidence is not None and evidence["y"] + evidence["height"] <= FIRST_SCREEN, shot["name"]
        # ... and it is drawn: the heading's pixels hold text that contrasts with the page.
        assert (contrast(pixels(shot, box), THEMES[shot["theme"]]) >= TEXT_CONTRAST).sum() > 500, shot["name"]


def test_every_chart_stands_out_on_light_and_dark_and_fits_the_page(shots: list[dict[str, Any]]) -> None:
    assert all(shot["charts"] for shot in shots)  # the demo has no history: the one compact chart is in each
    for shot in shots:
        for chart in shot["charts"]:
            assert chart["box"]["height"] <= charts.MAX_HEIGHT, shot["name"]
            plot = pixels(shot, chart["plot"])
            strong = contrast(plot, THEMES[shot["theme"]]) >= CHART_CONTRAST
            assert strong.mean() > MIN_DRAWN_SHARE, (
                f"{shot['name']}: lines and bars hardly visible ({strong.mean():.1%})"
            )


def test_the_contrast_measure_would_catch_mermaids_default_colours() -> None:
    """Mermaid's default theme draws the first series in #ECECFF: the measure above must call that invisible."""
    assert contrast([[236, 236, 255]], THEMES["light"])[0] < CHART_CONTRAST
