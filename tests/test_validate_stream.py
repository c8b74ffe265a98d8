"""The streaming path (#22) against the in-memory path: same verdicts, same findings, stated error bounds.

In-process parity runs each scenario of the in-memory checks through both paths (the data split into several
batches, so merging across batches is exercised); small data keeps every KLL sketch exact, so findings must
match message for message. Larger data (the benchmark generator's) must give the same verdicts, with each
drift statistic within its stated error of the exact one. The command-line tests run `mlgate validate` as a
user does: streaming by choice or by size, a folder of partitions, 4 partitions merged, and bad input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from sklearn import datasets
from sklearn.model_selection import train_test_split

from benchmarks.validation import generate
from mlgate.checks.schema import infer_schema, schema_from_document, schema_to_document
from mlgate.checks.validation import CheckOptions, run_checks
from mlgate.stream import checks as streamed
from mlgate.stream.scan import schema_ranges
from mlgate.stream.summary import HASH_SPACE, DatasetSummary, HashSample

RAW_EMAIL = "jane.doe@hospital.example.org"


def _split(name: str, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = getattr(datasets, f"load_{name}")(as_frame=True).frame
    classes = frame["target"] if frame["target"].nunique() <= 20 else None
    train, test = train_test_split(frame, test_size=0.25, random_state=seed, stratify=classes)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def _summary(role: str, table: pa.Table, features: list[str], *, schema=None, budget: int = 64 << 20, batch=97):
    summary = DatasetSummary.empty(
        role, role, "parquet", table.schema, features, budget=budget, ranges=schema_ranges(schema)
    )
    for chunk in table.to_batches(max_chunksize=batch):  # many small batches: every merge path is taken
        summary.update(chunk)
    return summary.finish()


def both(train: pd.DataFrame, test: pd.DataFrame | None, *, schema=None, budget=64 << 20, batch=97, **options):
    """(in-memory result, streamed result) of the same data and options; `budget`: bytes per hash sample."""
    train_table = pa.Table.from_pandas(train, preserve_index=False)
    test_table = pa.Table.from_pandas(test, preserve_index=False) if test is not None else None
    check_options = CheckOptions(**options)
    exact = run_checks(train_table, test_table, label="target", schema=schema, options=check_options)
    features = [n for n in train_table.column_names if n != "target" and (test is None or n in test_table.column_names)]
    train_summary = _summary("train", train_table, features, schema=schema, budget=budget, batch=batch)
    test_summary = (
        _summary("test", test_table, features, schema=schema, budget=budget, batch=batch) if test is not None else None
    )
    stream = streamed.run_checks(train_summary, test_summary, label="target", schema=schema, options=check_options)
    return exact, stream


def messages(result) -> list[tuple[str, str, str | None, str | None, str]]:
    return [(f.check, f.severity, f.dataset, f.column, f.message) for f in result.findings]


def _scenarios() -> dict[str, tuple[pd.DataFrame, pd.DataFrame | None, dict]]:
    train, test = _split("breast_cancer")
    cases: dict[str, tuple[pd.DataFrame, pd.DataFrame | None, dict]] = {"clean": (train, test, {})}
    nulls = test.copy()
    nulls.loc[nulls.sample(frac=0.2, random_state=1).index, "mean radius"] = np.nan
    cases["nulls"] = (train, nulls, {})
    grades = np.array(["a", "b", "c"])
    graded_train = train.assign(grade=grades[np.arange(len(train)) % 3])
    graded_test = test.assign(grade=np.where(np.arange(len(test)) % 7 == 0, "z", grades[np.arange(len(test)) % 3]))
    cases["new category"] = (graded_train, graded_test, {})
    shifted = test.copy()
    shifted["mean area"] *= 3
    cases["shifted column, ks"] = (train, shifted, {})
    cases["shifted column, psi"] = (train, shifted, {"drift_method": "psi"})
    cases["most columns shift"] = (train, test * 1.5 + 0.5, {})
    emails = train.assign(contact=[f"user{i}@example.org" if i % 5 else "n/a" for i in range(len(train))])
    cases["pii"] = (emails, test.assign(contact="n/a"), {})
    cases["pii allowed"] = (emails, test.assign(contact="n/a"), {"pii_allow_columns": ("contact",)})
    cards = train.assign(card=np.where(np.arange(len(train)) % 2, 4111111111111111, 1234))
    cases["card numbers as integers"] = (cards, test.assign(card=1234), {})
    cases["leakage"] = (train, pd.concat([test, train.head(40)], ignore_index=True), {})
    cases["duplicates"] = (pd.concat([train, train.head(9)], ignore_index=True), test, {})
    renamed = test.rename(columns={"mean radius": "mean_radius"})
    cases["renamed column"] = (train, renamed, {})
    cases["dtype change"] = (train, test.assign(**{"mean radius": test["mean radius"].astype(str)}), {})
    cases["constant"] = (train.assign(site="berlin"), test.assign(site="berlin"), {})
    labels = train.copy()
    labels.loc[:2, "target"] = 7  # a rare class, plus test classes never seen
    cases["label problems"] = (labels, test.assign(target=test["target"].where(test.index % 9 > 0, 5)), {})
    diabetes_train, diabetes_test = _split("diabetes")
    cases["numeric target"] = (diabetes_train, diabetes_test, {})
    wine_train, wine_test = _split("wine")
    cases["wine, chi2 on a 0/1 flag"] = (
        wine_train.assign(flag=wine_train.index % 2),
        wine_test.assign(flag=(wine_test.index % 3 == 0).astype(int)),
        {"drift_method": "chi2"},
    )
    dated_train = train.assign(seen=pd.date_range("2024-01-01", periods=len(train), freq="h"))
    dated_test = pd.concat([test, train.head(3)], ignore_index=True)
    cases["dates, leaked rows"] = (dated_train, dated_test.assign(seen=dated_train["seen"].head(len(dated_test))), {})
    cases["train only"] = (train, None, {})
    return cases


SCENARIOS = _scenarios()


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_small_data_streams_to_the_same_findings(name: str) -> None:
    train, test, options = SCENARIOS[name]
    exact, stream = both(train, test, **options)
    assert messages(stream) == messages(exact)
    assert stream.verdict == exact.verdict
    assert [row.to_dict() | {"exact": True, "error_bound": 0.0} for row in exact.drift] == [
        row.to_dict() for row in stream.drift
    ]


def test_a_reviewed_schema_is_held_the_same_way() -> None:
    train, test = _split("breast_cancer")
    document = schema_to_document(infer_schema(pa.Table.from_pandas(train), label="target"))
    document["columns"]["mean radius"]["max"] = 20
    document["columns"]["worst area"]["nullable"] = False
    schema = schema_from_document(yaml.safe_load(yaml.safe_dump(document)))
    broken = test.copy()
    broken.loc[:4, "worst area"] = np.nan
    exact, stream = both(train, broken, schema=schema)
    assert messages(stream) == messages(exact)
    assert {("schema", "fail")} <= {(f.check, f.severity) for f in stream.findings}


def test_high_cardinality_text_is_scanned_for_pii_in_every_batch() -> None:
    """Past 1000 distinct values a column's counts stop, but its PII scan counts every row."""
    rows = 5000
    frame = pd.DataFrame(
        {"note": [f"ticket {i} from user{i}@example.org" if i % 4 == 0 else f"ticket {i}" for i in range(rows)]}
    ).assign(target=np.arange(rows) % 2)
    exact, stream = both(frame, None)
    pii = [f for f in stream.findings if f.check == "pii"]
    assert messages(stream) == messages(exact)
    assert pii[0].severity == "fail" and pii[0].numbers["rows"] == rows // 4


