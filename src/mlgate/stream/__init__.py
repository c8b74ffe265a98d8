"""Validation in bounded memory: data read in record batches, every check computed from mergeable summaries.

`summary` keeps, per column, exact counts (rows, nulls, NaNs), min/max, exact category counts up to a cap, a
KLL quantile sketch and exact moments of numbers (mlgate.stream.numeric, shared with monitoring), an HLL
distinct count once past the exact counts; per file, hash samples of the rows
for duplicates and leakage (every row while they fit the memory budget, a coordinated hash sample beyond).
`source` reads a file or a folder of partitions batch by batch; `drift` derives the drift statistics from the
sketches with their error bound; `checks` turns summaries into the findings the in-memory path gives;
`sketchfile` writes and reads a partition's summaries, so a matrix of runners can validate one data set.
"""
