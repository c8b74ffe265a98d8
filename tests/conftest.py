"""Shared pytest setup: every tests/bench/*_fixtures.py module is a plugin, so fixtures live beside their bench code."""

from pathlib import Path

pytest_plugins = sorted(f"bench.{p.stem}" for p in (Path(__file__).parent / "bench").glob("*_fixtures.py"))
