"""Edges of mlgate: git, DVC, deepchecks, GitHub and data-file I/O."""
