"""The validate step on the streaming path: one pass in bounded memory, one partition of a fan-out, or a merge.

When it runs: `data.exact: true` always holds the data in memory (the exact path), `data.exact: false` always
streams. Unset, the data streams when a data path is a folder of partition files, or when holding it would
need more than `data.memory_budget` (the in-memory path peaks at about MEMORY_PATH_FACTOR × the data, as
benchmarks/RESULTS.md measures) — unless deepchecks suites are configured, which need the rows in memory.
`--partition i/n` and `--merge` always stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import InputError
from mlgate.steps.base import Project, guarded, obtain
from mlgate.steps.validate import (
    Inputs,
    Resolved,
    check_options,
    conclude,
    resolve,
    resolve_label,
    resolve_schema,
    wanted_files,
)

if TYPE_CHECKING:
    from mlgate.adapters.dvc_fetch import Obtained
    from mlgate.config.model import Config
    from mlgate.results import StepResult
    from mlgate.stream.scan import Partition
    from mlgate.stream.source import Source
    from mlgate.stream.summary import DatasetSummary

# The in-memory path's peak RSS over the data's in-memory size: 1.8× to 2.5× at 1M to 5M rows.
MEMORY_PATH_FACTOR = 2.5
STREAMING_SCOPE = (
    "every check sees every row, in batches: counts, categories, PII and categorical drift exactly; numeric drift "
    "from KLL sketches within the stated error bound; duplicates and leakage exactly while the row hashes fit the "
    "memory budget, else from a coordinated hash sample of stated size"
)


@dataclass(frozen=True)
class Engine:
    streaming: bool
    reason: str
    memory_budget: int  # bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": "streaming" if self.streaming else "memory",
            "reason": self.reason,
            "memory_budget_mib": self.memory_budget / 2**20,
        }


def _mib(size: float) -> str:
    return f"{size / 2**20:,.0f} MiB"


def choose_path(config: Config, train: Path, test: Path | None) -> Engine:
    """Which path validates this data, and why (the evidence and the log say it)."""
    from mlgate.stream.source import memory_estimate

    data = config.data
    budget = data.memory_budget
    if data.exact is not None:
        return Engine(not data.exact, f"data.exact is {str(data.exact).lower()}", budget)
    paths = [path for path in (train, test) if path is not None]
    folder = next((path for path in paths if path.is_dir()), None)
    if folder is not None:
        return Engine(True, f"{folder} is a folder of partition files", budget)
    if data.checks.deepchecks:
        return Engine(False, "the deepchecks suites need the rows in memory", budget)
    size = sum(memory_estimate(path) for path in paths)
    needed = size * MEMORY_PATH_FACTOR
    relation = "above" if needed > budget else "within"
    reason = (
        f"in memory the data would need about {_mib(needed)} ({MEMORY_PATH_FACTOR}× its {_mib(size)}), "
        f"{relation} data.memory_budget ({_mib(budget)})"
    )
    return Engine(needed > budget, reason, budget)


def _sources(resolved: Resolved) -> tuple[Source, Source | None, list[str]]:
    from mlgate.adapters.datafiles import require_label, require_shared_columns
    from mlgate.stream.source import open_source

    train = open_source(resolved.train)
    require_label(train, resolved.label)
    test = None
    if resolved.test is not None:
        test = open_source(resolved.test)
        require_shared_columns(train, test)
        require_label(test, resolved.label)
    shared = set(test.columns) if test is not None else None
    features = [name for name in train.columns if name != resolved.label and (shared is None or name in shared)]
    return train, test, features


def _summaries(
    resolved: Resolved, config: Config, partition: Partition | None
) -> tuple[DatasetSummary, DatasetSummary | None]:
    from mlgate import gha
    from mlgate.stream.scan import schema_ranges, summarize

    if config.data.checks.deepchecks:
        raise config.error(
            ("data", "checks", "deepchecks"),
            "the suites need the rows in memory, but this data is streamed: remove them, or set data.exact: true",
        )
    train_source, test_source, features = _sources(resolved)
    ranges = schema_ranges(resolved.rules)
    budget = config.data.memory_budget
    part = f" (partition {partition})" if partition else ""
    with gha.group(f"mlgate validate: streaming the data{part}"):
        train = summarize(train_source, "train", features, budget=budget, ranges=ranges, partition=partition)
        test = None
        if test_source is not None:
            test = summarize(test_source, "test", features, budget=budget, ranges=ranges, partition=partition)
    return train, test


def _require_rows(summary: DatasetSummary) -> None:
    if summary.rows == 0:
        raise InputError("has a header but no data rows", file=summary.path)


def _hash_sample(sample: Any) -> dict[str, Any]:
    return {"exact": sample.exact, "kept_rows": int(sample.counts.sum()), "hash_fraction": sample.fraction}


def _record(
    resolved: Resolved,
    engine: Engine,
    project: Project,
    train: DatasetSummary,
    test: DatasetSummary | None,
    obtained: Sequence[Obtained],
    partitions: int | None = None,
) -> StepResult:
    from mlgate.stream.checks import run_checks
    from mlgate.stream.numeric import KLL_K, new_kll
    from mlgate.stream.source import BATCH_ROWS
    from mlgate.stream.summary import COUNT_CAP, HLL_PRECISION

    for summary in (train, test):
        if summary is not None:
            _require_rows(summary)
    result = run_checks(train, test, label=resolved.label, schema=resolved.rules, options=check_options(project.config))
    datasets = {"train": train} | ({"test": test} if test is not None else {})
    engine_evidence = engine.to_dict() | {
        "batch_rows": BATCH_ROWS,
        "partitions": partitions,
        "kll_k": KLL_K,
        "kll_rank_error": new_kll().normalized_rank_error(False),
        "exact_counts_up_to": COUNT_CAP,
        "hll_relative_error": 1.04 / 2 ** (HLL_PRECISION / 2),
        "hash_samples": {
            name: {"leakage": _hash_sample(summary.feature_hashes), "duplicates": _hash_sample(summary.row_hashes)}
            for name, summary in datasets.items()
        },
        "distinct": {
            name: {column: item.distinct_count for column, item in summary.columns.items()}
            for name, summary in datasets.items()
        },
    }
    sampling = {name: coverage.to_dict() for name, coverage in result.samples.items()} | {"scope": STREAMING_SCOPE}
    evidence = {"engine": engine_evidence, "sampling": sampling}
    return conclude(resolved, project, train, test, result, (), evidence, obtained)


def validate(resolved: Resolved, engine: Engine, project: Project, obtained: Sequence[Obtained]) -> StepResult:
    """One streaming pass over train and test (the caller guards it); `obtained`: how the files came."""
    train, test = _summaries(resolved, project.config, None)
    return _record(resolved, engine, project, train, test, obtained)


def write_partition(inputs: Inputs, project: Project, partition: Partition) -> str:
    """Summarize partition i/n of the data into a sketch file in the results directory; what was written."""
    from mlgate.stream.sketchfile import partial_name, write_partial

    obtain(project, wanted_files(inputs, project.config))
    resolved = resolve(inputs, project.config)
    train, test = _summaries(resolved, project.config, partition)
    target = project.results_dir / partial_name(partition.index, partition.count)
    write_partial(target, partition.index, partition.count, resolved.label, [s for s in (train, test) if s])
    rows = f"{train.rows:,} train rows" + (f", {test.rows:,} test rows" if test is not None else "")
    return f"wrote {target}: partition {partition} ({rows}); merge all {partition.count} with `mlgate validate --merge`"


def _check_partials(resolved: Resolved, merged: Any) -> None:
    from mlgate.stream.scan import schema_ranges

    if merged.label != resolved.label:
        raise InputError(f"was made with label '{merged.label}', mlgate.yml says '{resolved.label}'", file=merged.path)
    ranges = schema_ranges(resolved.rules)
    for summary in merged.datasets.values():
        for name, column in summary.columns.items():
            if column.ranges != ((ranges[name],) if name in ranges else ()):
                raise InputError(
                    f"was made with another schema rule for column '{name}' than {resolved.schema_path}",
                    file=merged.path,
                )


def merge(inputs: Inputs, project: Project, folders: Sequence[Path]) -> StepResult:
    """Merge the partition sketches found in `folders` into one validation.json."""
    return guarded("validation", project, lambda: _merge(inputs, project, folders))


def _merge(inputs: Inputs, project: Project, folders: Sequence[Path]) -> StepResult:
    from mlgate.stream.sketchfile import find_partials, merge_partials

    config = project.config
    merged = merge_partials(find_partials(folders))
    train, test = merged.datasets["train"], merged.datasets.get("test")
    # The data itself need not be here (no single runner may hold it): its paths are as the partitions saw them.
    test_path = Path(test.path) if test is not None else None
    resolved = Resolved(Path(train.path), test_path, resolve_label(inputs, config), *resolve_schema(inputs, config))
    _check_partials(resolved, merged)
    engine = Engine(True, f"merged {merged.partitions} partition sketches", config.data.memory_budget)
    return _record(resolved, engine, project, train, test, (), partitions=merged.partitions)
