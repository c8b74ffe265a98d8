"""The built-in data checks on datasets scikit-learn ships, with faults injected into a copy of the test split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance
from sklearn import datasets
from sklearn.model_selection import train_test_split

from mlgate.checks.drift import _jensenshannon, _wasserstein_sorted, column_drift, drift_findings
from mlgate.checks.pii import iban_valid, luhn_valid, scan_column
from mlgate.checks.quality import row_hashes
from mlgate.checks.sampling import stratified_sample
from mlgate.checks.schema import infer_schema, schema_from_document, schema_to_document
from mlgate.checks.validation import BuiltinResult, CheckOptions, run_checks

LOADERS = {
    "breast_cancer": datasets.load_breast_cancer,
    "wine": datasets.load_wine,
    "iris": datasets.load_iris,
    "digits": datasets.load_digits,
    "diabetes": datasets.load_diabetes,
}
VALID_CARDS = ["4111 1111 1111 1111", "5555-5555-5555-4444", "3782 822463 10005", "6011111111111117"]
INVALID_CARDS = ["4111 1111 1111 1112", "5555-5555-5555-4445", "1234 5678 9012 3456"]
VALID_IBANS = ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "FR1420041010050500013M02606"]
INVALID_IBANS = ["DE89 3704 0044 0532 0130 01", "GB82WEST12345698765433"]


def load(name: str) -> pd.DataFrame:
    return LOADERS[name](as_frame=True).frame


def split(frame: pd.DataFrame, seed: int = 0, *, stratified: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    # diabetes has a numeric target, which cannot stratify
    classes = frame["target"] if stratified and frame["target"].nunique() <= 20 else None
    train, test = train_test_split(frame, test_size=0.25, random_state=seed, stratify=classes)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def check(train: pd.DataFrame, test: pd.DataFrame | None, **options: object) -> BuiltinResult:
    return run_checks(
        arrow(train),
        arrow(test) if test is not None else None,
        label="target",
        schema=None,
        options=CheckOptions(**options),
    )


def problems(result: BuiltinResult) -> list[tuple[str, str, str | None]]:
    return [(f.check, f.severity, f.column) for f in result.findings if f.severity != "pass"]


def only_problem(result: BuiltinResult) -> object:
    flagged = [f for f in result.findings if f.severity != "pass"]
    assert len(flagged) == 1, [f.message for f in flagged]
    return flagged[0]


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "diabetes"])
def test_clean_random_split_raises_no_alarm(name: str) -> None:
    train, test = split(load(name))
    result = check(train, test)
    assert problems(result) == []
    assert result.verdict == "pass"
    assert {f.check for f in result.findings} >= {"nulls", "duplicates", "leakage", "label", "drift", "pii"}


def test_nulls_over_the_limit_fail_with_the_fraction() -> None:
    train, test = split(load("breast_cancer"))
    test.loc[test.index[:15], "mean texture"] = np.nan  # 15 of 143 rows
    finding = only_problem(check(train, test))
    assert (finding.check, finding.severity, finding.dataset, finding.column) == (
        "nulls",
        "fail",
        "test",
        "mean texture",
    )
    assert finding.message == "column 'mean texture' is 10.5% missing, above the allowed 5.0%"
    assert finding.rule == ("config", "data", "checks", "nulls", "max_fraction")


def test_nulls_under_a_raised_limit_pass_but_are_reported() -> None:
    train, test = split(load("breast_cancer"))
    test.loc[test.index[:15], "mean texture"] = np.nan
    result = check(train, test, nulls_max_fraction=0.2)
    assert problems(result) == []
    test_nulls = next(f for f in result.findings if f.check == "nulls" and f.dataset == "test")
    assert test_nulls.numbers["null_fractions"] == {"mean texture": round(15 / 143, 6)}


def _with_grade(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["grade"] = pd.cut(frame["alcohol"], [0, 12.5, 13.5, 99], labels=["low", "mid", "high"]).astype(str)
    return frame


def test_new_category_in_test_is_flagged_by_the_schema_check() -> None:
    train, test = split(_with_grade(load("wine")))
    test.loc[test.index[:4], "grade"] = "unknown"
    finding = only_problem(check(train, test))
    assert (finding.check, finding.severity, finding.column) == ("schema", "warn", "grade")
    assert finding.message == "column 'grade' has 1 new category not in the train data: 'unknown' (4 rows)"


def test_new_category_fails_against_a_reviewed_schema() -> None:
    train, test = split(_with_grade(load("wine")))
    test.loc[test.index[:4], "grade"] = "unknown"
    schema = infer_schema(arrow(train), label="target")
    result = run_checks(arrow(train), arrow(test), label="target", schema=schema, options=CheckOptions())
    flagged = [f for f in result.findings if f.severity == "fail"]
    assert [(f.check, f.dataset, f.column, f.rule) for f in flagged] == [
        ("schema", "test", "grade", ("schema", "columns", "grade", "categories"))
    ]
    assert "not in the schema: 'unknown'" in flagged[0].message


def test_shifted_numeric_column_is_the_drifted_one() -> None:
    train, test = split(load("breast_cancer"))
    test["mean radius"] += 2 * train["mean radius"].std()
    result = check(train, test)
    drifted = [d for d in result.drift if d.drifted]
    assert [d.column for d in drifted] == ["mean radius"]
    assert (drifted[0].method, drifted[0].threshold) == ("ks", 0.05)
    assert drifted[0].p_value < 1e-10
    drift = next(f for f in result.findings if f.check == "drift")
    assert drift.severity == "pass"  # one column of 30 is no dataset drift
    assert drift.message.startswith("1 of 30 columns drifted (3%, at most 50%): mean radius (ks p=")


def test_dataset_drift_fails_when_most_columns_shift() -> None:
    train, test = split(load("wine"))
    features = [c for c in test.columns if c != "target"]
    test[features] = test[features] * 1.5
    drift = next(f for f in check(train, test).findings if f.check == "drift")
    assert drift.severity == "fail"
    assert drift.message.startswith("dataset drift: ")
    assert drift.numbers["drifted_share"] > 0.5


def test_large_reference_uses_distances() -> None:
    train, test = split(load("digits"))  # 1347 train rows: above the 1000-row limit of the tests
    test["pixel_0_4"] = test["pixel_0_4"] + 4
    result = check(train, test)
    by_column = {d.column: d for d in result.drift}
    assert by_column["pixel_0_4"].method == "wasserstein"
    assert by_column["pixel_0_4"].drifted and by_column["pixel_0_4"].p_value is None
    assert by_column["pixel_0_0"].kind == "categorical"  # a constant-zero column has one value
    assert {d.method for d in result.drift} == {"wasserstein", "jensenshannon"}
    strongest = max((d for d in result.drift if d.method == "wasserstein"), key=lambda d: d.statistic)
    assert strongest.column == "pixel_0_4" and strongest.statistic > 1.0
    assert next(f for f in result.findings if f.check == "drift").severity == "pass"


@pytest.mark.parametrize(
    ("method", "expected"),
    [("psi", "psi"), ("ks", "ks"), ("wasserstein", "wasserstein"), ("jensenshannon", "jensenshannon")],
)
def test_explicit_numeric_methods(method: str, expected: str) -> None:
    train, test = split(load("breast_cancer"))
    test["mean area"] = test["mean area"] * 2
    result = column_drift(
        "mean area", arrow(train).column("mean area"), arrow(test).column("mean area"), method=method, threshold=None
    )
    assert result is not None and result.method == expected and result.drifted


def test_method_that_does_not_fit_falls_back_with_a_note() -> None:
    train, test = split(_with_grade(load("wine")))
    result = column_drift(
        "grade", arrow(train).column("grade"), arrow(test).column("grade"), method="ks", threshold=None
    )
    assert result is not None and result.method == "chi2"
    assert result.note == "ks does not apply to categorical columns; used chi2"


def _false_alarm_rate(frame: pd.DataFrame, splits: int, **options: object) -> tuple[float, int]:
    alarms = tests = 0
    for seed in range(splits):
        # Unstratified: stratifying by a label the features predict balances them, and the tests turn conservative.
        train, test = (arrow(part) for part in split(frame, seed, stratified=False))
        features = [c for c in train.column_names if c != "target"]
        drift = [column_drift(c, train.column(c), test.column(c), **options) for c in features]  # type: ignore[arg-type]
        alarms += sum(d.drifted for d in drift if d is not None)
        tests += sum(d is not None for d in drift)
    return alarms / tests, tests


def test_false_alarm_rate_of_the_tests_stays_near_the_configured_level() -> None:
    """Random splits are drift-free by construction: the share of flagged columns estimates the test's size."""
    frame = load("breast_cancer")
    rate, tests = _false_alarm_rate(frame, 50, method="auto", threshold=None)
    assert tests == 50 * 30
    assert 0.03 <= rate <= 0.08, rate
    rate_10, _ = _false_alarm_rate(frame, 50, method="auto", threshold=0.1)
    assert 0.07 <= rate_10 <= 0.14, rate_10


