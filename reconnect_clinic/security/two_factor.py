"""Optional second factor for standalone therapist logins: time-based one-time codes
(TOTP, RFC 6238) from any authenticator app, with pyotp."""

from __future__ import annotations

import pyotp

ISSUER = "Reconnect Clinic"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def code_ok(secret: str | None, code: str | None) -> bool:
    """Whether ``code`` is the current code (or the one just before or after, for a
    clock a little off)."""
    if not secret or not code:
        return False
    code = code.replace(" ", "").strip()
    if not code.isdigit() or len(code) != 6:
        return False
    return pyotp.TOTP(secret).verify(code, valid_window=1)
