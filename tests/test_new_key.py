"""``flask clinic new-key`` works in an app with no encryption keys yet; everything else
in such an app fails at first use with the error init_app gives for missing keys.

The app is loaded the way ``flask --app host clinic new-key`` loads it: by Flask's
command group, inside the click command (reconnect_clinic/deferred_keys.py).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import FlaskGroup
from flask_sqlalchemy import SQLAlchemy

from reconnect_clinic import ReconnectClinic
from reconnect_clinic.security.encryption.cipher import EncryptionError, FieldCipher


def _missing_keys_message() -> str:
    """What init_app says, today as before, when the keys are not set."""
    with pytest.raises(EncryptionError) as raised:
        FieldCipher.from_config(None, None)
    return str(raised.value)


def _host_without_keys(tmp_path: Path, **config: Any) -> Flask:
    app = Flask("host", root_path=str(tmp_path))
    app.config.update(
        TESTING=True,
        SECRET_KEY="x",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'host.sqlite'}",
        **config,
    )

    @app.get("/")
    def home() -> str:
        return "host home"

    db = SQLAlchemy(app)
    ReconnectClinic().init_app(app, db=db)
    return app


def _flask(tmp_path: Path, *args: str, **config: Any) -> Any:
    """``flask --app <host without keys> <args>``."""
    group = FlaskGroup(create_app=lambda: _host_without_keys(tmp_path, **config), load_dotenv=False)
    return CliRunner().invoke(group, list(args))


def _loaded_by_a_command(tmp_path: Path) -> Flask:
    """The keyless app as a ``flask`` command (``flask run``, say) loads it."""
    with click.Context(click.Command("flask")):
        return _host_without_keys(tmp_path)


def test_new_key_runs_without_keys(tmp_path):
    result = _flask(tmp_path, "clinic", "new-key")
    assert result.exit_code == 0, (result.output, result.exception)


def test_new_key_runs_with_a_key_id_whose_key_is_not_set_yet(tmp_path):
    # As a host writes it: {"2026a": os.environ.get("CLINIC_KEY_2026A")}, variable unset.
    result = _flask(
        tmp_path,
        "clinic",
        "new-key",
        RECONNECT_CLINIC_ENCRYPTION_KEYS={"2026a": None},
        RECONNECT_CLINIC_ENCRYPTION_KEY_ID="2026a",
    )
    assert result.exit_code == 0, (result.output, result.exception)


def test_another_command_says_how_to_make_the_key_that_is_not_set_yet(tmp_path):
    result = _flask(
        tmp_path,
        "clinic",
        "db-upgrade",
        RECONNECT_CLINIC_ENCRYPTION_KEYS={"2026a": None},
        RECONNECT_CLINIC_ENCRYPTION_KEY_ID="2026a",
    )
    assert f"Error: {_missing_keys_message()}" in result.output


def test_new_key_prints_a_key_the_clinic_accepts(tmp_path):
    key = _flask(tmp_path, "clinic", "new-key").output.strip()
    assert FieldCipher.from_config({"k1": key}, "k1").current == "k1"


def test_new_key_prints_a_32_byte_key(tmp_path):
    key = _flask(tmp_path, "clinic", "new-key").output.strip()
    assert len(base64.urlsafe_b64decode(key)) == 32


def test_new_key_prints_a_new_key_each_time(tmp_path):
    first = _flask(tmp_path, "clinic", "new-key").output
    second = _flask(tmp_path, "clinic", "new-key").output
    assert first != second


def test_the_clinics_commands_are_listed_without_keys(tmp_path):
    result = _flask(tmp_path, "clinic", "--help")
    assert "db-upgrade" in result.output


def test_a_commands_help_works_without_keys(tmp_path):
    result = _flask(tmp_path, "clinic", "db-upgrade", "--help")
    assert result.exit_code == 0, (result.output, result.exception)


def test_another_command_fails_without_keys(tmp_path):
    result = _flask(tmp_path, "clinic", "db-upgrade")
    assert result.exit_code == 1, result.output


def test_another_command_says_the_keys_are_missing(tmp_path):
    result = _flask(tmp_path, "clinic", "db-upgrade")
    assert f"Error: {_missing_keys_message()}" in result.output


def test_another_command_touches_nothing_without_keys(tmp_path):
    _flask(tmp_path, "clinic", "db-upgrade")
    assert not (tmp_path / "host.sqlite").exists()


def test_a_clinic_request_fails_with_the_missing_keys_message(tmp_path):
    client = _loaded_by_a_command(tmp_path).test_client()
    with pytest.raises(EncryptionError) as raised:
        client.get("/clinic/login")
    assert str(raised.value) == _missing_keys_message()


def test_a_host_request_fails_too(tmp_path):
    # The app as a whole refuses to serve, as it refused to start before.
    client = _loaded_by_a_command(tmp_path).test_client()
    with pytest.raises(EncryptionError):
        client.get("/")


def test_the_cipher_fails_at_first_use_with_the_missing_keys_message(tmp_path):
    from reconnect_clinic.security.encryption.cipher import cipher

    app = _loaded_by_a_command(tmp_path)
    with app.app_context(), pytest.raises(EncryptionError) as raised:
        cipher().seal("text", table="t", column="c", row_id=None)  # type: ignore[arg-type]
    assert str(raised.value) == _missing_keys_message()


def test_the_audit_keys_fail_at_first_use_with_the_missing_keys_message(tmp_path):
    from reconnect_clinic.security.audit.log import audit_keys

    app = _loaded_by_a_command(tmp_path)
    with app.app_context(), pytest.raises(EncryptionError) as raised:
        audit_keys().current  # noqa: B018 - the attribute's use is the test
    assert str(raised.value) == _missing_keys_message()


def test_outside_a_command_missing_keys_still_stop_init_app(tmp_path):
    # A WSGI server or a test building the app: refused at start-up, as before.
    with pytest.raises(EncryptionError) as raised:
        _host_without_keys(tmp_path)
    assert str(raised.value) == _missing_keys_message()


def test_malformed_keys_still_stop_a_command_loading_the_app(tmp_path):
    result = _flask(
        tmp_path,
        "clinic",
        "new-key",
        RECONNECT_CLINIC_ENCRYPTION_KEYS={"k1": "not a key"},
        RECONNECT_CLINIC_ENCRYPTION_KEY_ID="k1",
    )
    assert isinstance(result.exception, EncryptionError)
