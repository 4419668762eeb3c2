"""What makes an acceptable therapist password, following current guidance (NIST
SP 800-63B): long enough, long passphrases welcome, no composition rules, and not one of
the passwords attackers try first."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

MIN_LENGTH = 8
MAX_LENGTH = 1024  # long passphrases are welcome; the bound only stops abuse


@cache
def _common() -> frozenset[str]:
    text = (
        files("reconnect_clinic.security.accounts") / "data" / "common_passwords.txt"
    ).read_text()
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def password_problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """Why ``password`` is not acceptable (an empty list when it is)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters; a few words together work well.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.lower().strip()
    if lowered in _common():
        problems.append("That password is one of the most common ones; please choose another.")
    if email and lowered in {email.lower(), email.lower().split("@")[0]}:
        problems.append("Please don't use your email address as your password.")
    if name and lowered == name.lower().strip():
        problems.append("Please don't use your name as your password.")
    if len(set(password)) == 1 and password:
        problems.append("Please don't repeat one character.")
    return problems
