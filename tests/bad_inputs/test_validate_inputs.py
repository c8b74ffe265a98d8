"""Bad-input corpus of `mlgate validate`: data files and the data schema file, each as named by mlgate.yml.

tests/test_validate_cli.py pins the train file's own readers (empty, header only, foreign delimiters,
latin-1, duplicate columns, fake Parquet, missing label); these are the other ways in: the test file, other
encodings, cut rows and cut Parquet, folders and links where files belong, and every way the schema file
can be broken. The base workspace below is valid: only the case's files differ.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import pytest
from bench.faults_fixtures import (
    BadInput,
    Content,
    Device,
    Fifo,
    Folder,
    Link,
    Sparse,
    bad_input_params,
    check_bad_input,
    run_cli,
)

ROWS = "".join(f"{i % 7}.{i % 10},{(i * 3) % 11},{'abc'[i % 3]},{i % 2}\n" for i in range(60))
CSV = "width,height,kind,target\n" + ROWS
SCHEMA = """\
version: 1
label: target
columns:
  width: {dtype: number, nullable: false, min: 0, max: 10}
  height: {dtype: integer, min: 0, max: 20}
  kind: {dtype: string, categories: [a, b, c]}
  target: {dtype: integer}
"""
CONFIG = "data:\n  train: data/train.csv\n  test: data/test.csv\n  label: target\n  schema: schema.yml\n"
BASE: dict[str, Content] = {"mlgate.yml": CONFIG, "data/train.csv": CSV, "data/test.csv": CSV, "schema.yml": SCHEMA}


def parquet_bytes() -> bytes:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    table: pa.Table = pacsv.read_csv(io.BytesIO(CSV.encode()))
    pq.write_table(table, sink)
    return sink.getvalue()


def nested_parquet() -> bytes:
    """CSV's table with `width` a list of one number per row: a nested Parquet column."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table: pa.Table = pacsv.read_csv(io.BytesIO(CSV.encode()))
    width = pa.array([[value] for value in table["width"].to_pylist()])
    sink = io.BytesIO()
    pq.write_table(table.set_column(0, "width", width), sink)
    return sink.getvalue()


def data(id: str, name: str, content: Content, culprit: str | tuple[str, ...], **config: str) -> BadInput:
    files = {name: content}
    if config:
        files["mlgate.yml"] = CONFIG.replace(config["old"], config["new"])
    return BadInput(id, files, ("validate",), culprit)


def schema(id: str, content: Content, culprit: str | tuple[str, ...] = "schema.yml") -> BadInput:
    return BadInput(id, {"schema.yml": content}, ("validate",), culprit)


