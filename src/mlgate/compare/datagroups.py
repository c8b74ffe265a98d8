"""What a changed DVC-tracked path is, for "Data changed": data, code, models/outputs, or metrics & plots.

A reviewer reads "the training data changed" very differently from "src/train.py changed", so the report
keeps them apart. From what the revision's dvc.yaml and dvc.lock say:

- metrics & plots: a path dvc.yaml declares as metrics or plots, or an output folder holding one;
- code: a dependency whose suffix is a programming language's (src/*.py, notebooks, shell scripts);
- models/outputs: what a stage produces, when it looks like a model or no other stage consumes it;
- data: everything else (`dvc add`-ed files, raw inputs, intermediate data one stage hands to the next).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

DATA, CODE, OUTPUTS, METRICS = "data", "code", "models/outputs", "metrics & plots"
GROUPS = (DATA, CODE, OUTPUTS, METRICS)

CODE_SUFFIXES = frozenset(
    [
        ".py",
        ".pyx",
        ".ipynb",
        ".r",
        ".rmd",
        ".jl",
        ".sh",
        ".bash",
        ".zsh",
        ".ps1",
        ".scala",
        ".java",
        ".kt",
        ".js",
        ".ts",
        ".go",
        ".rs",
        ".c",
        ".cc",
        ".cpp",
        ".h",
        ".hpp",
        ".sql",
        ".m",
        ".pl",
        ".rb",
        ".lua",
        ".swift",
    ]
)
CODE_NAMES = frozenset({"makefile", "dockerfile", "requirements.txt", "pyproject.toml", "setup.py"})
MODEL_SUFFIXES = frozenset(
    [
        ".pkl",
        ".pickle",
        ".joblib",
        ".sav",
        ".pt",
        ".pth",
        ".ckpt",
        ".onnx",
        ".h5",
        ".hdf5",
        ".keras",
        ".safetensors",
        ".pb",
        ".tflite",
        ".cbm",
        ".bst",
        ".ubj",
        ".model",
        ".mlmodel",
        ".gguf",
    ]
)


def _within(path: str, other: str) -> bool:
    """`path` is `other`, inside it, or a folder holding it."""
    return path == other or path.startswith(other + "/") or other.startswith(path + "/")


@dataclass(frozen=True)
class Pipeline:
    """The paths a revision's pipeline names, by role."""

    metrics_and_plots: tuple[str, ...] = ()
    produced: frozenset[str] = frozenset()  # stage outputs
    consumed: frozenset[str] = frozenset()  # stage dependencies

    def group(self, path: str) -> str:
        if any(_within(path, declared) for declared in self.metrics_and_plots):
            return METRICS
        name = posixpath.basename(path).lower()
        suffix = posixpath.splitext(name)[1]
        if suffix in CODE_SUFFIXES or name in CODE_NAMES:
            return CODE
        if path in self.produced and (suffix in MODEL_SUFFIXES or path not in self.consumed):
            return OUTPUTS
        return DATA


def groups(pipeline: Pipeline, paths: Iterable[str]) -> dict[str, str]:
    return {path: pipeline.group(path) for path in paths}