def test_over_budget_hash_samples_estimate_duplicates_and_leakage_with_a_stated_error() -> None:
    rng = np.random.default_rng(3)
    train = pd.DataFrame({"x": rng.normal(size=60_000), "y": rng.integers(0, 10**6, 60_000)})
    train["target"] = rng.integers(0, 2, 60_000)
    train = pd.concat([train, train.head(6_000)], ignore_index=True)  # 6,000 duplicates
    test = pd.DataFrame({"x": rng.normal(size=20_000), "y": rng.integers(0, 10**6, 20_000)})
    test["target"] = rng.integers(0, 2, 20_000)
    test = pd.concat([test, train.iloc[10_000:12_000]], ignore_index=True)  # 2,000 leaked rows, 9%
    exact, stream = both(train, test, budget=128 << 10, batch=8192)  # ~11k of 66k rows' hashes kept
    assert [(f.check, f.severity) for f in stream.findings] == [(f.check, f.severity) for f in exact.findings]
    dup = next(f for f in stream.findings if f.check == "duplicates" and f.dataset == "train")
    estimate = dup.numbers["estimate"]
    assert 0 < estimate["hash_fraction"] < 0.25 and "hash sample" in dup.message
    assert abs(dup.numbers["duplicates"] - 6_000) <= estimate["interval_95"] * 1.5
    leak = next(f for f in stream.findings if f.check == "leakage")
    assert (
        leak.severity == "fail"
        and abs(leak.numbers["leaked_rows"] - 2_000) <= leak.numbers["estimate"]["interval_95"] * 1.5
    )


