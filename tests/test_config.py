"""mlgate.yml: every kind of bad config gets its own line-numbered message; the schema is publishable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgate.config import load_config
from mlgate.config.model import Tolerance
from mlgate.config.validation import load_schema
from mlgate.errors import InputError

GOOD = """\
data:
  train: data/train.csv
  test: data/test.csv
  label: target
  checks:
    nulls: {max_fraction: 0.05}
    drift: {method: auto, threshold: 0.1}
    pii: {allow_columns: [email_hash]}
    deepchecks: [data_integrity, train_test_validation]
train:
  command: dvc repro
metrics:
  files: [metrics.json]
  predictions: eval/predictions.csv
  gate:
    accuracy: {direction: higher, max_drop: 0.005, min: 0.90}
    latency_ms: {direction: lower, max_increase: 10%, required: false}
  significance: {alpha: 0.05, resamples: 2000}
deploy:
  model: model.pkl
  name: churn-model
  environments: [staging, production]
  command: ./deploy.sh
retrain:
  data_command: python src/fetch.py
  when: drift
  branch: mlgate/retrain
"""


def load_text(tmp_path: Path, text: str):
    path = tmp_path / "mlgate.yml"
    path.write_text(text)
    return load_config(path, explicit=True)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(InputError) as info:
        load_text(tmp_path, text)
    return str(info.value)


def test_good_config_builds_typed_policy(tmp_path: Path) -> None:
    cfg = load_text(tmp_path, GOOD)
    accuracy, latency = cfg.metrics.gate
    assert accuracy.metric == "accuracy" and accuracy.tolerance == Tolerance(0.005)
    assert accuracy.min == 0.90 and accuracy.required
    assert latency.tolerance == Tolerance(0.10, relative=True) and not latency.required
    assert latency.tolerance.allowed(200.0) == pytest.approx(20.0)
    assert cfg.data.checks.pii_allow_columns == ("email_hash",)
    assert cfg.data.checks.deepchecks == ("data_integrity", "train_test_validation")
    assert cfg.deploy.environments == ("staging", "production")
    assert cfg.retrain.when == "drift"
    assert cfg.resolve(cfg.data.train) == tmp_path / "data/train.csv"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("data:\n  trian: x.csv\n", "mlgate.yml:2: data.trian: unknown key 'trian'"),
        ("train:\n  command: 3\n", "mlgate.yml:2: train.command: must be a string (got 3)"),
        (
            "metrics:\n  gate:\n    acc:\n      direction: up\n",
            "mlgate.yml:4: metrics.gate.acc.direction: must be one of higher, lower (got 'up')",
        ),
        (
            "metrics:\n  gate:\n    acc: {max_drop: 1}\n",
            "mlgate.yml:3: metrics.gate.acc: missing required key 'direction'",
        ),
        (
            "metrics:\n  gate:\n    acc:\n      direction: higher\n      max_drop: lots\n",
            "mlgate.yml:5: metrics.gate.acc.max_drop: must be a non-negative number or a percentage such as '2%'",
        ),
        (
            "metrics:\n  significance:\n    alpha: 0.9\n",
            "mlgate.yml:3: metrics.significance.alpha: must be at most 0.5 (got 0.9)",
        ),
        ("retrain: {when: sometimes}\n", "mlgate.yml:1: retrain.when: must be one of drift, always (got 'sometimes')"),
        (
            "compare: {base: rebuild}\n",
            "mlgate.yml:1: compare.base: must be one of auto, committed, reproduce (got 'rebuild')",
        ),
        ("- a\n- b\n", "mlgate.yml:1: (top level): must be a mapping (got a list)"),
        ("data:\n  label: a\n  label: b\n", "mlgate.yml:3: data.label: duplicate key"),
        (
            "metrics:\n  gate:\n    acc:\n      direction: higher\n      max_increase: 1\n",
            "mlgate.yml:5: metrics.gate.acc.max_increase: does not apply to direction 'higher' (use max_drop)",
        ),
        (
            "metrics:\n  gate:\n    acc: {direction: higher, min: 2, max: 1}\n",
            "mlgate.yml:3: metrics.gate.acc.min: min 2 is above max 1",
        ),
        ("deploy:\n  name: Churn Model\n", "mlgate.yml:2: deploy.name: must be a GTO artifact name"),
        ("data: [oops\n", "mlgate.yml:2: is not valid YAML"),
    ],
)
def test_each_bad_config_has_its_own_message(tmp_path: Path, text: str, expected: str) -> None:
    message = error_of(tmp_path, text)
    assert message.startswith(str(tmp_path) + "/" + expected.split(":", 1)[0]), message
    assert expected.split(":", 1)[1] in message, message


def test_several_problems_report_the_first_by_line_and_count_the_rest(tmp_path: Path) -> None:
    message = error_of(tmp_path, "train:\n  comand: x\nretrain:\n  when: never\n")
    assert ":2: train.comand: unknown key 'comand'" in message
    assert "(1 more problem(s) after this one)" in message


def test_non_utf8_config(tmp_path: Path) -> None:
    (tmp_path / "mlgate.yml").write_bytes(b"train:\n  command: caf\xe9\n")
    with pytest.raises(InputError, match=r"mlgate.yml: config file is not UTF-8 text \(bad byte at offset 21\)"):
        load_config(tmp_path / "mlgate.yml", explicit=True)


def test_missing_explicit_config_is_an_error_default_is_not(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="config file does not exist"):
        load_config(tmp_path / "mlgate.yml", explicit=True)
    assert load_config(tmp_path / "mlgate.yml").source is None


def test_require_file_names_key_and_line(tmp_path: Path) -> None:
    cfg = load_text(tmp_path, "data:\n  label: y\n  train: data/missing.csv\n")
    with pytest.raises(InputError) as info:
        cfg.require_file(("data", "train"), cfg.data.train)
    assert str(info.value) == f"{tmp_path}/mlgate.yml:3: data.train: file 'data/missing.csv' does not exist"
    with pytest.raises(InputError, match=r"mlgate.yml:1: data.test: is required for this command"):
        cfg.require_file(("data", "test"), cfg.data.test)


def test_published_schema_is_valid_json_schema() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(load_schema("mlgate.schema.json"))


def test_published_schema_validates_like_an_editor_would(tmp_path: Path) -> None:
    """check-jsonschema (what editors and pre-commit use) accepts the good config and rejects a typo."""
    import subprocess
    import sys

    schema = Path(__file__).parents[1] / "src/mlgate/config/mlgate.schema.json"
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text(GOOD)
    bad.write_text("train:\n  comand: x\n")
    checker = [sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema)]
    assert subprocess.run([*checker, str(good)], capture_output=True).returncode == 0
    rejected = subprocess.run([*checker, str(bad)], capture_output=True, text=True)
    assert rejected.returncode == 1
    assert "comand" in rejected.stdout
    assert json.loads(schema.read_text())["$schema"].endswith("2020-12/schema")


def test_example_repository_config_is_valid() -> None:
    """The config users copy from examples/ passes both our loader and the published JSON Schema."""
    import subprocess
    import sys

    root = Path(__file__).parents[1]
    example = root / "examples/mlgate.yml"
    cfg = load_config(example, explicit=True)
    assert {rule.metric for rule in cfg.metrics.gate} >= {"accuracy", "roc_auc"}
    assert cfg.metrics.predictions == "eval/predictions.csv"
    schema = root / "src/mlgate/config/mlgate.schema.json"
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema), str(example)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout


AGREEMENT_CASES = [
    GOOD,
    "data:\n  trian: x.csv\n",
    "train:\n  command: 3\n",
    "metrics:\n  gate:\n    acc:\n      direction: up\n",
    "metrics:\n  gate:\n    acc: {max_drop: 1}\n",
    "metrics:\n  gate:\n    acc: {direction: higher, max_drop: lots}\n",
    "metrics:\n  gate:\n    acc: {direction: higher, max_drop: -1}\n",
    "metrics:\n  gate:\n    acc: {direction: higher, max_drop: '2.5%'}\n",
    "metrics:\n  significance: {alpha: 0.9, resamples: 50}\n",
    "metrics:\n  history: 3.0\n",
    "metrics:\n  history: true\n",
    "metrics:\n  files: [a.json, a.json]\n",
    "data:\n  checks:\n    deepchecks: [data_integrity, nope]\n",
    "data:\n  sample_rows: 999\n",
    "deploy:\n  name: Churn Model\n",
    "deploy:\n  environments: [prod, Staging]\n",
    "retrain: {when: sometimes}\n",
    "train: ''\n",
    "- a\n",
]


@pytest.mark.parametrize("text", AGREEMENT_CASES)
def test_our_schema_checker_agrees_with_jsonschema(text: str) -> None:
    """The fast built-in checker accepts and rejects exactly what the reference implementation does."""
    import yaml
    from jsonschema import Draft202012Validator

    from mlgate.config.schemacheck import SchemaChecker

    schema = load_schema("mlgate.schema.json")
    data = yaml.safe_load(text)
    reference = sorted(tuple(e.absolute_path) for e in Draft202012Validator(schema).iter_errors(data))
    ours = sorted(e.absolute_path for e in SchemaChecker(schema).iter_errors(data))
    assert set(ours) == set(reference)


def test_schema_checker_refuses_unknown_keywords() -> None:
    from mlgate.config.schemacheck import SchemaChecker

    with pytest.raises(ValueError, match="not supported by this checker: patternProperties"):
        SchemaChecker({"type": "object", "patternProperties": {}})


def test_loading_config_does_not_import_jsonschema(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "mlgate.yml").write_text(GOOD)
    probe = (
        "import sys\nfrom mlgate.config import load_config\nfrom pathlib import Path\n"
        f"load_config(Path({str(tmp_path / 'mlgate.yml')!r}), explicit=True)\nprint('jsonschema' in sys.modules)\n"
    )
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "False"