def test_false_alarm_rate_of_categorical_tests() -> None:
    frame = load("wine")
    binned = pd.DataFrame({"target": frame["target"]})
    for column in [c for c in frame.columns if c != "target"]:
        binned[column] = pd.qcut(frame[column], 4, labels=["q1", "q2", "q3", "q4"], duplicates="drop").astype(str)
    binned["high_alcohol"] = (frame["alcohol"] > frame["alcohol"].median()).map({True: "yes", False: "no"})
    rate, tests = _false_alarm_rate(binned, 50, method="auto", threshold=None)
    assert tests == 50 * 14
    assert 0.02 <= rate <= 0.09, rate


def test_wasserstein_and_jensenshannon_match_scipy() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=1200), rng.exponential(size=700)
    assert _wasserstein_sorted(np.sort(a), np.sort(b)) == pytest.approx(wasserstein_distance(a, b), rel=1e-9)
    p, q = np.array([10.0, 5, 0, 3]), np.array([1.0, 5, 7, 0])
    assert _jensenshannon(p, q) == pytest.approx(jensenshannon(p / p.sum(), q / q.sum()))


def test_drift_findings_of_no_columns() -> None:
    assert drift_findings([], max_drifted_share=0.5)[0].message == "no comparable columns"


def _with_column(frame: pd.DataFrame, name: str, values: list[str], seed: int = 0) -> pd.DataFrame:
    frame = frame.copy()
    frame[name] = np.random.default_rng(seed).choice(values, len(frame))
    return frame