@pytest.mark.parametrize("kept", [None, 40_000])
def test_hash_samples_fold_batches_and_partitions_into_the_bottom_k_of_all_rows(kept: int | None) -> None:
    """Folded batch by batch, or as two partitions merged, a hash sample holds exactly the `kept` smallest
    distinct hashes (all of them while they fit) with every row's count, and the next hash as its threshold."""
    rng = np.random.default_rng(5)
    parts = [rng.integers(0, 2**63, size=60_000, dtype=np.int64).view(np.uint64) * np.uint64(2) for _ in range(8)]
    parts += [part[:20_000] for part in parts[:4]]  # repeats, within and across partitions
    budget = 12 * (kept or 10**7)
    distinct, counts = np.unique(np.concatenate(parts), return_counts=True)
    threshold = int(distinct[kept]) if kept else HASH_SPACE
    one, first, second = HashSample(budget), HashSample(budget), HashSample(budget)
    for index, part in enumerate(parts):
        one.add(part)
        (first if index % 2 else second).add(part)
    one.finish()
    first.merge(second)
    for sample in (one, first):
        assert sample.threshold == threshold and sample.exact == (kept is None)
        assert np.array_equal(sample.hashes, distinct[:kept]) and np.array_equal(sample.counts, counts[:kept])


def test_a_sampled_leakage_check_that_finds_none_bounds_it_by_the_rule_of_three() -> None:
    rng = np.random.default_rng(6)
    train, test = HashSample(12 * 5_000), HashSample(12 * 5_000)
    train.add(rng.integers(0, 2**63, size=50_000, dtype=np.int64).view(np.uint64) * np.uint64(2))  # even
    test.add(rng.integers(0, 2**63, size=20_000, dtype=np.int64).view(np.uint64) * np.uint64(2) + np.uint64(1))
    leaked, estimate = streamed.leakage(train, test, 20_000)
    kept = estimate["sampled_rows"]
    assert leaked == 0 and 0 < kept <= 5_000 and estimate["interval_95"] == pytest.approx(3 / kept * 20_000)
    assert f"fewer than {np.ceil(3 / kept * 20_000):,.0f} test rows occur in train" in estimate["statement"]


