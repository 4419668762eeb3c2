"""Encryption keys missing while a ``flask`` command loads the app.

Without keys no clinical text can be stored or read, so ``init_app`` refuses to start.
One command has to work before any key exists, though: ``flask clinic new-key`` makes
the first one. So when the keys are *unset* (none set, or only names with empty values;
not malformed ones) and the app is being loaded
by a ``flask`` command, ``init_app`` goes on with stand-ins for the cipher and the audit
keys that raise the same error at first use, and:

- every ``flask clinic`` command except ``new-key`` fails with that error before it
  starts (KeyCheckedGroup);
- every request the app serves (``flask run``) fails with it (``refuse_requests``);
- any other use of the cipher or the audit keys raises it.

Anywhere else (a WSGI server importing the app, a test building one) missing keys stop
``init_app`` as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import click
from flask import Flask
from flask.cli import AppGroup

from .security.audit.log import AuditKeys
from .security.encryption.cipher import EncryptionError, FieldCipher


class MissingKeys:
    """Stands in for the cipher or the audit keys of an app loaded without keys: any
    use raises the error ``init_app`` would have raised."""

    def __init__(self, error: EncryptionError) -> None:
        self.error = error

    def fail(self) -> NoReturn:
        raise EncryptionError(*self.error.args)

    def __getattr__(self, name: str) -> NoReturn:
        # Only reached for attributes a MissingKeys does not have: the cipher's and the
        # audit keys' own.
        self.fail()


def keys_unset(config: Mapping[str, Any]) -> bool:
    """True when no encryption key is set: no keys, no current id, or ids whose keys are
    all empty (``{"2026a": os.environ.get("CLINIC_KEY_2026A")}`` before the variable is
    set)."""
    keys = config.get("RECONNECT_CLINIC_ENCRYPTION_KEYS")
    return (
        not keys or not config.get("RECONNECT_CLINIC_ENCRYPTION_KEY_ID") or not any(keys.values())
    )


def loaded_by_flask_command() -> bool:
    """True while a ``flask`` (click) command is loading the app."""
    return click.get_current_context(silent=True) is not None


def startup_keys(
    config: Mapping[str, Any],
) -> tuple[FieldCipher | MissingKeys, AuditKeys | MissingKeys]:
    """The cipher and the audit keys ``config`` names, checked.

    Raises EncryptionError or AuditKeyError saying what is wrong, except for unset
    encryption keys while a ``flask`` command loads the app: stand-ins then.
    """
    try:
        cipher: FieldCipher | MissingKeys = FieldCipher.from_config(
            config.get("RECONNECT_CLINIC_ENCRYPTION_KEYS"),
            config.get("RECONNECT_CLINIC_ENCRYPTION_KEY_ID"),
        )
    except EncryptionError:
        if not (keys_unset(config) and loaded_by_flask_command()):
            raise
        cipher = MissingKeys(_no_keys_error())
    try:
        audit: AuditKeys | MissingKeys = AuditKeys.from_config(config)
    except EncryptionError as error:
        # Audit keys derived from the encryption keys that are missing.
        if not isinstance(cipher, MissingKeys):
            raise
        audit = MissingKeys(error)
    return cipher, audit


def _no_keys_error() -> EncryptionError:
    """The error init_app gives for unset keys (also for ids whose keys are empty: it
    says how to make one, where "not base64" would not)."""
    try:
        FieldCipher.from_config(None, None)
    except EncryptionError as error:
        return error
    raise AssertionError("FieldCipher accepted no keys")  # pragma: no cover


def refuse_requests(app: Flask, missing: MissingKeys) -> None:
    """Fail every request ``app`` serves with the missing keys' error."""

    def _no_keys() -> None:
        missing.fail()

    app.before_request(_no_keys)


def require_keys() -> None:
    """Fail the running command (with the error ``init_app`` gives) when the current app
    was loaded without encryption keys."""
    from .state import get_state

    cipher = get_state().cipher
    if isinstance(cipher, MissingKeys):
        raise click.ClickException(str(cipher.error))


class KeyCheckedGroup(AppGroup):
    """A command group whose commands each check for the encryption keys before they
    run, but for those declared with ``needs_keys=False``. Help still works without keys
    (the check runs only when a command does)."""

    # Overrides only the decorator-factory form (``@group.command(...)``), the one the
    # package uses; click's bare ``@group.command`` form is not offered.
    def command(  # type: ignore[override]
        self, *args: Any, needs_keys: bool = True, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], click.Command]:
        register = super().command(*args, **kwargs)
        if not needs_keys:
            return register

        def decorator(callback: Callable[..., Any]) -> click.Command:
            @functools.wraps(callback)
            def checked(*call_args: Any, **call_kwargs: Any) -> Any:
                require_keys()
                return callback(*call_args, **call_kwargs)

            return register(checked)

        return decorator