def test_email_column_fails_pii_with_a_masked_example() -> None:
    train, test = split(load("breast_cancer"))
    test["contact"] = [f"patient{i}@clinic.example.org" for i in range(len(test))]
    train["contact"] = "n/a"
    result = check(train, test)
    pii = [f for f in result.findings if f.check == "pii" and f.severity == "fail"]
    assert [(f.dataset, f.column, f.numbers["kind"], f.numbers["rows"]) for f in pii] == [
        ("test", "contact", "email", len(test))
    ]
    assert pii[0].numbers["example"] == "p***@***.org"
    assert "patient" not in pii[0].message and "clinic" not in pii[0].message


def test_allowed_pii_column_passes() -> None:
    train, test = split(load("breast_cancer"))
    test["contact"] = [f"patient{i}@clinic.example.org" for i in range(len(test))]
    train["contact"] = "n/a"
    result = check(train, test, pii_allow_columns=("contact",))
    pii = [f for f in result.findings if f.check == "pii" and f.column == "contact"]
    assert [(f.severity, f.numbers["allowed"]) for f in pii] == [("pass", True)]


def test_only_luhn_valid_card_numbers_are_flagged() -> None:
    _, test = split(load("breast_cancer"))
    cards = VALID_CARDS + INVALID_CARDS
    test["card"] = [cards[i % len(cards)] for i in range(len(test))]
    expected = sum(1 for i in range(len(test)) if i % len(cards) < len(VALID_CARDS))
    hits = scan_column("card", arrow(test).column("card"))
    assert [(h.kind, h.rows) for h in hits] == [("payment_card", expected)]
    assert hits[0].example.endswith("1111") and hits[0].example.count("*") >= 12
    only_invalid = pa.chunked_array([INVALID_CARDS * 10])
    assert scan_column("card", only_invalid) == []


