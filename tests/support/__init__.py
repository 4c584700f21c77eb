"""Shared helpers for the test suite (real services started for the test session)."""
