"""The standalone app: the clinic on its own, on a SQLite file, with its own login.

``flask --app reconnect_clinic.demo run`` serves it; ``make demo`` also migrates and seeds.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, redirect, url_for
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from werkzeug.wrappers import Response

from .errors import add_security_headers
from .extension import ReconnectClinic
from .security.encryption.cipher import new_key
from .sqlite import configure_sqlite

db = SQLAlchemy()
csrf = CSRFProtect()
clinic = ReconnectClinic()


def create_app(
    config: Mapping[str, Any] | None = None, *, instance_path: str | None = None
) -> Flask:
    """Build the standalone app. ``config`` overrides anything set here (tests use it)."""
    app = Flask("reconnect_clinic.demo", instance_path=instance_path, instance_relative_config=True)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=os.environ.get(
            "RECONNECT_CLINIC_DEMO_DATABASE_URL",
            f"sqlite:///{instance / 'reconnect_clinic_demo.sqlite'}",
        ),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The demo is served over plain HTTP on localhost; behind TLS, set it to True.
        SESSION_COOKIE_SECURE=os.environ.get("RECONNECT_CLINIC_DEMO_SECURE_COOKIES") == "1",
        RECONNECT_CLINIC_PRACTICE_NAME="Reconnect Clinic (demo)",
        # No form here needs more than a few hundred kilobytes.
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        # Therapists' form tokens last as long as their login (which has its own idle
        # and absolute limits), so a long note is not refused for an old token.
        WTF_CSRF_TIME_LIMIT=None,
    )
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)
    if not app.config.get("RECONNECT_CLINIC_ENCRYPTION_KEYS"):
        app.config["RECONNECT_CLINIC_ENCRYPTION_KEYS"] = {"demo": _demo_encryption_key(instance)}
        app.config["RECONNECT_CLINIC_ENCRYPTION_KEY_ID"] = "demo"

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_sqlite(engine)
    csrf.init_app(app)
    clinic.init_app(app, db=db)
    # The app is the clinic alone: its every response, here too, carries the clinic's
    # headers (the clinic itself sets them only under its prefix, as a host expects).
    app.after_request(add_security_headers)

    @app.get("/")
    def index() -> Response:
        return redirect(url_for("reconnect_clinic.dashboard"))

    return app


def _demo_encryption_key(instance: Path) -> str:
    """The demo's data key, kept beside its database in the instance folder. A real
    practice keeps keys in its secret store, apart from the data they protect."""
    path = instance / "encryption_key"
    if not path.exists():
        path.write_text(new_key())
        path.chmod(0o600)
    return path.read_text().strip()


def _secret_key(instance: Path) -> str:
    """A random key kept in the instance folder, so sign-ins survive a restart."""
    if key := os.environ.get("RECONNECT_CLINIC_DEMO_SECRET_KEY"):
        return key
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
