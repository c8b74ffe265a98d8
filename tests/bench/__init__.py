"""Test bench: the composite-action runner and the GitHub REST stand-in (test support code, not shipped)."""
