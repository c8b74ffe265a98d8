"""Typed view of a validated mlgate.yml. Defaults live here, once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlgate.config.yamlsource import KeyPath, format_path
from mlgate.errors import InputError
from mlgate.inputfile import check_regular, resolve

DEFAULT_CONFIG = Path("mlgate.yml")
DEFAULT_SAMPLE_ROWS = 1_000_000
DEFAULT_MEMORY_BUDGET = 512 << 20


@dataclass(frozen=True)
class Tolerance:
    """An allowed change: absolute (`0.005`) or relative to the base value (`"2%"`)."""

    amount: float
    relative: bool = False

    @classmethod
    def parse(cls, value: float | str) -> Tolerance:
        if isinstance(value, str):
            return cls(float(value.rstrip("%")) / 100.0, relative=True)
        return cls(float(value))

    def allowed(self, base: float) -> float:
        return abs(base) * self.amount if self.relative else self.amount

    def __str__(self) -> str:
        return f"{self.amount * 100:g}%" if self.relative else f"{self.amount:g}"


@dataclass(frozen=True)
class GateRule:
    metric: str
    direction: str  # "higher" or "lower": which way is better
    max_drop: Tolerance | None = None
    max_increase: Tolerance | None = None
    min: float | None = None
    max: float | None = None
    required: bool = True
    require_significance: bool = True

    @property
    def tolerance(self) -> Tolerance | None:
        """The allowed worsening: a drop for higher-is-better metrics, an increase for lower-is-better."""
        return self.max_drop if self.direction == "higher" else self.max_increase


@dataclass(frozen=True)
class Significance:
    alpha: float = 0.05
    resamples: int = 2000
    seed: int = 0


@dataclass(frozen=True)
class MetricsConfig:
    files: tuple[str, ...] = ()  # empty: what dvc.yaml declares
    predictions: str | None = None
    predictions_split: str = "test"  # the split the predictions are of: only rules naming it (or none) are tested
    history: int = 20
    gate: tuple[GateRule, ...] = ()
    significance: Significance = field(default_factory=Significance)
    serving_gated: bool = False  # a serving section exists: serving.* rules are the serving step's

    @property
    def metric_rules(self) -> tuple[GateRule, ...]:
        """The rules compare judges from the metrics files (serving.* ones go to the serving step)."""
        return tuple(rule for rule in self.gate if not (self.serving_gated and rule.metric.startswith(SERVING_PREFIX)))

    @property
    def serving_rules(self) -> tuple[GateRule, ...]:
        return tuple(rule for rule in self.gate if rule not in self.metric_rules)


BASE_MODES = ("auto", "committed", "reproduce")


@dataclass(frozen=True)
class CompareConfig:
    # How the base commit's model, metrics and predictions are had: `committed` (git, the DVC cache or remote;
    # fail closed without them), `reproduce` (always `dvc repro` of their stages at the base, run-cache first),
    # `auto` (committed when they can be had and are not stale, else reproduced, saying why).
    base: str = "auto"


@dataclass(frozen=True)
class DataChecks:
    nulls_max_fraction: float = 0.05
    drift_method: str = "auto"
    drift_threshold: float | None = None  # None: the chosen test's conventional threshold
    max_drifted_share: float = 0.5
    pii_allow_columns: tuple[str, ...] = ()
    deepchecks: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataConfig:
    train: str | None = None
    test: str | None = None
    label: str | None = None
    schema: str | None = None
    sample_rows: int = DEFAULT_SAMPLE_ROWS
    exact: bool | None = None  # None: stream when the data is a folder or would not fit memory_budget
    memory_budget: int = DEFAULT_MEMORY_BUDGET  # bytes
    checks: DataChecks = field(default_factory=DataChecks)
    outputs: tuple[tuple[str, str], ...] = ()  # (data a stage produces, its schema file), checked after training


@dataclass(frozen=True)
class TrainConfig:
    command: str = "dvc repro"
    repeat: int = 1  # > 1: the determinism audit trains this many times and compares the runs
    seeds: tuple[int, ...] = ()  # one training per seed, the first's kept; the gate tests across them
    seed_param: str | None = None  # the DVC param (`[file:]key`) set to each seed; None: MLGATE_SEED only


@dataclass(frozen=True)
class TestsConfig:
    """The project's own tests (`tests:`); `tests: false` turns them off."""

    enabled: bool = True
    command: str | None = None  # None: `python -m pytest` when the repository has tests
    required: bool = False  # true: a failing test fails the gate (else it warns)
    junit: str | None = None  # where the command writes JUnit XML; None: mlgate passes --junitxml to pytest


SERVING_PREFIX = "serving."  # metrics.gate rules named serving.<metric> are judged by the serving step


@dataclass(frozen=True)
class ServingConfig:
    """The serving check (`serving:`): the built-in probe of a scikit-learn/ONNX model file, or `command`."""

    enabled: bool = False  # on when mlgate.yml has a serving section
    command: str | None = None  # the project's own probe script; None: the built-in probe
    model: str | None = None  # None: deploy.model
    data: str | None = None  # rows to send; None: data.test (its label column left out)
    requests: int = 200  # single-row requests per model
    warmup: int = 20  # requests per model before timing
    batch_rows: int = 1000
    batch_repeats: int = 5
    rounds: int = 2  # `command` runs per model: base, head, head, base, ...


