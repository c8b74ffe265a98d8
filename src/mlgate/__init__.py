"""mlgate: every pull request of an ML repository as a reviewed experiment."""

__version__ = "0.1.0"
