"""mlgate.yml: policy as code, validated with line-numbered errors."""

from mlgate.config.loader import load_config
from mlgate.config.model import Config, GateRule, Tolerance

__all__ = ["Config", "GateRule", "Tolerance", "load_config"]
