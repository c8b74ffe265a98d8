"""Bad-input corpus of `mlgate validate`: data files and the data schema file, each as named by mlgate.yml.

tests/test_validate_cli.py pins the train file's own readers (empty, header only, foreign delimiters,
latin-1, duplicate columns, fake Parquet, missing label); these are the other ways in: the test file, other
encodings, cut rows and cut Parquet, folders and links where files belong, and every way the schema file
can be broken. The base workspace below is valid: only the case's files differ.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

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
