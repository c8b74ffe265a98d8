"""`data.engine: spark`: the per-partition summaries computed by Spark's executors, merged on the driver.

Each Spark partition of the data is summarized where it lives (DataFrame.mapInArrow hands the executor Arrow
record batches; the executor runs the same DatasetSummary.update as a local pass and returns its summary as
one sketch blob), and the driver merges the blobs exactly as `--merge` merges a matrix's sketch files. The
executors need mlgate installed (on a cluster: the same image or a --py-files archive); locally they are the
driver's own interpreter. Spark reads the Parquet data itself, so the data may be as large as the cluster.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

from mlgate.errors import InputError
from mlgate.stream.scan import HASH_SAMPLE_SHARE
from mlgate.stream.summary import DatasetSummary

if TYPE_CHECKING:
    import pyarrow as pa

    from mlgate.stream.source import Source

_APP_NAME = "mlgate validate"


def _summarize_partition(
    batches: Iterator[pa.RecordBatch],
    *,
    role: str,
    path: str,
    schema_bytes: bytes,
    features: Sequence[str],
    budget: int,
    ranges: Mapping[str, tuple[float, float]],
) -> Iterator[pa.RecordBatch]:
    """On an executor: one partition's batches into one summary, returned as a one-row batch of its bytes."""
    import pyarrow as pa

    from mlgate.stream.sketchfile import summary_bytes

    schema = pa.ipc.read_schema(pa.py_buffer(schema_bytes))
    summary = DatasetSummary.empty(role, path, "parquet", schema, features, budget=budget, ranges=ranges)
    for batch in batches:
        if batch.num_rows:
            summary.update(batch.cast(schema))  # Spark's Arrow types (timestamps in UTC) back to the file's
    yield pa.record_batch([pa.array([summary_bytes(summary.finish())], pa.binary())], names=["sketch"])


def spark_session(master: str | None):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(_APP_NAME)
    if master:
        builder = builder.master(master)
    return builder.getOrCreate()


def summarize_with_spark(
    source: Source,
    role: str,
    features: Sequence[str],
    *,
    budget: int,
    ranges: Mapping[str, tuple[float, float]],
    master: str | None,
) -> tuple[DatasetSummary, int]:
    """The summary of all of `source`, its Spark partitions summarized by the executors and merged here; and
    how many partitions there were."""
    from mlgate.stream.sketchfile import summary_from_bytes

    if source.format != "parquet":
        raise InputError("is CSV; data.engine: spark reads Parquet (convert it, or drop data.engine)", file=source.path)
    budget = int(budget * HASH_SAMPLE_SHARE)
    spark = spark_session(master)
    frame = spark.read.parquet(*(str(file) for file in source.files))
    work = partial(
        _summarize_partition,
        role=role,
        path=source.name,
        schema_bytes=source.schema.serialize().to_pybytes(),
        features=tuple(features),
        budget=budget,
        ranges=dict(ranges),
    )
    merged = DatasetSummary.empty(role, source.name, "parquet", source.schema, features, budget=budget, ranges=ranges)
    partitions = 0
    for row in frame.mapInArrow(work, "sketch binary").toLocalIterator():
        merged.merge(summary_from_bytes(bytes(row["sketch"])))
        partitions += 1
    return merged.finish(), partitions
