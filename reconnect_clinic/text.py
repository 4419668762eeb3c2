"""Cleaning text that people type, shared by every form."""

from __future__ import annotations

from typing import Any


def clean_text(value: Any) -> Any:
    """Trim surrounding space and drop NUL characters: PostgreSQL cannot store them in
    text, and nobody means to type one. Anything that is not a string passes through."""
    if isinstance(value, str):
        return value.replace("\x00", "").strip()
    return value
