"""Hypothesis profiles for the hostile-input tests (see fuzzing.py)."""

from __future__ import annotations

from tests.hostile.fuzzing import register_profiles

register_profiles()