def test_card_numbers_read_as_integers_are_scanned() -> None:
    column = pa.chunked_array([[4111111111111111, 4012888888881881, 4012888888881882, 12]])
    hits = scan_column("card", column)
    assert [(h.kind, h.rows, h.example) for h in hits] == [("payment_card", 2, "************1111")]


def test_only_checksum_valid_ibans_are_flagged() -> None:
    values = VALID_IBANS * 3 + INVALID_IBANS * 5
    hits = scan_column("iban", pa.chunked_array([values]))
    assert [(h.kind, h.rows) for h in hits] == [("iban", 9)]
    assert hits[0].example == "DE** **** **** **** **30 00"


def test_other_pii_kinds_and_masks() -> None:
    values = ["call +44 20 7946 0958", "(555) 123-4567", "from 192.168.10.77", "ssn 123-45-6789", "2024-01-15"]
    hits = {h.kind: h for h in scan_column("notes", pa.chunked_array([values]))}
    assert set(hits) == {"phone", "ip_address", "ssn"}
    assert (hits["phone"].rows, hits["ip_address"].example, hits["ssn"].example) == (2, "192.*.*.*", "***-**-6789")


def test_luhn_and_iban_vectors() -> None:
    assert luhn_valid(pa.array(["4111111111111111", "4111111111111112", "79927398713"])).tolist() == [
        True,
        False,
        False,  # Luhn-valid, but 11 digits is no card
    ]
    assert iban_valid(pa.array(["DE89370400440532013000", "DE89370400440532013001", "XX"])).tolist() == [
        True,
        False,
        False,
    ]


def test_leaked_rows_fail_the_leakage_check() -> None:
    train, test = split(load("breast_cancer"))
    leaked = train.sample(20, random_state=0)
    test = pd.concat([test, leaked], ignore_index=True)
    result = check(train, test)
    finding = next(f for f in result.findings if f.check == "leakage")
    assert (finding.severity, finding.numbers["leaked_rows"]) == ("fail", 20)
    assert finding.message == "20 test rows (12.3%) also occur in train with identical features"


def test_duplicate_rows_warn() -> None:
    train, test = split(load("wine"))
    train = pd.concat([train, train.head(3)], ignore_index=True)
    finding = next(f for f in check(train, test).findings if f.check == "duplicates" and f.dataset == "train")
    assert (finding.severity, finding.numbers["duplicates"]) == ("warn", 3)


def test_row_hashes_see_values_not_dtypes() -> None:
    ints = pa.table({"a": [1, 2, None], "b": ["x", None, "z"]})
    floats = pa.table({"a": [1.0, 2.0, None], "b": ["x", None, "z"]})
    other = pa.table({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]})
    assert row_hashes(ints, ["a", "b"]).tolist() == row_hashes(floats, ["a", "b"]).tolist()
    assert (row_hashes(ints, ["a", "b"]) != row_hashes(other, ["a", "b"])).tolist() == [False, True, True]


def test_renamed_column_is_reported_once_with_its_new_name() -> None:
    train, test = split(load("breast_cancer"))
    test = test.rename(columns={"mean radius": "radius_mean"})
    result = check(train, test)
    finding = only_problem(result)
    assert (finding.check, finding.severity, finding.column) == ("schema", "fail", "mean radius")
    assert finding.message == (
        "column 'mean radius' is missing (the train data has it); 'radius_mean' looks like it was renamed from it"
    )


def test_dtype_change_fails_the_schema_check() -> None:
    train, test = split(load("breast_cancer"))
    test["mean area"] = test["mean area"].map(lambda v: f"{v} mm2")
    flagged = [f for f in check(train, test).findings if f.severity == "fail"]
    assert [(f.check, f.column) for f in flagged] == [("schema", "mean area")]
    assert flagged[0].message == "column 'mean area' has dtype string, the train data says number"