PARQUET = parquet_bytes()
DATA_CASES = [
    data("test-truncated-row", "data/test.csv", CSV + "1.5,", "test.csv"),
    data("test-extra-field", "data/test.csv", CSV + "1.5,2,a,0,surprise\n", "test.csv"),
    data("test-utf16", "data/test.csv", CSV.encode("utf-16"), ("test.csv", "UTF-16", "wrong encoding")),
    data("test-utf16-without-bom", "data/test.csv", CSV.encode("utf-16-le"), ("test.csv", "UTF-16")),
    data("test-gzip-named-csv", "data/test.csv", gzip.compress(CSV.encode()), ("test.csv", "gzip-compressed")),
    data("test-binary-garbage", "data/test.csv", bytes(range(256)) * 64, "test.csv"),
    data("test-unclosed-quote", "data/test.csv", CSV + '1.5,2,"a,0\n' + ROWS, "test.csv"),
    data("test-empty", "data/test.csv", "", "test.csv"),
    data("test-label-missing", "data/test.csv", CSV.replace(",target", ",y"), "target"),
    data("test-a-directory", "data/test.csv", Folder(), "test.csv"),
    data("train-nul-bytes", "data/train.csv", CSV.replace("abc"[0], "\x00", 3), "train.csv"),
    data("train-header-only-newlines", "data/train.csv", "\n\n\n", "train.csv"),
    data(
        "train-parquet-cut-in-half",
        "data/train.parquet",
        PARQUET[: len(PARQUET) // 2],
        "train.parquet",
        old="train.csv",
        new="train.parquet",
    ),
    data(
        "test-parquet-nested-column",
        "data/test.parquet",
        nested_parquet(),
        ("test.parquet", "'width'", "nested"),
        old="test.csv",
        new="test.parquet",
    ),
    data("train-parquet-empty", "data/train.parquet", b"", "train.parquet", old="train.csv", new="train.parquet"),
    data(
        "train-parquet-huge-footer",
        "data/train.parquet",
        Sparse(50_000_000, b"PAR1"),
        "train.parquet",
        old="train.csv",
        new="train.parquet",
    ),
    data("train-a-fifo", "data/train.csv", Fifo(), ("train.csv", "a FIFO")),
    data("test-a-device", "data/test.csv", Device(), ("test.csv", "a character device")),
    data("train-symlink-loop", "data/train.csv", Link("train.csv"), ("train.csv", "symlink loop")),
    data("train-dangling-link", "data/train.csv", Link("gone.csv"), "train.csv"),
    data(
        "train-path-traversal", "data/train.csv", CSV, "data.train", old="data/train.csv", new="../outside/secret.csv"
    ),
    data("train-absolute-path", "data/train.csv", CSV, "data.train", old="data/train.csv", new="/etc/passwd"),
    data("train-link-out-of-the-workspace", "data/train.csv", Link("../../outside/secret.csv"), "train.csv"),
]

# The streaming reader (data.exact: false, or a folder of partition files) opens the files itself.
STREAMING = {"old": "  schema: schema.yml\n", "new": "  schema: schema.yml\n  exact: false\n"}
STREAMING_CASES = [
    data("streamed-train-a-fifo", "data/train.csv", Fifo(), ("train.csv", "a FIFO"), **STREAMING),
    data("streamed-test-a-device", "data/test.csv", Device(), ("test.csv", "a character device"), **STREAMING),
    data(
        "streamed-train-symlink-loop", "data/train.csv", Link("train.csv"), ("train.csv", "symlink loop"), **STREAMING
    ),
    data(
        "streamed-test-dangling-link",
        "data/test.csv",
        Link("gone.csv"),
        ("test.csv", "symlink to nothing"),
        **STREAMING,
    ),
    BadInput(
        "partition-folder-holding-a-fifo",
        {"data/parts/a.csv": CSV, "data/parts/b.csv": Fifo(), "mlgate.yml": CONFIG.replace("train.csv", "parts")},
        ("validate",),
        ("parts/b.csv", "a FIFO"),
    ),
]

SCHEMA_CASES = [
    schema("truncated", SCHEMA[: SCHEMA.index("kind") + 12]),
    schema("empty", ""),
    schema("top-level-list", "- width\n- height\n"),
    schema("version-from-the-future", SCHEMA.replace("version: 1", "version: 2"), "version"),
    schema("columns-as-text", "version: 1\ncolumns: width height\n", "columns"),
    schema("unknown-dtype", SCHEMA.replace("dtype: number", "dtype: float64"), "columns.width.dtype"),
    schema("bound-as-text", SCHEMA.replace("min: 0, max: 10", "min: zero, max: 10"), "columns.width.min"),
    schema("nan-bound", SCHEMA.replace("max: 10", "max: .nan"), "columns.width.max"),
    schema("inf-bound", SCHEMA.replace("min: 0, max: 20", "min: -.inf, max: 20"), "columns.height.min"),
    schema("min-above-max", SCHEMA.replace("min: 0, max: 20", "min: 30, max: 20"), "columns.height"),
    schema("categories-not-strings", SCHEMA.replace("[a, b, c]", "[1, 2, 3]"), "categories"),
    schema("utf16", SCHEMA.encode("utf-16"), "not UTF-8"),
    schema(
        "alias-bomb",
        "version: 1\nx: &x ["
        + ", ".join(["y"] * 50)
        + "]\n"
        + "".join(f"x{i}: &x{i} [{', '.join([f'*x{i - 1}' if i > 1 else '*x'] * 50)}]\n" for i in range(1, 5)),
        "schema.yml",
    ),
    schema("huge", Sparse(100 * 1024 * 1024, b"version: 1\n#"), "larger than"),
    schema("a-directory", Folder()),
    schema("a-fifo", Fifo(), ("schema.yml", "a FIFO")),
    schema("link-out-of-the-workspace", Link("../outside/secret.yml")),
]


def test_the_base_workspace_is_valid(tmp_path: Path) -> None:
    from bench.faults_fixtures import materialize

    materialize(tmp_path, BASE)
    done = run_cli("validate", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr


@pytest.mark.parametrize("case", bad_input_params(DATA_CASES, "validate"))
def test_bad_data_file(case: BadInput, tmp_path: Path) -> None:
    check_bad_input(case, tmp_path, BASE)


@pytest.mark.parametrize("case", bad_input_params(STREAMING_CASES, "validate"))
def test_bad_data_file_streamed(case: BadInput, tmp_path: Path) -> None:
    check_bad_input(case, tmp_path, BASE)


@pytest.mark.parametrize("case", bad_input_params(SCHEMA_CASES, "validate"))
def test_bad_schema_file(case: BadInput, tmp_path: Path) -> None:
    check_bad_input(case, tmp_path, BASE)


@pytest.mark.parametrize("value", ["inf", "-inf", "1e309"])
def test_an_infinite_number_is_a_finding(value: str, tmp_path: Path) -> None:
    """inf (or 1e309, which overflows to it) in a number column without bounds: a failed check naming the
    column and row, and no numpy RuntimeWarning leaking into the log."""
    from bench.faults_fixtures import materialize

    unbounded = SCHEMA.replace("nullable: false, min: 0, max: 10", "nullable: false")
    spoiled = CSV.replace("\n0.0,0,a,0\n", f"\n{value},0,a,0\n", 1)
    materialize(tmp_path, {**BASE, "schema.yml": unbounded, "data/test.csv": spoiled})
    done = run_cli("validate", cwd=tmp_path, env={"PYTHONWARNINGS": "default"})
    assert done.returncode == 1, done.stdout + done.stderr
    expected = "data/test.csv: infinite: column 'width' has 1 infinite value(s), the first in data row 1"
    assert expected in done.stderr, done.stderr
    assert "RuntimeWarning" not in done.stdout + done.stderr, done.stderr


def _calls(run: Callable[[], object], targets: dict[str, tuple[object, str]]) -> dict[str, int]:
    """How often `run` calls each target (a module and a function name in it)."""
    counts = dict.fromkeys(targets, 0)

    def counting(name: str, real: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            counts[name] += 1
            return real(*args, **kwargs)

        return call

    with ExitStack() as stack:
        for name, (module, attribute) in targets.items():
            stack.enter_context(mock.patch.object(module, attribute, counting(name, getattr(module, attribute))))
        run()
    return counts


@pytest.mark.parametrize("columns", [200, 2_000])
def test_a_wide_table_costs_a_fixed_number_of_library_calls(columns: int) -> None:
    """10,000 columns × 40 rows took 120 s of CPU in validate: every per-column regex, hash and test was its own
    library call. The PII patterns and the row hashes now run once over all columns, and a KS p-value is
    computed once per (sizes, statistic): counts that must not grow with the columns."""
    import pandas.util
    import pyarrow.compute as pc
    from scipy import stats

    from benchmarks.validation import wide_table
    from mlgate.checks import drift
    from mlgate.checks.validation import CheckOptions, run_checks

    train, test = wide_table(columns, 40, seed=1), wide_table(columns, 40, seed=2)
    drift._KS_RESULTS.clear()
    targets = {"regex": (pc, "extract_regex"), "hash": (pandas.util, "hash_array"), "ks": (stats, "ks_2samp")}
    counts = _calls(lambda: run_checks(train, test, label="label", schema=None, options=CheckOptions()), targets)
    # Six patterns over each file's text columns, once more over the inferred categories, and over the few
    # values a finding quotes; two files of numbers and of text, hashed once for leakage and once for duplicates.
    assert counts["regex"] <= 6 * 6, counts
    assert counts["hash"] <= 2 * 2 * 2, counts
    # A float column of 40 rows against one of 40 has one of 41 statistics (k/40), so at most 41 KS tests.
    floats = [name for name in train.column_names if train.column(name).type == "double"]
    drift._KS_RESULTS.clear()
    ks = _calls(lambda: drift.drift_table(train, test, floats, method="ks", threshold=None), targets)["ks"]
    assert ks <= 41, ks


def test_a_wide_table_is_validated(tmp_path: Path) -> None:
    """The corpus's wide case end to end, at 2,000 columns (each library call counted above): it finishes,
    well within the subprocess's generous bound, with every column in the summary."""
    import pyarrow.parquet as pq
    from bench.faults_fixtures import materialize

    from benchmarks.validation import wide_table

    config = CONFIG.replace(".csv", ".parquet").replace("target", "label").replace("  schema: schema.yml\n", "")
    materialize(tmp_path, {"mlgate.yml": config, "data/": Folder()})
    for name, seed in (("train", 1), ("test", 2)):
        pq.write_table(wide_table(2_000, 40, seed=seed), tmp_path / f"data/{name}.parquet")
    done = run_cli("validate", cwd=tmp_path, timeout=120)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "(40 train rows, 40 test rows, 2001 columns)" in done.stdout.splitlines()[0], done.stdout


LONG_ROW = "1.5,2," + "a" * 5_000_000 + ",0\n"  # past the 1 MiB CSV block, and the streaming reader's 4 MiB


@pytest.mark.parametrize("exact", ["true", "false"])
def test_a_row_longer_than_a_block_is_read(exact: str, tmp_path: Path) -> None:
    """A CSV row over ~1 MiB once failed ("straddling object straddles two block boundaries"): it is read, in
    memory and streamed, as one more row (its 5 MB category a schema warning, as any new category is)."""
    from bench.faults_fixtures import materialize

    lines = CSV.splitlines(keepends=True)
    long_test = "".join(lines[:20]) + LONG_ROW + "".join(lines[20:])
    config = CONFIG.replace("  schema: schema.yml\n", f"  exact: {exact}\n")
    materialize(tmp_path, {**BASE, "mlgate.yml": config, "data/test.csv": long_test})
    done = run_cli("validate", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "(60 train rows, 61 test rows, 4 columns)" in done.stdout.splitlines()[0], done.stdout


def test_a_header_longer_than_a_block_is_read(tmp_path: Path) -> None:
    """A header over the block size (70,000 columns) was called 'is empty' by both readers."""
    from mlgate.adapters.datafiles import read_data_file
    from mlgate.stream.source import open_source

    names = [f"column_{i:07d}" for i in range(70_000)]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + ",".join("1" * len(names)) + "\n", encoding="utf-8")
    assert path.stat().st_size > 1 << 20
    assert read_data_file(path).columns == names
    assert open_source(path).columns == names