@pytest.fixture(scope="module")
def bench_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark's 20-column train file and its drifted copy, at 30k rows (sketches estimate past ~1k)."""
    folder = tmp_path_factory.mktemp("bench") / "data"
    generate(30_000, folder)
    return folder


def test_benchmark_data_gives_the_same_verdicts_and_statistics_within_their_bounds(bench_data: Path) -> None:
    train, test = (
        pq.read_table(bench_data / f"{name}.parquet").to_pandas().rename(columns={"label": "target"})
        for name in ("train", "test")
    )
    for method in ("auto", "ks", "psi"):
        exact, stream = both(train, test, batch=4096, drift_method=method, sample_rows=10**7)
        assert [(f.check, f.severity, f.dataset) for f in stream.findings] == [
            (f.check, f.severity, f.dataset) for f in exact.findings
        ]
        for memory, sketched in zip(exact.drift, stream.drift, strict=True):
            assert (sketched.column, sketched.result.method) == (memory.column, memory.method)
            assert abs(sketched.result.statistic - memory.statistic) <= sketched.error_bound + 1e-9, sketched
            # A verdict may differ only where the result says the threshold lies within the sketch's error.
            if "within the sketch's error" not in sketched.result.note:
                assert sketched.drifted == memory.drifted, (sketched, memory)
        assert any(not row.exact and row.error_bound > 0 for row in stream.drift)


# ---- the command line ------------------------------------------------------------------------------------


