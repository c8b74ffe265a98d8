"""PII (GDPR) scan: e-mail addresses, phone numbers, payment cards, IBANs, IP addresses, US SSNs.

The regexes run (as RE2, inside Arrow) over each column's distinct values only, weighted by how often each
occurs, so a million rows of a 20-value category cost 20 matches. Card numbers must pass the Luhn check and
IBANs the ISO 13616 mod-97 check, both vectorized over a digit matrix. Findings carry counts and a MASKED
example only; the raw value never leaves this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlgate.checks import Finding
from mlgate.checks.columns import kind_of, value_counts

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

ALLOW_RULE = ("config", "data", "checks", "pii", "allow_columns")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
PATTERNS = {
    "email": r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
    "payment_card": r"\b(?:\d[ \-]?){12,18}\d\b",
    "iban": r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b",
    # Area 001-899 except 666, group 01-99, serial 0001-9999 (the SSA's never-issued values excluded).
    "ssn": r"\b(?:00[1-9]|0[1-9]\d|[1-578]\d\d|6[0-57-9]\d|66[0-57-9])-(?:0[1-9]|[1-9]\d)-"
    r"(?:000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d\d\d)\b",
    "ip_address": rf"\b{_OCTET}(?:\.{_OCTET}){{3}}\b|\b(?:[0-9a-fA-F]{{1,4}}:){{7}}[0-9a-fA-F]{{1,4}}\b",
    # International (+country code) or North-American formats; bare digit runs are too ambiguous to call phones.
    "phone": r"\+\d{1,3}[ .\-]?(?:\(\d{1,4}\)[ .\-]?)?\d{2,4}(?:[ .\-]?\d{2,4}){1,3}\b"
    r"|\(\d{3}\) ?\d{3}-\d{4}\b|\b\d{3}[.\-]\d{3}[.\-]\d{4}\b",
}
_CARD_WIDTH = 19
_IBAN_WIDTH = 34
# Integer columns this large may hold card numbers read as numbers; smaller ones cannot.
_CARD_MIN_VALUE = 10**12
# Distinct text scanned in one regex pass over several columns: large enough that per-call overhead vanishes,
# small enough that the concatenated copy stays far from Arrow's 2 GiB string-array limit.
_SCAN_BATCH_BYTES = 64 << 20


@dataclass(frozen=True)
class PiiHit:
    column: str
    kind: str
    rows: int
    example: str  # masked


def _digit_matrix(strings: pa.Array, width: int) -> np.ndarray:
    """Left-pad each (ASCII) string with '0' to `width` and view the lot as an (n, width) uint8 matrix."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    padded = pc.utf8_lpad(strings, width, "0")
    padded = pa.concat_arrays([padded]) if isinstance(padded, pa.ChunkedArray) else padded
    offsets = np.frombuffer(padded.buffers()[1], dtype=np.int32)[padded.offset : padded.offset + len(padded) + 1]
    data = np.frombuffer(padded.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(len(padded), width)


def luhn_valid(digits: pa.Array) -> np.ndarray:
    """Luhn check of digit-only strings of 13 to 19 digits (anything else is invalid)."""
    import numpy as np
    import pyarrow.compute as pc

    lengths = pc.utf8_length(digits).to_numpy(zero_copy_only=False)
    ok = (lengths >= 13) & (lengths <= _CARD_WIDTH)
    if not ok.any():
        return ok
    matrix = _digit_matrix(pc.utf8_slice_codeunits(digits, 0, _CARD_WIDTH), _CARD_WIDTH).astype(np.int64) - 48
    doubled = matrix[:, _CARD_WIDTH - 2 :: -2] * 2  # every second digit from the right, check digit excluded
    total = matrix[:, _CARD_WIDTH - 1 :: -2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(axis=1)
    return ok & (total % 10 == 0)


def iban_valid(compact: pa.Array) -> np.ndarray:
    """ISO 13616: move the first four characters to the end, letters to 10..35, the number mod 97 must be 1."""
    import numpy as np
    import pyarrow.compute as pc

    lengths = pc.utf8_length(compact).to_numpy(zero_copy_only=False)
    ok = (lengths >= 15) & (lengths <= _IBAN_WIDTH)
    if not ok.any():
        return ok
    clipped = pc.utf8_slice_codeunits(compact, 0, _IBAN_WIDTH)
    rearranged = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(clipped, 4, _IBAN_WIDTH), pc.utf8_slice_codeunits(clipped, 0, 4), ""
    )
    matrix = _digit_matrix(rearranged, _IBAN_WIDTH).astype(np.int64)
    is_letter = matrix >= ord("A")
    values = np.where(is_letter, matrix - ord("A") + 10, matrix - ord("0"))
    remainder = np.zeros(len(matrix), dtype=np.int64)
    for position in range(_IBAN_WIDTH):  # 34 vector steps, whatever the row count
        scale = np.where(is_letter[:, position], 100, 10)
        remainder = (remainder * scale + values[:, position]) % 97
    return ok & (remainder == 1)


def _mask(kind: str, value: str) -> str:
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@***.{domain.rsplit('.', 1)[-1]}"
    if kind == "ip_address":
        separator = "." if "." in value else ":"
        head = value.split(separator)[0]
        return separator.join([head] + ["*"] * (value.count(separator)))
    digits_kept = {"payment_card": 4, "iban": 4, "ssn": 4, "phone": 2}[kind]
    keep_from = len(value)
    seen = 0
    for index in range(len(value) - 1, -1, -1):
        if value[index].isalnum():
            seen += 1
            if seen == digits_kept:
                keep_from = index
                break
    prefix = value[:2] if kind == "iban" else ""
    masked = "".join("*" if char.isalnum() else char for char in value[len(prefix) : keep_from])
    return prefix + masked + value[keep_from:]


def _matches(distinct: pa.Array, kind: str) -> tuple[np.ndarray, pa.Array]:
    """(matching mask over distinct values, the matched substrings)."""
    import numpy as np
    import pyarrow.compute as pc

    extracted = pc.extract_regex(distinct, f"(?P<hit>{PATTERNS[kind]})")
    # A non-matching value is a null struct; its child field holds a meaningless empty string.
    found = extracted.is_valid().to_numpy(zero_copy_only=False)
    matched = extracted.field("hit")
    if kind == "payment_card":
        digits = pc.replace_substring_regex(matched.fill_null(""), r"[^0-9]", "")
        # An IBAN's digit groups (valid or mistyped) are no card, even when they happen to pass Luhn.
        iban_shaped = pc.match_substring_regex(distinct, PATTERNS["iban"]).to_numpy(zero_copy_only=False)
        found = found & luhn_valid(digits) & ~iban_shaped
    elif kind == "iban":
        compact = pc.replace_substring(matched.fill_null(""), " ", "")
        found = found & iban_valid(compact)
    return np.asarray(found, dtype=bool), matched


def mask_values(values: Sequence[str]) -> list[str]:
    """The values with every PII match masked, for messages of other checks that quote data values."""
    import numpy as np
    import pyarrow as pa

    distinct = pa.array(list(values), type=pa.string())
    shown = list(values)
    for kind in PATTERNS:
        found, matched = _matches(distinct, kind)
        for index in np.flatnonzero(found):  # a handful of quoted values, never a column
            shown[index] = shown[index].replace(matched[index].as_py(), _mask(kind, matched[index].as_py()))
    return shown


def holds_pii(lists: Sequence[Sequence[str]]) -> list[bool]:
    """Whether each list of text values holds personal data (any match mask_values would mask), in one scan."""
    import numpy as np
    import pyarrow as pa

    hits = scan_many(
        [(str(index), pa.array(values, type=pa.string()), np.ones(len(values))) for index, values in enumerate(lists)]
    )
    flagged = {int(hit.column) for hit in hits}
    return [index in flagged for index in range(len(lists))]


def scannable(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray | None:
    """The column as text when the scan applies to it (text, or integers large enough to be card numbers)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = kind_of(column.type)
    if kind == "integer" and (pc.max(column).as_py() or 0) >= _CARD_MIN_VALUE:
        return column.cast(pa.string())
    return column if kind == "string" else None


def scan_column(name: str, column: pa.ChunkedArray) -> list[PiiHit]:
    text = scannable(column)
    return [] if text is None else scan_distinct(name, *value_counts(text))


def scan_distinct(name: str, distinct: pa.Array, counts: np.ndarray) -> list[PiiHit]:
    """The hits among a column's distinct text values, each weighted by how many rows hold it."""
    return scan_many([(name, distinct, counts)])


def scan_many(columns: Sequence[tuple[str, pa.Array, np.ndarray]]) -> list[PiiHit]:
    """The hits of several columns' (name, distinct text values, rows of each), column by column and in
    PATTERNS order within one, as scan_distinct of each would give them.

    The columns' values are scanned as one array, each pattern once per batch of columns: a table of 10,000
    text columns is six regex passes, not 60,000 small ones (their per-call cost dominated wide tables)."""
    hits: list[PiiHit] = []
    batch: list[tuple[str, pa.Array, np.ndarray]] = []
    size = 0
    for name, distinct, counts in columns:
        if not len(distinct):
            continue
        batch.append((name, distinct, counts))
        size += distinct.nbytes
        if size >= _SCAN_BATCH_BYTES:
            hits += _scan_batch(batch)
            batch, size = [], 0
    return hits + _scan_batch(batch) if batch else hits


def _scan_batch(batch: Sequence[tuple[str, pa.Array, np.ndarray]]) -> list[PiiHit]:
    import numpy as np
    import pyarrow as pa

    arrays = [distinct.cast(pa.string()) for _, distinct, _ in batch]
    text = pa.concat_arrays([a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in arrays])
    counts = np.concatenate([np.asarray(rows, dtype=np.int64) for *_, rows in batch])
    owner = np.repeat(np.arange(len(batch)), [len(a) for a in arrays])
    by_column: dict[int, list[PiiHit]] = {}
    for kind in PATTERNS:
        found, matched = _matches(text, kind)
        if not found.any():
            continue
        positions = np.flatnonzero(found)
        rows = np.bincount(owner[positions], weights=counts[positions], minlength=len(batch))
        owners, firsts = np.unique(owner[positions], return_index=True)  # `owner` ascends: each one's first hit
        for column, first in zip(owners.tolist(), positions[firsts].tolist(), strict=True):
            example = _mask(kind, matched[first].as_py())
            by_column.setdefault(column, []).append(PiiHit(batch[column][0], kind, int(rows[column]), example))
    return [hit for column in sorted(by_column) for hit in by_column[column]]


def pii_findings(table: pa.Table, *, dataset: str, allow_columns: Sequence[str]) -> list[Finding]:
    texts = ((name, scannable(table.column(name))) for name in table.column_names)
    hits = scan_many([(name, *value_counts(text)) for name, text in texts if text is not None])
    return pii_findings_from_hits(hits, dataset=dataset, allow_columns=allow_columns)


def pii_findings_from_hits(hits: Sequence[PiiHit], *, dataset: str, allow_columns: Sequence[str]) -> list[Finding]:
    findings = []
    for hit in hits:
        allowed = hit.column in allow_columns
        label = hit.kind.replace("_", " ")
        findings.append(
            Finding(
                "pii",
                "pass" if allowed else "fail",
                f"column '{hit.column}' holds {label}s in {hit.rows} rows (e.g. {hit.example})"
                + (", allowed by data.checks.pii.allow_columns" if allowed else ""),
                dataset,
                hit.column,
                {"kind": hit.kind, "rows": hit.rows, "example": hit.example, "allowed": allowed},
                ALLOW_RULE,
            )
        )
    if not hits:
        findings.append(Finding("pii", "pass", "no personal data found in text columns", dataset))
    return findings
