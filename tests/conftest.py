"""Shared pytest setup: every tests/bench/*_fixtures.py module is a plugin, so fixtures live beside their bench code."""

from pathlib import Path

import pytest

# Fixture modules import one another (workflow_fixtures uses example_fixtures' helpers): registering the whole
# package first rewrites the asserts of whichever is imported first, not only of the plugins loaded by name.
pytest.register_assert_rewrite("bench")

pytest_plugins = sorted(f"bench.{p.stem}" for p in (Path(__file__).parent / "bench").glob("*_fixtures.py"))
