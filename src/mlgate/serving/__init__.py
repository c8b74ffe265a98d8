"""The serving check: mlgate's built-in probe (run in the project's Python) and what its figures mean."""
