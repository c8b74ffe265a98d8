"""The report: markdown rendered from the results bundle, fitted to GitHub's size limits, found by a marker.

Pure functions only (no I/O) except `artifact`, the edge that writes and reads the fork-safe artifact.
"""