def run_validate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLGATE_", "GITHUB_"))}
    return subprocess.run(
        [sys.executable, "-m", "mlgate", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _repo(root: Path, data: Path, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    target = root / "data"
    if not target.exists():
        target.mkdir()
        for name in ("train", "test"):
            pq.write_table(pq.read_table(data / f"{name}.parquet"), target / f"{name}.parquet", row_group_size=7_500)
    (root / "mlgate.yml").write_text(
        f"data:\n  train: data/train.parquet\n  test: data/test.parquet\n  label: label\n{extra}", encoding="utf-8"
    )
    return root


def _document(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _verdicts(document: dict) -> list[tuple[str, str, str | None]]:
    return [(f["check"], f["severity"], f["dataset"]) for f in document["evidence"]["findings"]]


def test_the_data_streams_when_it_would_not_fit_the_budget(bench_data: Path, tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", bench_data, "  memory_budget: 8\n")
    result = run_validate("validate", cwd=repo)
    assert result.returncode == 1, result.stderr  # the drifted copy has too many nulls in num_2
    document = _document(repo / ".mlgate" / "results" / "validation.json")
    engine = document["evidence"]["engine"]
    assert engine["path"] == "streaming" and "above data.memory_budget (8 MiB)" in engine["reason"]
    assert document["evidence"]["sampling"]["train"]["statement"] == "all 30,000 rows, streamed in 4 batches"
    drift = document["evidence"]["drift"]["columns"]
    assert all("error_bound" in row for row in drift) and any(not row["exact"] for row in drift)
    (repo / "mlgate.yml").write_text((repo / "mlgate.yml").read_text() + "  exact: true\n")
    assert run_validate("validate", cwd=repo).returncode == 1
    exact = _document(repo / ".mlgate" / "results" / "validation.json")
    assert exact["evidence"]["engine"] == {"path": "memory", "reason": "data.exact is true", "memory_budget_mib": 8.0}
    assert _verdicts(exact) == _verdicts(document)


def run_together(*commands: tuple[str, ...], cwd: Path) -> list[subprocess.CompletedProcess]:
    """`mlgate` commands run at once, as the jobs of a matrix do."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLGATE_", "GITHUB_"))}
    running = [
        (
            args,
            subprocess.Popen(
                [sys.executable, "-m", "mlgate", *args],
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for args in commands
    ]
    finished = []
    for args, process in running:
        stdout, stderr = process.communicate(timeout=300)
        finished.append(subprocess.CompletedProcess(args, process.returncode, stdout, stderr))
    return finished


@pytest.fixture(scope="module")
def partitioned(bench_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository validated in one streaming pass (results in one/) and as 4 partitions (part1/ … part4/)."""
    repo = _repo(tmp_path_factory.mktemp("partitioned") / "repo", bench_data, "  exact: false\n")
    partitions = [("--results-dir", f"part{i}", "validate", "--partition", f"{i}/4") for i in range(1, 5)]
    one, *parts = run_together(("--results-dir", "one", "validate"), *partitions, cwd=repo)
    assert one.returncode == 1, one.stderr
    for index, result in enumerate(parts, start=1):
        assert result.returncode == 0, result.stderr
        assert f"partition {index}/4" in result.stdout
    return repo


def test_four_partitions_merged_give_the_verdicts_of_one_pass(partitioned: Path) -> None:
    repo = partitioned
    merged = run_validate(
        "--results-dir", "merged", "validate", "--merge", *(f"part{i}" for i in range(1, 5)), cwd=repo
    )
    assert merged.returncode == 1, merged.stderr
    one, four = _document(repo / "one" / "validation.json"), _document(repo / "merged" / "validation.json")
    assert _verdicts(four) == _verdicts(one) and four["verdict"] == one["verdict"] == "fail"
    exact_checks = ("nulls", "duplicates", "leakage", "label", "pii", "schema")
    assert [f for f in four["evidence"]["findings"] if f["check"] in exact_checks] == [
        f for f in one["evidence"]["findings"] if f["check"] in exact_checks
    ]
    rows = {row["column"]: row for row in one["evidence"]["drift"]["columns"]}
    for row in four["evidence"]["drift"]["columns"]:
        assert row["verdict"] == rows[row["column"]]["verdict"]
        assert (
            abs(row["statistic"] - rows[row["column"]]["statistic"])
            <= row["error_bound"] + rows[row["column"]]["error_bound"] + 1e-9
        )
    assert four["evidence"]["engine"]["partitions"] == 4
    assert four["evidence"]["inputs"]["train"]["rows"] == 30_000


def test_an_incomplete_repeated_or_foreign_set_of_partitions_is_refused(partitioned: Path, tmp_path: Path) -> None:
    repo = partitioned
    old_part = tmp_path / "old"
    old_part.mkdir()
    sketch = next((repo / "part2").glob("*.mlgate-sketch"))
    with np.load(sketch) as archive:
        arrays = {key: archive[key] for key in archive.files}
    header = json.loads(arrays["header"].tobytes())
    arrays["header"] = np.frombuffer(json.dumps(header | {"mlgate": "0.0.1"}).encode(), dtype=np.uint8)
    old_sketch = old_part / sketch.name
    with old_sketch.open("wb") as handle:
        np.savez(handle, **arrays)
    merge = ("--results-dir", "m", "validate", "--merge")
    missing, twice, old, bad = run_together(
        (*merge, "part1", "part2", "part4"),
        (*merge, "part1", "part1", "part2"),
        (*merge, "part1", str(old_part), "part3", "part4"),
        ("validate", "--partition", "5/4"),
        cwd=repo,
    )
    assert missing.returncode == 2 and "partition 3/4 is missing" in missing.stderr, missing.stderr
    assert twice.returncode == 2 and "is partition 1/4 again" in twice.stderr
    assert old.returncode == 2 and str(old_sketch) in old.stderr and "mlgate 0.0.1" in old.stderr, old.stderr
    assert "Traceback" not in old.stderr + missing.stderr + twice.stderr
    assert bad.returncode == 2 and "--partition '5/4'" in bad.stderr


def test_a_folder_of_partition_files_streams_and_a_mismatched_file_is_named(bench_data: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "train").mkdir(parents=True)
    table = pq.read_table(bench_data / "train.parquet")
    for part in range(3):
        pq.write_table(table.slice(part * 10_000, 10_000), repo / "train" / f"part-{part:05d}.parquet")
    (repo / "train" / "_SUCCESS").write_text("")
    _repo(repo, bench_data)
    (repo / "mlgate.yml").write_text("data:\n  train: train\n  test: data/test.parquet\n  label: label\n")
    result = run_validate("validate", cwd=repo)
    assert result.returncode == 1, result.stderr
    document = _document(repo / ".mlgate" / "results" / "validation.json")
    assert document["evidence"]["engine"]["reason"] == "train is a folder of partition files"
    assert document["evidence"]["inputs"]["train"] == {
        "path": "train",
        "format": "parquet",
        "rows": 30_000,
        "columns": 20,
    }
    odd = table.slice(0, 100).set_column(0, "num_0", pa.array(["x"] * 100))
    pq.write_table(odd, repo / "train" / "part-00003.parquet")
    result = run_validate("validate", cwd=repo)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        "train/part-00003.parquet: has another schema than the rest of train: column 'num_0' is string" in result.stderr
    )


def test_csv_partitions_that_infer_different_types_read_as_one_type_or_are_refused(tmp_path: Path) -> None:
    """Arrow infers each CSV partition's types from its own first block: integers here and decimals there are
    decimals, an empty column takes the others' type, text anywhere makes the column text, as one file of all
    the rows reads; dates in one partition and integers in another have no common type but text: exit 2."""
    repo = tmp_path / "repo"
    (repo / "train").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    rng = np.random.default_rng(0)
    frames = [
        pd.DataFrame(
            {
                "x": rng.integers(0, 100, 500),
                "code": rng.integers(0, 5, 500),
                "extra": np.nan,
                "seen": pd.date_range("2024-01-01", periods=500, freq="D").strftime("%Y-%m-%d"),
                "target": rng.integers(0, 2, 500),
            }
        )
        for _ in range(3)
    ]
    frames[1]["x"] = frames[1]["x"] + 0.5  # decimals in the middle partition only
    frames[1]["code"] = np.where(np.arange(500) % 50 == 0, "n/a", frames[1]["code"].astype(str))  # text
    frames[2]["extra"] = rng.normal(size=500)  # empty in the first two partitions
    for index, frame in enumerate(frames):
        frame.to_csv(repo / "train" / f"part-{index}.csv", index=False)
    pd.concat(frames).to_csv(repo / "all.csv", index=False)
    (repo / "mlgate.yml").write_text("data:\n  label: target\n")
    streamed_run = run_validate("--results-dir", "s", "validate", "--train", "train", cwd=repo)
    exact_run = run_validate("--results-dir", "e", "validate", "--train", "all.csv", cwd=repo)
    assert streamed_run.returncode == exact_run.returncode, streamed_run.stderr + exact_run.stderr
    stream_doc, exact_doc = _document(repo / "s" / "validation.json"), _document(repo / "e" / "validation.json")
    assert stream_doc["evidence"]["engine"]["path"] == "streaming"
    assert stream_doc["evidence"]["findings"] == exact_doc["evidence"]["findings"]
    assert stream_doc["evidence"]["inputs"]["train"]["rows"] == 1_500
    frames[2]["seen"] = np.arange(500)  # integers where the other partitions hold dates
    frames[2].to_csv(repo / "train" / "part-2.csv", index=False)
    refused = run_validate("--results-dir", "s", "validate", "--train", "train", cwd=repo)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert "train/part-2.csv: column 'seen' holds integer values (int64) here but datetime values" in refused.stderr
    assert "(date32[day]) in train/part-0.csv: no type holds both but text" in refused.stderr


def test_memory_budget_and_exact_settings_are_checked(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "mlgate.yml").write_text("data:\n  label: y\n  memory_budget: 2 gigs\n")
    result = run_validate("validate", cwd=repo)
    assert result.returncode == 2 and "memory_budget" in result.stderr and "Traceback" not in result.stderr
