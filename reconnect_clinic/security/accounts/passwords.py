"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106's guidance)."""

from __future__ import annotations

from contextlib import suppress
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` with a fresh salt."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``.

    With no hash (an unknown account, or a host-mapped therapist who has no password here)
    a dummy hash is still verified, so a wrong email costs the same time as a wrong
    password and the response time does not tell which accounts exist.
    """
    if not password_hash:
        with suppress(VerificationError):
            _hasher().verify(_dummy_hash(), password + "x")
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher().check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return _hasher().hash("reconnect-clinic-timing-equaliser")
