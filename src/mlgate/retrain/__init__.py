"""Scheduled retraining: refresh the data, check drift against the default branch, retrain, open one PR.

Pure decisions only (no I/O): whether to retrain (`decision`), which changed files a retrain commit carries
(`commitset`), drift of refreshed data against the default branch's (`drift`), and the words a reviewer reads:
commit message, pull-request title and body, job summary (`message`). `mlgate retrain` (cli/retrain.py) wires
them to git, DVC and the drivers.
"""
