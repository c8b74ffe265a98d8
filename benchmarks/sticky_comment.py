"""5. Sticky comment on a pull request that already has 500 comments, through the GitHub stand-in
(tests/bench/github_standin.py, a real HTTP server on 127.0.0.1 that PyGithub talks to unchanged): API calls and
wall time of `mlgate report --driver github` creating, then updating, its comment.

Side by side: the few lines a user would otherwise write with PyGithub's defaults (list the comments, look for
a marker, edit or create) — with PyGithub's request pacing switched off, so both pay only for their calls.

The stand-in's request log lives in the process that serves it, so one worker process serves it and runs every
measured command as its own child (GNU time's peak RSS is the child's own, not the worker's):

    python -m benchmarks.sticky_comment measure --comments 500 --repeats 5   # all figures, as JSON
    python -m benchmarks.sticky_comment naive PR BODY_FILE                   # the alternative, env as in Actions
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    REPO_ROOT,
    Context,
    Row,
    Section,
    at_most,
    bench_env,
    measure,
    mib,
    module_exists,
    not_measurable,
    seconds,
    times,
)

NAME = "sticky_comment"
TITLE = "Sticky comment on a PR with 500 comments: `mlgate report` vs a plain PyGithub script"
COMMENTS = 500
SMOKE_COMMENTS = 120
REPEATS = 5
REPORT_MODULE = "mlgate.cli.report"
MARKER = "<!-- naive sticky comment -->"
TOKEN = "ghs_bench"
REPO = "octo/demo"
BOT = "github-actions[bot]"


def call_budget(comments: int) -> int:
    return math.ceil(comments / 100) + 2


# ---- the alternative ----------------------------------------------------------------------------------------


def naive(pr_number: int, body_file: Path) -> str:
    """Find our comment by its marker on every page (PyGithub's default 30 per page), edit it or create it."""
    import github

    client = github.Github(
        base_url=os.environ["GITHUB_API_URL"],
        auth=github.Auth.Token(os.environ["GITHUB_TOKEN"]),
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    issue = client.get_repo(os.environ["GITHUB_REPOSITORY"]).get_issue(pr_number)
    body = f"{MARKER}\n{body_file.read_text(encoding='utf-8')}"
    for comment in issue.get_comments():
        if comment.body.startswith(MARKER):
            comment.edit(body)
            return "updated"
    issue.create_comment(body)
    return "created"


# ---- the worker: stand-in, bundle, measured children --------------------------------------------------------


def _bundle(folder: Path) -> None:
    """A full PR results bundle (validation warn, train, compare fail), as the report tests use."""
    from bench.report_fixtures import bundle, write_bundle

    write_bundle(folder, bundle("fail"))


def _pull_event(path: Path, pull: Any) -> None:
    payload = {
        "action": "synchronize",
        "number": pull.issue.number,
        "pull_request": {
            "number": pull.issue.number,
            "head": {"sha": pull.head_sha, "ref": pull.head_ref, "repo": {"full_name": REPO}},
            "base": {"sha": pull.base_sha, "ref": pull.base_ref, "repo": {"full_name": REPO}},
        },
        "repository": {"full_name": REPO, "default_branch": "main"},
    }
    path.write_text(json.dumps(payload), encoding="utf-8")


def measure_all(python: Path, comments: int, repeats: int) -> dict[str, Any]:
    """Per tool and action, a list of {wall_s, peak_rss_mib, calls, requests}; tools alternate each round."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from bench.github_standin import GitHubStandIn

    mlgate = str(python.parent / "mlgate")
    figures: dict[str, dict[str, list[dict[str, Any]]]] = {
        tool: {"create": [], "update": []} for tool in ("mlgate", "naive")
    }
    with tempfile.TemporaryDirectory(prefix="sticky-") as scratch, GitHubStandIn() as standin:
        root = Path(scratch)
        results = root / "results"
        _bundle(results)
        body_file = root / "body.md"
        standin.add_repo(REPO)
        standin.add_token(TOKEN)
        for round_number in range(repeats):
            tools = ["mlgate", "naive"] if round_number % 2 == 0 else ["naive", "mlgate"]
            for tool in tools:
                pull = standin.add_pull(head_ref=f"feature-{round_number}-{tool}")
                standin.add_comments(comments, issue=pull.issue.number, user="octocat")
                event = root / f"event-{pull.issue.number}.json"
                _pull_event(event, pull)
                env = bench_env(standin.env(TOKEN, REPO)) | {
                    "GITHUB_EVENT_NAME": "pull_request",
                    "GITHUB_EVENT_PATH": str(event),
                    "GITHUB_WORKFLOW": "CI",
                }
                for action in ("create", "update"):
                    env["GITHUB_RUN_ID"] = str(1000 + len(standin.requests))
                    if tool == "mlgate":
                        argv = [mlgate, "report", str(results), "--driver", "github", "--no-check"]
                        argv += ["--output", str(root / "report.md"), "--artifact-dir", str(root / "artifact")]
                        ok_codes: tuple[int, ...] = (0, 1)  # 1: the bundle's gate failed; the comment is posted
                    else:
                        body_file.write_text((root / "report.md").read_text(encoding="utf-8"), encoding="utf-8")
                        argv = [
                            str(python),
                            "-m",
                            f"benchmarks.{NAME}",
                            "naive",
                            str(pull.issue.number),
                            str(body_file),
                        ]
                        ok_codes = (0,)
                    before = len(standin.requests)
                    run = measure(argv, cwd=root, env=env, ok_codes=ok_codes)
                    requests = [f"{r.method} {r.path.split('?')[0]}" for r in standin.requests[before:]]
                    figures[tool][action].append(
                        {
                            "wall_s": run.wall_s,
                            "peak_rss_mib": run.peak_rss_mib,
                            "calls": len(requests),
                            "requests": requests,
                        }
                    )
                    _check_outcome(standin, pull.issue.number, tool, action)
        if standin.internal_errors:
            raise RuntimeError("\n".join(standin.internal_errors))
    return figures


def _check_outcome(standin: Any, number: int, tool: str, action: str) -> None:
    """Exactly one sticky comment after every run: a figure for a tool that duplicated or lost it means nothing."""
    marker = "<!-- mlgate:report" if tool == "mlgate" else MARKER
    ours = [c for c in standin.repo(REPO).comments.values() if c.issue_number == number and marker in c.body]
    if len(ours) != 1:
        raise RuntimeError(f"{tool} {action}: {len(ours)} sticky comments on #{number}, expected exactly 1")


# ---- the benchmark ------------------------------------------------------------------------------------------


def run(ctx: Context) -> Section:
    if not module_exists(ctx, REPORT_MODULE):
        budget = call_budget(COMMENTS)
        return not_measurable(
            NAME, TITLE, ctx, "API calls, create", f"≤ {budget} calls", "`mlgate report` is not on this build"
        )
    comments, repeats = (SMOKE_COMMENTS, 1) if ctx.smoke else (COMMENTS, REPEATS)
    argv = ctx.module(NAME, "measure", "--comments", str(comments), "--repeats", str(repeats))
    figures = json.loads(measure(argv, cwd=REPO_ROOT).stdout)
    budget = call_budget(comments)
    section = Section(NAME, TITLE, ctx.rerun(NAME))
    command = f"`{ctx.display(argv)}` (runs `mlgate report RESULTS --driver github --no-check` per PR)"
    for action in ("create", "update"):
        ours, theirs = figures["mlgate"][action], figures["naive"][action]
        calls, naive_calls = max(f["calls"] for f in ours), max(f["calls"] for f in theirs)
        wall = statistics.median(f["wall_s"] for f in ours)
        naive_wall = statistics.median(f["wall_s"] for f in theirs)
        section.rows += [
            Row(
                f"{action}: API calls ({comments} comments before)",
                f"{calls} ({_breakdown(ours[0]['requests'])})",
                f"PyGithub defaults: {naive_calls} ({_breakdown(theirs[0]['requests'])})",
                times(calls / naive_calls),
                f"≤ ceil({comments}/100) + 2 = {budget}",
                at_most(calls, budget, lambda v: f"{v:.0f} calls"),
                command,
            ),
            Row(
                f"{action}: wall time; peak RSS",
                f"{seconds(wall)}; {mib(statistics.median(f['peak_rss_mib'] for f in ours))}",
                f"PyGithub defaults: {seconds(naive_wall)}; "
                f"{mib(statistics.median(f['peak_rss_mib'] for f in theirs))}",
                times(wall / naive_wall),
                command="same runs",
            ),
        ]
    section.notes.append(
        f"Median of {repeats} runs per tool and action, the tools alternating; each run is a fresh process and a "
        f"fresh pull request seeded with {comments} comments by another user, so `create` pages through all of "
        "them and `update` finds the comment on the last page. mlgate's wall time includes rendering the full "
        "report from the results bundle; the PyGithub script posts that same rendered body. The calls are "
        "counted from the stand-in's request log."
    )
    return section


def _breakdown(requests: list[str]) -> str:
    counts: dict[str, int] = {}
    for request in requests:
        method, path = request.split(" ", 1)
        kind = f"{method} {'comments' if path.endswith('/comments') else 'comment' if '/comments/' in path else path}"
        counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{n}× {kind}" for kind, n in counts.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sticky_comment")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("measure")
    worker.add_argument("--comments", type=int, default=COMMENTS)
    worker.add_argument("--repeats", type=int, default=REPEATS)
    alternative = commands.add_parser("naive")
    alternative.add_argument("pr", type=int)
    alternative.add_argument("body", type=Path)
    args = parser.parse_args(argv)
    if args.command == "measure":
        print(json.dumps(measure_all(Path(sys.executable), args.comments, args.repeats)))
    else:
        print(naive(args.pr, args.body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