@dataclass(frozen=True)
class DeployConfig:
    model: str | None = None
    name: str | None = None
    environments: tuple[str, ...] = ()
    command: str | None = None
    environment_url: str | None = None
    allowed_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class RetrainConfig:
    data_command: str | None = None
    when: str = "drift"
    branch: str = "mlgate/retrain"
    drift_share: float | None = None  # None: data.checks.drift.max_drifted_share


ROLES = ("read", "triage", "write", "maintain", "admin")  # GitHub's repository roles, least first
DEFAULT_CHATOPS_PERMISSIONS = {
    "help": "read",
    "rerun": "write",
    "retrain": "write",
    "deploy": "write",
    "promote": "write",
    "rollback": "maintain",
    "production": "maintain",  # on top, for any command that changes a production environment
}


@dataclass(frozen=True)
class ChatOpsConfig:
    permissions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CHATOPS_PERMISSIONS))
    production_environments: tuple[str, ...] = ("production",)
    allow_bots: tuple[str, ...] = ()
    pr_workflow: str = "mlgate-pr.yml"
    retrain_workflow: str = "mlgate-retrain.yml"


@dataclass(frozen=True)
class MonitorColumns:
    timestamp: str | None = None
    features: tuple[str, ...] | None = None  # None: data.train's columns found in the log
    prediction: str | None = None
    score: str | None = None
    label: str | None = None
    latency_ms: str | None = None
    status: str | None = None
    error: str | None = None
    request_bytes: str | None = None


@dataclass(frozen=True)
class MonitorAlerts:
    drift_share: float | None = None  # None: data.checks.drift.max_drifted_share
    prediction_drift: bool = True
    quality: bool = True
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None
    error_rate: float | None = None
    request_bytes_p95: float | None = None


@dataclass(frozen=True)
class MonitorConfig:
    data_command: str | None = None
    log: str | None = None
    window: str = "1d"
    columns: MonitorColumns = field(default_factory=MonitorColumns)
    drift_method: str | None = None  # None: data.checks.drift's
    drift_threshold: float | None = None
    alerts: MonitorAlerts = field(default_factory=MonitorAlerts)
    environment: str | None = None  # None: the last of deploy.environments
    branch: str = "mlgate/monitoring"
    history_windows: int = 30
    on_alert: str = "none"
    retrain_workflow: str = "mlgate-retrain.yml"
    quality_rows: int = 100_000


@dataclass(frozen=True)
class ReportConfig:
    plots: bool | tuple[str, ...] = True  # True: every plot DVC declares; a tuple: only those plot ids
    max_charts: int = 6  # plots drawn in the comment; the rest are in the job summary and artifact
    assets_branch: str = "mlgate-assets"
    retention_days: int = 30
    max_gap_widening: float = 0.05  # train–test gap growth (absolute) that the report flags


@dataclass(frozen=True)
class Config:
    source: Path | None  # None when no mlgate.yml exists: every default applies
    root: Path  # paths in the file are relative to the directory holding it
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    deploy: DeployConfig = field(default_factory=DeployConfig)
    retrain: RetrainConfig = field(default_factory=RetrainConfig)
    tests: TestsConfig = field(default_factory=TestsConfig)
    serving: ServingConfig = field(default_factory=ServingConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    chatops: ChatOpsConfig = field(default_factory=ChatOpsConfig)
    lines: dict[KeyPath, int] = field(default_factory=dict, compare=False, repr=False)

    def error(self, path: KeyPath, message: str) -> InputError:
        """An InputError pointing at a key of this config file (file, line and key path)."""
        line = None
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                break
        return InputError(f"{format_path(path)}: {message}", file=self.source or DEFAULT_CONFIG, line=line)

    def resolve(self, relative: str) -> Path:
        return self.root / relative

    def repository_root(self) -> Path:
        """The git work tree holding this config (its nearest folder with a .git), else the config's folder."""
        start = self.root.resolve()
        return next((folder for folder in (start, *start.parents) if (folder / ".git").exists()), start)

    def require_file(self, path: KeyPath, value: str | None, *, folder: bool = False) -> Path:
        """The file a config key names; a missing key or file is reported at that key's line. It must lie in
        the repository, links followed: a policy file is reviewed as part of it, and a name that climbs out
        (`../`, an absolute path, a link) would read, and quote in errors, a file nobody reviewed."""
        if value is None:
            raise self.error(path, "is required for this command")
        resolved = self.resolve(value)
        root = self.repository_root()
        what = f"file '{value}'"
        try:
            target = resolve(resolved, what)
            if (resolved.exists() or resolved.is_symlink()) and not target.is_relative_to(root):
                raise InputError(f"{what} is outside the repository at {root}; mlgate reads only files in it")
            if not (folder and target.is_dir()):  # a data key may name a folder of partition files
                check_regular(resolved, what)  # a FIFO would block validate, a device never end
        except InputError as exc:
            raise self.error(path, exc.message) from None
        return resolved
