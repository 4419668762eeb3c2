"""Finding the therapist behind a request, and provisioning therapist accounts."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import g
from flask_login import current_user

from ...models import Therapist, utcnow
from ...state import db_session, get_state
from .password_policy import password_problems
from .passwords import hash_password


class AccountError(ValueError):
    """A therapist account cannot be created as asked; the message says why."""


def current_therapist() -> Therapist | None:
    """The active therapist making this request, or None.

    Standalone, that is the Flask-Login user; inside a host, whatever the host's loader
    returns. Looked up once per request.
    """
    if "reconnect_clinic_therapist" in g:
        known: Therapist | None = g.reconnect_clinic_therapist  # set below, once
        return known
    state = get_state()
    if state.therapist_loader is not None:
        therapist = state.therapist_loader()
    else:
        user = current_user._get_current_object()  # unwrap the proxy for isinstance
        therapist = user if isinstance(user, Therapist) else None
    if therapist is not None and not therapist.active:
        therapist = None
    g.reconnect_clinic_therapist = therapist
    return therapist


def session_user_id(value: str) -> tuple[uuid.UUID, int] | None:
    """The therapist's id and session generation that a standalone session carries
    (``Therapist.get_id``), or None if ``value`` is not one (a session from before
    generations, or anything else)."""
    therapist_id, sep, generation = value.partition(":")
    if not sep or not (generation.isascii() and generation.isdigit()):
        return None
    try:
        return uuid.UUID(therapist_id), int(generation)
    except ValueError:
        return None


def load_session_therapist(value: str) -> Therapist | None:
    """The therapist of a standalone session, only while the session's generation is
    still theirs: sign-out, a new password and a change of the second factor raise it
    (see :func:`end_sessions`), and every session begun before is then refused."""
    parts = session_user_id(value)
    if parts is None:
        return None
    therapist = db_session().get(Therapist, parts[0])
    if therapist is None or therapist.session_generation != parts[1]:
        return None
    return therapist


def end_sessions(therapist: Therapist) -> None:
    """End every standalone session of ``therapist``, on every device (flushed, not
    committed). The view that keeps its own session signs it in again afterwards."""
    # In SQL: of two requests raising it at the same moment, neither raise is lost.
    therapist.session_generation = Therapist.session_generation + 1
    db_session().flush()


def set_password(therapist: Therapist, password: str) -> None:
    """Give ``therapist`` a new password (checked against the policy; AccountError says
    why not) and end every session they have (flushed, not committed)."""
    problems = password_problems(password, email=therapist.email, name=therapist.display_name)
    if problems:
        raise AccountError(" ".join(problems))
    therapist.password_hash = hash_password(password)
    end_sessions(therapist)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> Therapist | None:
    return db_session().scalar(
        sa.select(Therapist).where(Therapist.email == normalise_email(email))
    )


def create_therapist(
    *, email: str, display_name: str, password: str | None = None, is_admin: bool = False
) -> Therapist:
    """Add a standalone therapist account (flushed, not committed)."""
    email = normalise_email(email)
    if not email or "@" not in email:
        raise AccountError("An email address is needed.")
    if not display_name.strip():
        raise AccountError("A display name is needed.")
    if find_by_email(email) is not None:
        raise AccountError(f"A therapist with the email {email} already exists.")
    if password is not None:
        problems = password_problems(password, email=email, name=display_name)
        if problems:
            raise AccountError(" ".join(problems))
    therapist = Therapist(
        email=email,
        display_name=display_name.strip(),
        password_hash=hash_password(password) if password else None,
        is_admin=is_admin,
    )
    session = db_session()
    session.add(therapist)
    session.flush()
    return therapist


def find_therapist_for_host_user(host_user_id: object) -> Therapist | None:
    """The therapist mapped to the host app's user ``host_user_id``, if any."""
    return db_session().scalar(
        sa.select(Therapist).where(Therapist.host_user_id == str(host_user_id))
    )


def provision_therapist_for_host_user(
    host_user_id: object, *, email: str, display_name: str, is_admin: bool = False
) -> Therapist:
    """Map a host user to a therapist, creating the therapist on first use (flushed only:
    the host's code that calls this commits)."""
    therapist = find_therapist_for_host_user(host_user_id)
    if therapist is not None:
        return therapist
    therapist = Therapist(
        email=normalise_email(email),
        display_name=display_name,
        host_user_id=str(host_user_id),
        is_admin=is_admin,
        last_login_at=utcnow(),
    )
    session = db_session()
    session.add(therapist)
    session.flush()
    return therapist