def test_label_problems() -> None:
    train, test = split(load("wine"))
    test.loc[test.index[:2], "target"] = 7
    finding = only_problem(check(train, test))
    assert (finding.check, finding.severity, finding.column) == ("label", "fail", "target")
    assert finding.message == "label 'target' has classes in test never seen in train: 7 (2 rows)"
    common = pd.concat([train[train.target != 2]] * 2, ignore_index=True)  # 194 rows of classes 0 and 1
    rare = pd.concat([common, train[train.target == 2].head(1)], ignore_index=True)
    rare.iloc[:, 0] = np.arange(len(rare))  # distinct rows, so no duplicate warning
    warned = [f for f in check(rare, None).findings if f.check == "label"]
    assert [f.severity for f in warned] == ["warn"]
    assert warned[0].message == "label 'target' is extremely imbalanced: class 2 is 0.51% of train"


def test_constant_column_warns() -> None:
    train, test = split(load("wine"))
    train["site"] = "A"
    test["site"] = "A"
    finding = only_problem(check(train, test))
    assert (finding.check, finding.column, finding.message) == (
        "constant",
        "site",
        "column 'site' has a single value ('A') and carries no information",
    )


def test_stratified_sample_is_exact_seeded_and_keeps_class_shares() -> None:
    frame = load("digits")
    table = arrow(frame)
    sample = stratified_sample(table, size=1000, seed=0, strata="target")
    assert sample.statement == "1,000 of 1,797 rows, seed 0, stratified by 'target'"
    assert len(sample.indices) == 1000 and len(set(sample.indices.tolist())) == 1000
    assert sample.indices.tolist() == sorted(sample.indices.tolist())
    shares = frame["target"].value_counts(normalize=True)
    taken = frame["target"].iloc[sample.indices].value_counts()
    assert ((taken - shares * 1000).abs() <= 1).all()
    again = stratified_sample(table, size=1000, seed=0, strata="target")
    assert again.indices.tolist() == sample.indices.tolist()
    other = stratified_sample(table, size=1000, seed=1, strata="target")
    assert other.indices.tolist() != sample.indices.tolist()
    assert stratified_sample(table, size=5000, seed=0, strata="target").statement == "all 1,797 rows"


def test_sampling_reaches_drift_and_the_statement() -> None:
    train, test = split(load("digits"))
    result = check(train, test, sample_rows=1000)
    assert result.samples["train"].statement == "1,000 of 1,347 rows, seed 0, stratified by 'target'"
    assert result.samples["test"].statement == "all 450 rows"


def test_schema_document_round_trip() -> None:
    train, _ = split(_with_grade(load("wine")))
    schema = infer_schema(arrow(train), label="target")
    text = yaml.safe_dump(schema_to_document(schema), sort_keys=False)
    assert schema_from_document(yaml.safe_load(text)) == schema
    grade = schema.column("grade")
    assert grade is not None and grade.categories == ("high", "low", "mid")
    alcohol = schema.column("alcohol")
    assert alcohol is not None and alcohol.min < train["alcohol"].min() and alcohol.max > train["alcohol"].max()
    assert schema.column("target").min == 0  # non-negative data keeps a non-negative bound


def test_schema_file_never_stores_personal_data() -> None:
    train, _ = split(load("wine"))
    train["contact"] = np.random.default_rng(0).choice(["ann@example.com", "bob@example.com"], len(train))
    schema = infer_schema(arrow(train), label="target")
    contact = schema.column("contact")
    assert contact is not None and contact.dtype == "string" and contact.categories is None


def test_dates_and_times_hash_by_instant_and_validate() -> None:
    instants = pd.date_range("2024-01-01", periods=300, freq="h")
    frame = pd.DataFrame({"when": instants.date, "at": instants, "flag": np.arange(300) % 3 == 0, "target": 0})
    frame["target"] = np.arange(300) % 2
    seconds = pa.table({"at": pa.array(instants.to_pydatetime(), pa.timestamp("s"))})
    nanos = pa.table({"at": pa.array(instants.to_pydatetime(), pa.timestamp("ns"))})
    assert row_hashes(seconds, ["at"]).tolist() == row_hashes(nanos, ["at"]).tolist()
    result = check(frame.iloc[:200], frame.iloc[200:])
    assert problems(result) == []
    assert {d.column for d in result.drift} == {"flag"}  # dates are not compared for drift
