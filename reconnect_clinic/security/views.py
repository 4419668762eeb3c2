"""Standalone login, logout and the idle / absolute session timeouts."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user

from ..blueprint import bp
from ..models import utcnow
from ..state import config, db_session, get_state
from .audit import record_event
from .forms import LoginForm, PostOnlyForm
from .passwords import hash_password, needs_rehash, verify_password
from .therapists import current_therapist, find_by_email, normalise_email

_LOGIN_AT = "reconnect_clinic_login_at"
_SEEN_AT = "reconnect_clinic_seen_at"


def session_expired(
    *, now: float, login_at: float | None, seen_at: float | None, idle: int, lifetime: int
) -> bool:
    """Whether a standalone login has gone stale: idle too long, or simply too old."""
    if login_at is None or seen_at is None:
        return True
    return now - seen_at > idle or now - login_at > lifetime


def safe_next(target: str | None) -> str | None:
    """Only a path on this site is a place to go after login (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.before_request
def _enforce_timeouts() -> Any:
    state = get_state()
    if not state.standalone_auth or _LOGIN_AT not in session:
        return None
    now = time.time()
    if session_expired(
        now=now,
        login_at=session.get(_LOGIN_AT),
        seen_at=session.get(_SEEN_AT),
        idle=config("IDLE_TIMEOUT"),
        lifetime=config("SESSION_LIFETIME"),
    ):
        _end_login()
        flash("You were signed out to keep client records safe. Please sign in again.", "info")
        return None
    session[_SEEN_AT] = now
    return None


def _end_login() -> None:
    logout_user()
    session.pop(_LOGIN_AT, None)
    session.pop(_SEEN_AT, None)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if not get_state().standalone_auth:
        abort(404)
    if current_therapist() is not None:
        return redirect(url_for("reconnect_clinic.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        limiter = get_state().login_limiter
        keys = (
            f"account:{normalise_email(form.email.data or '')}",
            f"address:{request.remote_addr}",
        )
        if any(limiter.blocked(key) for key in keys):
            form.password.errors.append(
                "Too many failed sign-ins. Please wait a few minutes and try again."
            )
            record_event("therapist.login_refused", actor=None, detail={"reason": "limited"})
            db_session().commit()
            return render_template("reconnect_clinic/login.html", form=form), 429
        therapist = find_by_email(form.email.data or "")
        password = form.password.data or ""
        # Always one hash check, known account or not, so timing does not tell.
        matches = verify_password(therapist.password_hash if therapist else None, password)
        if therapist is not None and therapist.active and matches:
            if needs_rehash(therapist.password_hash or ""):
                therapist.password_hash = hash_password(password)
            therapist.last_login_at = utcnow()
            session.clear()  # a fresh session at login: nothing carried over from before
            login_user(therapist)
            session[_LOGIN_AT] = session[_SEEN_AT] = time.time()
            record_event("therapist.login", actor=therapist, record=therapist)
            db_session().commit()
            return redirect(safe_next(request.args.get("next")) or url_for(".dashboard"))
        for key in keys:
            limiter.fail(key)
        record_event("therapist.login_failed", actor=None, record=therapist)
        db_session().commit()
        form.password.errors.append("That email and password do not match an account.")
    return render_template("reconnect_clinic/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    if not get_state().standalone_auth:
        abort(404)
    form = PostOnlyForm()
    if not form.validate_on_submit():
        abort(400)
    therapist = current_therapist()
    if therapist is not None:
        record_event("therapist.logout", actor=therapist, record=therapist)
        db_session().commit()
    _end_login()
    flash("You are signed out.", "info")
    return redirect(url_for(".login"))
