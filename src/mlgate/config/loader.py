"""Load mlgate.yml: parse with line numbers, validate against the published JSON Schema, build the model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlgate.config.model import (
    DEFAULT_CHATOPS_PERMISSIONS,
    DEFAULT_MEMORY_BUDGET,
    DEFAULT_SAMPLE_ROWS,
    SERVING_PREFIX,
    ChatOpsConfig,
    CompareConfig,
    Config,
    DataChecks,
    DataConfig,
    DeployConfig,
    GateRule,
    MetricsConfig,
    MonitorAlerts,
    MonitorColumns,
    MonitorConfig,
    ReportConfig,
    RetrainConfig,
    ServingConfig,
    Significance,
    TestsConfig,
    Tolerance,
    TrainConfig,
)
from mlgate.config.validation import validate_document
from mlgate.config.yamlsource import read_yaml_file

SCHEMA_FILE = "mlgate.schema.json"


def _gate_rules(config: Config, gate: dict[str, Any]) -> tuple[GateRule, ...]:
    rules = []
    for metric, spec in gate.items():
        rule = GateRule(
            metric=metric,
            direction=spec["direction"],
            max_drop=Tolerance.parse(spec["max_drop"]) if "max_drop" in spec else None,
            max_increase=Tolerance.parse(spec["max_increase"]) if "max_increase" in spec else None,
            min=spec.get("min"),
            max=spec.get("max"),
            required=spec.get("required", True),
            require_significance=spec.get("require_significance", True),
        )
        # A tolerance on the wrong side would silently never apply; say so instead.
        wrong = "max_increase" if rule.direction == "higher" else "max_drop"
        if wrong in spec:
            right = "max_drop" if rule.direction == "higher" else "max_increase"
            raise config.error(
                ("metrics", "gate", metric, wrong),
                f"does not apply to direction '{rule.direction}' (use {right})",
            )
        if rule.min is not None and rule.max is not None and rule.min > rule.max:
            raise config.error(("metrics", "gate", metric, "min"), f"min {rule.min} is above max {rule.max}")
        rules.append(rule)
    return tuple(rules)


def build_config(data: dict[str, Any], source: Path | None, root: Path, lines: dict) -> Config:
    base = Config(source=source, root=root, lines=lines)
    d, t, m = data.get("data", {}), data.get("train", {}), data.get("metrics", {})
    dep, ret = data.get("deploy", {}), data.get("retrain", {})
    checks = d.get("checks", {})
    significance = m.get("significance", {})
    defaults = DataChecks()
    return Config(
        source=source,
        root=root,
        lines=lines,
        data=DataConfig(
            train=d.get("train"),
            test=d.get("test"),
            label=d.get("label"),
            schema=d.get("schema"),
            sample_rows=d.get("sample_rows", DEFAULT_SAMPLE_ROWS),
            exact=d.get("exact"),
            memory_budget=_bytes(d.get("memory_budget", DEFAULT_MEMORY_BUDGET >> 20)),
            checks=DataChecks(
                nulls_max_fraction=checks.get("nulls", {}).get("max_fraction", defaults.nulls_max_fraction),
                drift_method=checks.get("drift", {}).get("method", defaults.drift_method),
                drift_threshold=checks.get("drift", {}).get("threshold", defaults.drift_threshold),
                max_drifted_share=checks.get("drift", {}).get("max_drifted_share", defaults.max_drifted_share),
                pii_allow_columns=tuple(checks.get("pii", {}).get("allow_columns", ())),
                deepchecks=tuple(checks.get("deepchecks", ())),
            ),
            outputs=tuple(d.get("outputs", {}).items()),
        ),
        train=_train(base, t),
        metrics=MetricsConfig(
            files=tuple(m.get("files", ())),
            predictions=m.get("predictions"),
            predictions_split=m.get("predictions_split", MetricsConfig.predictions_split),
            history=m.get("history", MetricsConfig.history),
            gate=_gate_rules(base, m.get("gate", {})),
            significance=Significance(**significance),
            serving_gated="serving" in data and data["serving"] is not False,
        ),
        compare=CompareConfig(**data.get("compare", {})),
        deploy=DeployConfig(
            model=dep.get("model"),
            name=dep.get("name"),
            environments=tuple(dep.get("environments", ())),
            command=dep.get("command"),
            environment_url=dep.get("environment_url"),
            allowed_refs=tuple(dep.get("allowed_refs", ())),
        ),
        retrain=RetrainConfig(**ret),
        tests=_tests(data.get("tests", True)),
        serving=_serving(base, data.get("serving", False), m.get("gate", {})),
        report=_report(data.get("report", {})),
        monitor=_monitor(data.get("monitor", {})),
        chatops=_chatops(data.get("chatops", {})),
    )


MAX_SEEDS = 10


def _train(config: Config, raw: dict[str, Any]) -> TrainConfig:
    seeds = tuple(raw.get("seeds", ()))
    if "seeds" in raw and not 2 <= len(seeds) <= MAX_SEEDS:
        raise config.error(("train", "seeds"), f"must list 2 to {MAX_SEEDS} seeds (got {len(seeds)})")
    if "seed_param" in raw and not seeds:
        raise config.error(("train", "seed_param"), "has no effect without train.seeds (the seeds to train with)")
    return TrainConfig(**(raw | {"seeds": seeds}))


def _monitor(raw: dict[str, Any]) -> MonitorConfig:
    columns = dict(raw.get("columns", {}))
    if "features" in columns:
        columns["features"] = tuple(columns["features"])
    drift = raw.get("drift", {})
    settings = {k: v for k, v in raw.items() if k not in ("columns", "alerts", "drift")}
    return MonitorConfig(
        columns=MonitorColumns(**columns),
        drift_method=drift.get("method"),
        drift_threshold=drift.get("threshold"),
        alerts=MonitorAlerts(**raw.get("alerts", {})),
        **settings,
    )


def _chatops(raw: dict[str, Any]) -> ChatOpsConfig:
    defaults = ChatOpsConfig()
    return ChatOpsConfig(
        permissions=DEFAULT_CHATOPS_PERMISSIONS | raw.get("permissions", {}),
        production_environments=tuple(raw.get("production_environments", defaults.production_environments)),
        allow_bots=tuple(raw.get("allow_bots", ())),
        pr_workflow=raw.get("pr_workflow", defaults.pr_workflow),
        retrain_workflow=raw.get("retrain_workflow", defaults.retrain_workflow),
    )


def _bytes(budget: int | str) -> int:
    """data.memory_budget (validated: MiB as a number, or "512MiB" / "2GiB") in bytes."""
    if isinstance(budget, int):
        return budget << 20
    number, unit = budget[:-3].strip(), budget[-3:]
    return int(float(number) * (1 << (30 if unit == "GiB" else 20)))


def _tests(raw: bool | dict[str, Any]) -> TestsConfig:
    return TestsConfig(**raw) if isinstance(raw, dict) else TestsConfig(enabled=raw)


def _serving(config: Config, raw: bool | dict[str, Any], gate: dict[str, Any]) -> ServingConfig:
    from mlgate.serving.metrics import SERVING_METRICS

    serving = ServingConfig(**raw, enabled=True) if isinstance(raw, dict) else ServingConfig(enabled=raw)
    if serving.enabled:
        for metric in gate:
            name = metric.removeprefix(SERVING_PREFIX)
            if metric.startswith(SERVING_PREFIX) and name not in SERVING_METRICS:
                known = ", ".join(SERVING_PREFIX + known for known in SERVING_METRICS)
                raise config.error(("metrics", "gate", metric), f"is not a serving metric (one of {known})")
    return serving


def _report(raw: dict[str, Any]) -> ReportConfig:
    plots = raw.get("plots", True)
    settings = {k: v for k, v in raw.items() if k != "plots"}
    return ReportConfig(plots=tuple(plots) if isinstance(plots, list) else bool(plots), **settings)


def load_config(path: Path, *, explicit: bool = False) -> Config:
    """Load and validate `path`. A missing default mlgate.yml means all defaults; a missing explicit one is an error."""
    if not path.exists() and not path.is_symlink() and not explicit:  # a dangling or looping link is an error
        return Config(source=None, root=path.parent)
    document = read_yaml_file(path, what="config file")
    data = {} if document.data is None else document.data
    validate_document(document.__class__(data=data, lines=document.lines), SCHEMA_FILE, path)
    return build_config(data, path, path.parent, document.lines)
