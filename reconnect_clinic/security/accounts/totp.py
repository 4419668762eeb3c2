"""Optional second factor for standalone therapist logins: time-based one-time codes
(TOTP, RFC 6238) from any authenticator app, with pyotp, and single-use recovery codes
for the day the phone is lost. Plain functions: the views and operations decide what is
stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid

import pyotp

ISSUER = "Reconnect Clinic"
#: Recovery codes issued at a time; issuing new ones replaces every earlier one.
RECOVERY_CODE_COUNT = 10
# No look-alikes (i, l, o, 0, 1): the codes are copied by hand from paper. Sixteen of
# these 31 characters are about 79 bits: beyond guessing online, and beyond a brute
# force of a stolen database's hashes too, so a fast hash (SHA-256, salted with the
# therapist's id so that no one pass serves every account) is enough to store them.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 16
_RECOVERY_GROUP = 4


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def accepted_step(
    secret: str | None, code: str | None, *, after: int | None = None, now: float | None = None
) -> int | None:
    """The time step of ``code`` if it is the current code or the one just before or
    after (for a clock a little off), and later than step ``after``; otherwise None.

    Passing the step of the last code accepted as ``after`` makes every code single-use:
    a code seen over someone's shoulder cannot be entered again in its 90 seconds.
    """
    if not secret or not code:
        return None
    code = code.replace(" ", "").strip()
    # isascii: str.isdigit() is true of other scripts' digits too ("١٢٣٤٥٦").
    if not (code.isascii() and code.isdigit()) or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(time.time() if now is None else now) // totp.interval
    for step in (current - 1, current, current + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_ok(secret: str | None, code: str | None) -> bool:
    """Whether ``code`` is the current code (or the one just before or after)."""
    return accepted_step(secret, code) is not None


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Fresh random recovery codes, shown as ``abcd-efgh-jkmn-pqrs``."""
    codes = []
    for _ in range(count):
        letters = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        groups = [letters[i : i + _RECOVERY_GROUP] for i in range(0, len(letters), _RECOVERY_GROUP)]
        codes.append("-".join(groups))
    return codes


def normalise_recovery_code(text: str | None) -> str | None:
    """The code as stored (lower case, no spaces or dashes), or None if ``text`` cannot
    be a recovery code."""
    if not text:
        return None
    letters = "".join(text.split()).replace("-", "").lower()
    if len(letters) != _RECOVERY_LENGTH or any(c not in _RECOVERY_ALPHABET for c in letters):
        return None
    return letters


def recovery_code_hash(therapist_id: uuid.UUID, code: str) -> str:
    """What is stored of a therapist's recovery code: the SHA-256 of their id and the
    code's normalised letters."""
    letters = normalise_recovery_code(code)
    if letters is None:
        raise ValueError("not a recovery code")
    return hashlib.sha256(f"{therapist_id}:{letters}".encode("ascii")).hexdigest()
