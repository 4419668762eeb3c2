"""The Flask extension object."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from flask import Flask
from flask_login import LoginManager

from . import base_template, i18n, taxonomy, warm_up
from .config import apply_defaults, ratelimit_storage_uri
from .csp import checked_extra_sources
from .deferred_keys import MissingKeys, refuse_requests, startup_keys
from .mail import host_sender
from .measures.change import bases_from_setting
from .risk import resources as crisis_resources
from .security.audit.log import AuditKeys
from .security.encryption.cipher import FieldCipher
from .security.links import logfilter
from .security.ratelimit import FailureLimiter
from .state import EXTENSION_KEY, ClinicState, TherapistLoader

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy


class ReconnectClinic:
    """Adds the clinic to a Flask app.

    ::

        db = SQLAlchemy(app)
        clinic = ReconnectClinic()
        clinic.init_app(app, db=db)                                  # standalone login
        clinic.init_app(app, db=db, therapist_loader=my_loader)      # a host maps its users

    The extension object holds no app: per-app state lives in
    ``app.extensions["reconnect_clinic"]``, so one object can serve several apps.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        db: SQLAlchemy | None = None,
        therapist_loader: TherapistLoader | None = None,
    ) -> None:
        self._db = db
        self._therapist_loader = therapist_loader
        if app is not None:
            self.init_app(app)

    def init_app(
        self,
        app: Flask,
        *,
        db: SQLAlchemy | None = None,
        therapist_loader: TherapistLoader | None = None,
    ) -> None:
        """Register the blueprint, the CLI and (standalone) the login manager on ``app``.

        ``db`` is the host's Flask-SQLAlchemy instance; the plugin uses its session and
        never creates an engine of its own. ``therapist_loader`` maps the host's signed-in
        user to a :class:`~reconnect_clinic.models.Therapist` (or None); without it the
        plugin runs its own login.

        Raises RuntimeError, before changing anything on ``app``, if the clinic is already
        initialised on it: a second call would otherwise replace the state the first one's
        blueprint and login manager are using.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(
                "reconnect_clinic is already initialised on this app: call init_app once per "
                "app (ReconnectClinic(app) already calls it)"
            )
        db = db or self._db or app.extensions.get("sqlalchemy")
        if db is None:
            raise RuntimeError(
                "reconnect_clinic needs the app's Flask-SQLAlchemy instance: "
                "init_app(app, db=db), after db.init_app(app)"
            )
        loader = therapist_loader or self._therapist_loader
        if loader is None and getattr(app, "login_manager", None) is not None:
            raise RuntimeError(
                "This app already uses Flask-Login. Pass therapist_loader= to init_app so the "
                "clinic maps your users to therapists instead of running its own login."
            )
        apply_defaults(app.config)
        prefix = app.config["RECONNECT_CLINIC_URL_PREFIX"]
        if prefix and not prefix.startswith("/"):
            raise ValueError(f"RECONNECT_CLINIC_URL_PREFIX must start with '/', got {prefix!r}")
        # The host's base template must render the blocks every clinic page fills
        # (base_template.py): checked now, or at the first clinic request if it cannot
        # be loaded yet.
        base_checked = base_template.check_now(app)
        # A mistyped policy source or mail hook stops start-up, not a page or an email.
        checked_extra_sources(app.config["RECONNECT_CLINIC_CSP_EXTRA_SOURCES"])
        host_sender(app.config["RECONNECT_CLINIC_MAIL_SENDER"])
        # Likewise the practice's CSI figures: malformed, every CSI verdict would fail.
        bases_from_setting(app.config["RECONNECT_CLINIC_CSI_RELIABILITY"])
        # Checked now: without usable keys no clinical text could be stored or read, and
        # the audit log's chain is MACed with the audit keys. Unset keys under a `flask`
        # command fail at first use instead, so that `flask clinic new-key` can make the
        # first one (deferred_keys.py).
        cipher, audit_keys = startup_keys(app.config)

        # Load (and so validate) the taxonomy now: a broken data file stops start-up,
        # rather than failing later on some client's page.
        state = ClinicState(
            db=db,
            taxonomy=taxonomy.load(),
            therapist_loader=loader,
            bad_link_limiter=FailureLimiter.create(
                ratelimit_storage_uri(app.config),
                app.config["RECONNECT_CLINIC_BAD_LINK_LIMIT"],
                namespace="reconnect_clinic.bad_link",
            ),
            login_limiter=FailureLimiter.create(
                ratelimit_storage_uri(app.config),
                app.config["RECONNECT_CLINIC_LOGIN_FAILURE_LIMIT"],
                namespace="reconnect_clinic.login",
            ),
            cipher=cast(FieldCipher, cipher),
            audit_keys=cast(AuditKeys, audit_keys),
            # Checked now too: the crisis services partners are shown, and their quick
            # exit: a broken number or address must stop start-up, not fail a partner
            # in crisis.
            crisis_support=crisis_resources.from_config(app.config),
        )
        app.extensions[EXTENSION_KEY] = state

        if loader is None:
            _install_standalone_login(app)
        # The clinic's own catalogue and language; a host's Babel is left alone (i18n.py).
        i18n.init_app(app, standalone=loader is None)

        # A blueprint of this app's own, made from its state and every views module's
        # route table (as Flask-Security's create_blueprint does): nothing registered
        # for one app reaches another.
        from .blueprint import create_blueprint
        from .cli import clinic_cli
        from .views import route_tables

        app.register_blueprint(create_blueprint(state, route_tables(), url_prefix=prefix or None))
        app.cli.add_command(clinic_cli)
        if isinstance(cipher, MissingKeys):
            refuse_requests(app, cipher)
        if not base_checked:
            base_template.check_at_first_request(app)
        _exempt_partner_posts(app)
        # PDF workers start at each process's first request, never here: under gunicorn's
        # --preload this runs in the master, before the fork (warm_up.py).
        warm_up.install(app)
        # Link tokens never reach a log line (see security/links/logfilter.py).
        logfilter.install(logging.getLogger("werkzeug"), app.logger)


def _exempt_partner_posts(app: Flask) -> None:
    """Partner pages authenticate their posts with a signed link reference instead of a
    CSRF token; tell an app-wide Flask-WTF CSRFProtect (if already set up) to let them
    through. One set up later still works: the blueprint's CSRF error handler hands
    such posts to their view, which checks the reference itself."""
    csrf = app.extensions.get("csrf")
    if csrf is None:
        return
    from .errors import PARTNER_POST_ENDPOINTS

    for endpoint in PARTNER_POST_ENDPOINTS:
        view = app.view_functions[endpoint]
        csrf.exempt(f"{view.__module__}.{view.__name__}")


def _install_standalone_login(app: Flask) -> None:
    # init_app has checked that the host runs no Flask-Login of its own.
    manager = LoginManager()
    manager.login_view = "reconnect_clinic.login"
    manager.login_message = "Please sign in to see client records."
    manager.session_protection = "strong"
    manager.user_loader(_load_therapist)
    manager.init_app(app)


def _load_therapist(session_user_id: str) -> object | None:
    # Checked on every request: the session's generation must still be the therapist's,
    # so a copy of a cookie from before a sign-out (or a new password) signs no one in.
    from .security.accounts.therapists import load_session_therapist

    return load_session_therapist(session_user_id)
