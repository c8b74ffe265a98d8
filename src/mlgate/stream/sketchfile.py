"""A partition's summaries on disk (`--partition i/n` writes one, `--merge` reads them all), and their merge.

The file is a NumPy .npz archive (read with allow_pickle=False: no code runs on load): a JSON header
(format, its version, the mlgate version, which partition of how many, the label) and, per file and column,
Arrow IPC bytes (schema, min/max, category counts), DataSketches' own KLL serialization, the HLL registers and
the hash samples as arrays. A merge takes only a complete set of one run's partitions, from one mlgate
version, whose schemas agree; anything else is an input error naming the file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import __version__
from mlgate.errors import InputError
from mlgate.stream.numeric import NumericSketch, new_kll
from mlgate.stream.summary import ColumnSummary, DatasetSummary, HashSample

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

FORMAT = "mlgate-validation-sketch"
FORMAT_VERSION = 2
SUFFIX = ".mlgate-sketch"


@dataclass
class Partial:
    path: Path
    partition: int  # 0-based
    partitions: int
    label: str
    datasets: dict[str, DatasetSummary]


def partial_name(partition: int, partitions: int) -> str:
    return f"validation-partition-{partition + 1:04d}-of-{partitions:04d}{SUFFIX}"


def _bytes(data: bytes) -> np.ndarray:
    import numpy as np

    return np.frombuffer(data, dtype=np.uint8)


def _ipc(batch: pa.RecordBatch) -> np.ndarray:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return _bytes(sink.getvalue().to_pybytes())


def _from_ipc(array: np.ndarray) -> pa.RecordBatch:
    import pyarrow as pa

    return pa.ipc.open_stream(pa.py_buffer(array.tobytes())).read_next_batch()


def _finite(value: float) -> float | None:
    return None if math.isinf(value) else value


def _hash_meta(sample: HashSample) -> dict[str, Any]:
    sample.finish()
    return {"budget": sample.budget, "threshold": sample.threshold, "seen": sample.seen}


def _dataset_parts(summary: DatasetSummary, prefix: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    import pyarrow as pa

    arrays = {f"{prefix}/schema": _bytes(summary.schema.serialize().to_pybytes())}
    bounds = pa.record_batch(
        [pa.array([c.low, c.high], type=c.type) for c in summary.columns.values()], names=list(summary.columns)
    )
    arrays[f"{prefix}/bounds"] = _ipc(bounds)
    columns = []
    for index, column in enumerate(summary.columns.values()):
        counts = pa.record_batch(
            [pa.array(list(column.counts), type=column.type), pa.array(list(column.counts.values()), pa.int64())],
            names=["value", "count"],
        )
        arrays[f"{prefix}/counts/{index}"] = _ipc(counts)
        arrays[f"{prefix}/hll/{index}"] = column.hll
        numbers = column.numbers
        if numbers is not None:
            arrays[f"{prefix}/kll/{index}"] = _bytes(numbers.sketch.serialize())
        columns.append(
            {
                "name": column.name,
                "ranges": [[_finite(low), _finite(high)] for low, high in column.ranges],
                "rows": column.rows,
                "nulls": column.nulls,
                "nans": column.nans,
                "overflowed": column.overflowed,
                "pii": column.pii,
                "outside": column.outside,
                "moments": [numbers.count, numbers.mean, numbers.m2, numbers.nulls] if numbers else None,
            }
        )
    for kind, sample in (("feature", summary.feature_hashes), ("row", summary.row_hashes)):
        arrays[f"{prefix}/{kind}/hashes"], arrays[f"{prefix}/{kind}/counts"] = sample.hashes, sample.counts
    meta = {
        "role": summary.role,
        "path": summary.path,
        "format": summary.format,
        "features": list(summary.features),
        "rows": summary.rows,
        "batches": summary.batches,
        "feature_hashes": _hash_meta(summary.feature_hashes),
        "row_hashes": _hash_meta(summary.row_hashes),
        "columns": columns,
    }
    return meta, arrays


def write_partial(path: Path, partition: int, partitions: int, label: str, datasets: Sequence[DatasetSummary]) -> None:
    import numpy as np

    arrays: dict[str, np.ndarray] = {}
    metas = []
    for summary in datasets:
        meta, parts = _dataset_parts(summary, summary.role)
        metas.append(meta)
        arrays |= parts
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "mlgate": __version__,
        "partition": partition,
        "partitions": partitions,
        "label": label,
        "datasets": metas,
    }
    arrays["header"] = _bytes(json.dumps(header).encode("utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as handle:
        np.savez(handle, **arrays)
    temporary.replace(path)


def _bound(value: float | None, default: float) -> float:
    return default if value is None else value


def _read_dataset(meta: dict[str, Any], archive: Any) -> DatasetSummary:
    import pyarrow as pa

    role = meta["role"]
    schema = pa.ipc.read_schema(pa.py_buffer(archive[f"{role}/schema"].tobytes()))
    bounds = _from_ipc(archive[f"{role}/bounds"])
    columns = {}
    for index, (field, spec) in enumerate(zip(schema, meta["columns"], strict=True)):
        counts = _from_ipc(archive[f"{role}/counts/{index}"])
        kll_key = f"{role}/kll/{index}"
        low, high = bounds.column(index).to_pylist()
        columns[field.name] = ColumnSummary(
            name=field.name,
            type=field.type,
            ranges=tuple((_bound(lo, -math.inf), _bound(hi, math.inf)) for lo, hi in spec["ranges"]),
            rows=spec["rows"],
            nulls=spec["nulls"],
            nans=spec["nans"],
            low=low,
            high=high,
            counts=dict(zip(counts.column(0).to_pylist(), counts.column(1).to_pylist(), strict=True)),
            overflowed=spec["overflowed"],
            pii={kind: list(tally) for kind, tally in spec["pii"].items()},
            outside=list(spec["outside"]),
            numbers=_numbers(archive[kll_key], spec["moments"]) if kll_key in archive.files else None,
            hll=archive[f"{role}/hll/{index}"].copy(),
        )
    samples = [
        HashSample(
            meta[f"{kind}_hashes"]["budget"],
            meta[f"{kind}_hashes"]["threshold"],
            archive[f"{role}/{kind}/hashes"],
            archive[f"{role}/{kind}/counts"],
            meta[f"{kind}_hashes"]["seen"],
        )
        for kind in ("feature", "row")
    ]
    return DatasetSummary(
        role,
        meta["path"],
        meta["format"],
        schema,
        tuple(meta["features"]),
        columns,
        *samples,
        meta["rows"],
        meta["batches"],
    )


def _numbers(kll: np.ndarray, moments: list) -> NumericSketch:
    count, mean, m2, nulls = moments
    return NumericSketch(new_kll(kll.tobytes()), int(count), float(mean), float(m2), int(nulls))


def read_partial(path: Path) -> Partial:
    import zipfile

    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as archive:
            header = json.loads(archive["header"].tobytes().decode("utf-8"))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise InputError("is not an mlgate validation sketch", file=path)
            if header.get("mlgate") != __version__ or header.get("format_version") != FORMAT_VERSION:
                raise InputError(
                    f"was written by mlgate {header.get('mlgate')} (sketch format {header.get('format_version')}); "
                    f"this is mlgate {__version__} (format {FORMAT_VERSION}): run every partition with one version",
                    file=path,
                )
            datasets = {meta["role"]: _read_dataset(meta, archive) for meta in header["datasets"]}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise InputError(f"is not a readable mlgate validation sketch ({type(exc).__name__})", file=path) from None
    return Partial(path, header["partition"], header["partitions"], header["label"], datasets)


def find_partials(folders: Sequence[Path]) -> list[Path]:
    found = []
    for folder in folders:
        if not folder.is_dir():
            raise InputError("is not a folder of partition sketches", file=folder)
        found += sorted(folder.rglob(f"*{SUFFIX}"))
    if not found:
        shown = ", ".join(str(folder) for folder in folders)
        raise InputError(f"no partition sketches (*{SUFFIX}) in {shown}")
    return found


def _schema_difference(schema: pa.Schema, first: pa.Schema) -> str | None:
    if schema.names != first.names:
        return f"columns {schema.names} instead of {first.names}"
    for here, there in zip(schema, first, strict=True):
        if here.type != there.type:
            return f"column '{here.name}' is {here.type} there, {there.type} in partition 1"
    return None


def merge_partials(paths: Sequence[Path]) -> Partial:
    """The partials of one run, checked complete and consistent, merged in partition order."""
    partials = [read_partial(path) for path in paths]
    first = min(partials, key=lambda partial: partial.partition)
    by_index: dict[int, Partial] = {}
    for partial in partials:
        if partial.partitions != first.partitions:
            raise InputError(
                f"is partition {partial.partition + 1} of {partial.partitions}, but {first.path} is of "
                f"{first.partitions}: merge the partitions of one run",
                file=partial.path,
            )
        if partial.partition in by_index:
            raise InputError(
                f"is partition {partial.partition + 1}/{partial.partitions} again ({by_index[partial.partition].path} "
                "is too): merge each partition once",
                file=partial.path,
            )
        if partial.label != first.label or set(partial.datasets) != set(first.datasets):
            raise InputError(f"was made with another label or other data files than {first.path}", file=partial.path)
        by_index[partial.partition] = partial
    missing = [index + 1 for index in range(first.partitions) if index not in by_index]
    if missing:
        found = ", ".join(str(index + 1) for index in sorted(by_index))
        raise InputError(
            f"partition {missing[0]}/{first.partitions} is missing: the sketches found are of partitions {found}"
        )
    ordered = [by_index[index] for index in range(first.partitions)]
    merged = ordered[0]
    for partial in ordered[1:]:
        for role, summary in partial.datasets.items():
            difference = _schema_difference(summary.schema, merged.datasets[role].schema)
            if difference is not None:
                raise InputError(
                    f"partition {partial.partition + 1}/{partial.partitions}'s {role} data has another schema: "
                    f"{difference}",
                    file=partial.path,
                )
            merged.datasets[role].merge(summary)
    return merged
