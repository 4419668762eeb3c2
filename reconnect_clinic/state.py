"""Per-app state of the extension, kept in ``app.extensions["reconnect_clinic"]``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from .security.encryption.cipher import FieldCipher
from .security.ratelimit import FailureLimiter
from .taxonomy import Taxonomy

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy
    from flask_sqlalchemy.session import Session
    from sqlalchemy.orm import scoped_session

    from .models import Therapist
    from .risk.resources import CrisisSupport
    from .security.audit.log import AuditKeys

EXTENSION_KEY = "reconnect_clinic"

TherapistLoader = Callable[[], "Therapist | None"]


@dataclass
class ClinicState:
    """What the extension knows about one app: the host's database, the taxonomy loaded
    (and validated) at start-up, and how to find the therapist behind a request."""

    db: SQLAlchemy
    taxonomy: Taxonomy
    therapist_loader: TherapistLoader | None
    bad_link_limiter: FailureLimiter
    login_limiter: FailureLimiter
    cipher: FieldCipher
    # The keys the audit log's chain is MACed with (security/audit/log.py).
    audit_keys: AuditKeys
    # The crisis services partners are shown after a disclosure (risk/resources.py).
    crisis_support: CrisisSupport

    @property
    def standalone_auth(self) -> bool:
        """True when the plugin runs its own login; False inside a host that maps users."""
        return self.therapist_loader is None


def get_state(app: Flask | None = None) -> ClinicState:
    """The extension state of ``app`` (default: the current app)."""
    app = app or current_app
    try:
        state: ClinicState = app.extensions[EXTENSION_KEY]  # what init_app put there
        return state
    except KeyError:
        raise RuntimeError(
            "reconnect_clinic is not initialised on this app: call ReconnectClinic().init_app(app)"
        ) from None


def db_session() -> scoped_session[Session]:
    """The host's Flask-SQLAlchemy session for the current app."""
    return get_state().db.session


def config(key: str) -> Any:
    """A ``RECONNECT_CLINIC_`` setting of the current app, by its short name."""
    return current_app.config[f"RECONNECT_CLINIC_{key}"]
