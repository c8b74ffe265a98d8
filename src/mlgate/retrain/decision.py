"""Whether a retraining run retrains: `retrain.when` against the drift of the refreshed data."""

from __future__ import annotations

from dataclasses import dataclass

WHEN = ("drift", "always")


@dataclass(frozen=True)
class DriftSummary:
    """How much of the refreshed data drifted from the default branch's, and the share that counts as drift."""

    columns: int  # columns compared
    drifted: tuple[str, ...]  # names of the columns that drifted
    limit: float  # the data drifts when the drifted share is above this (0: any drifted column)

    @property
    def share(self) -> float:
        return len(self.drifted) / self.columns if self.columns else 0.0

    @property
    def detected(self) -> bool:
        return bool(self.drifted) and self.share > self.limit

    def describe(self) -> str:
        """`7 of 32 columns drifted (22%, above the 10% limit)`."""
        if not self.columns:
            return "no column could be compared"
        relation = "above" if self.detected else "not above"
        return (
            f"{len(self.drifted)} of {self.columns} columns drifted "
            f"({self.share:.0%}, {relation} the {self.limit:.0%} limit)"
        )


@dataclass(frozen=True)
class Decision:
    retrain: bool
    reason: str  # one sentence for the summary and the PR


def decide(when: str, drift: DriftSummary, *, check_only: bool) -> Decision:
    if when not in WHEN:
        raise ValueError(f"unknown retrain.when {when!r}")
    if check_only:
        verdict = "drift detected" if drift.detected else "no drift"
        return Decision(False, f"check-only run: {verdict}, {drift.describe()}; nothing was retrained")
    if when == "always":
        return Decision(True, f"retrain.when is always ({drift.describe()})")
    if drift.detected:
        return Decision(True, f"the data drifted: {drift.describe()}")
    return Decision(False, f"no drift: {drift.describe()}, and retrain.when is drift")
