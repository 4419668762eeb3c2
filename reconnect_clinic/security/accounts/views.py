"""Standalone login, logout and the idle / absolute session timeouts."""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from flask import (
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user
from flask_wtf.csrf import validate_csrf
from wtforms import Field, ValidationError

from ...blueprint import RouteTable, therapist_required
from ...models import Therapist, utcnow
from ...state import config, db_session, get_state
from ..audit.log import record_event
from ..ratelimit import FailureLimiter
from ..shown_once import keep_to_show_once, take_to_show
from . import kept_posts as kept
from .forms import CodeForm, LoginForm, PasswordChangeForm, PostOnlyForm, SecondFactorForm
from .passwords import hash_password, needs_rehash, verify_password
from .second_factor import (
    Factor,
    check_second_factor,
    issue_recovery_codes,
    recovery_codes_left,
    turn_off_second_factor,
)
from .therapists import (
    AccountError,
    current_therapist,
    end_sessions,
    find_by_email,
    normalise_email,
    set_password,
)
from .totp import RECOVERY_CODE_COUNT, accepted_step, new_secret, provisioning_uri

routes = RouteTable()

_PENDING = "reconnect_clinic_login_pending"
_ENROLLING = "reconnect_clinic_totp_enrolling"
_LOGIN_AT = "reconnect_clinic_login_at"
_SEEN_AT = "reconnect_clinic_seen_at"
_RECOVERED_AT = "reconnect_clinic_recovered_at"
SEEN_AT_STEP = 30  # seconds
_SESSION_ENDED = (
    "You were signed out: this account was signed out, or its password or two-factor "
    "sign-in was changed. Please sign in again."
)


def _add_error(field: Field, message: str) -> None:
    """Show ``message`` beside ``field``, after the form's own checks. A new tuple,
    not ``errors.append``: WTForms declares ``errors`` as the tuple it starts out as."""
    field.errors = (*field.errors, message)


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


@routes.before_request
def _enforce_timeouts() -> ResponseReturnValue | None:
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
        kept = _keep_post_after_sign_out(now)
        _end_login()
        if kept is not None:
            # Straight to sign-in (the view would answer with a redirect anyway), then back
            # to the page, where the text is restored (``kept.take_kept``).
            flash(kept, "info")
            return redirect(url_for(".login", next=request.path))
        flash("You were signed out to keep client records safe. Please sign in again.", "info")
        return None
    if current_therapist() is None:
        # The session was ended elsewhere (signed out, a new password, the second factor
        # changed) or the account was deactivated: say so, rather than a bare login page.
        _end_login()
        flash(_SESSION_ENDED, "info")
        return None
    # Noted at most every SEEN_AT_STEP seconds: a changed session is a new signed cookie
    # on the response, and a minute's precision is plenty for a 30-minute idle limit.
    if now - session.get(_SEEN_AT, 0) >= SEEN_AT_STEP:
        session[_SEEN_AT] = now
    return None


def kept_message(*, idle_expired: bool, idle: int, lifetime: int) -> str:
    """What a therapist whose post was kept over a sign-out is told on the sign-in page."""
    if idle_expired:
        why = f"You were signed out after {max(1, idle // 60)} minutes without activity."
    else:
        why = f"You were signed out: a sign-in lasts at most {max(1, lifetime // 3600)} hours."
    return f"{why} What you typed is kept and will be back after you sign in."


def _keep_post_after_sign_out(now: float) -> str | None:
    """Keep a post to a therapist form that came after the session went stale (see
    ``kept.py``), and say so; None when there is nothing to keep. Only a post the
    session's own therapist could have sent is kept: the account is still active at the
    session's generation, and the post carries the session's CSRF token (checked with
    the sign-in's whole lifetime as its time limit: a long note outlives the token's
    usual hour). Called before the session is ended, to know whose it was."""
    if request.method != "POST" or request.endpoint not in kept.KEEPABLE_ENDPOINTS:
        return None
    therapist = current_therapist()
    if therapist is None:
        return None
    try:
        validate_csrf(request.form.get("csrf_token"), time_limit=config("SESSION_LIFETIME"))
    except ValidationError:
        return None
    fields = kept.keepable_fields(request.form.to_dict(flat=False))
    if fields is None:
        return None
    kept.keep_post(therapist.id, request.path, fields)
    record_event("form.kept_at_sign_out", actor=therapist, record=therapist)
    db_session().commit()
    idle = config("IDLE_TIMEOUT")
    seen_at = session.get(_SEEN_AT)
    return kept_message(
        idle_expired=seen_at is None or now - seen_at > idle,
        idle=idle,
        lifetime=config("SESSION_LIFETIME"),
    )


def _keep_this_session(therapist: Therapist) -> None:
    """After a change that ended every session of the therapist (a new password, a
    change of the second factor), sign this one in again under the new generation: the
    change was made here, by the therapist. Called before the commit, so that the
    generation read is the one this transaction wrote (not a later one that, say, a
    sign-out on another device made a moment after)."""
    login_user(therapist)


def _end_login() -> None:
    logout_user()
    g.pop("reconnect_clinic_therapist", None)  # current_therapist's answer for this request
    session.pop(_LOGIN_AT, None)
    session.pop(_SEEN_AT, None)


@routes.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if not get_state().standalone_auth:
        abort(404)
    if current_therapist() is not None:
        return redirect(url_for("reconnect_clinic.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        limiter = get_state().login_limiter
        account_key = f"account:{normalise_email(form.email.data or '')}"
        if not _sign_in_try_counted(limiter, account_key, f"address:{request.remote_addr}"):
            _add_error(
                form.password, "Too many failed sign-ins. Please wait a few minutes and try again."
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
            target = safe_next(request.args.get("next")) or url_for(".dashboard")
            if therapist.totp_secret_sealed:
                # The password is right; the second factor decides. The account's count
                # stays as it is until the right code (see _check_code_within_limit): a
                # right password alone must not lift the limit on guessing codes.
                db_session().commit()
                session.clear()
                session[_PENDING] = {
                    "id": str(therapist.id),
                    # A new password or sign-out meanwhile ends this half-done sign-in too.
                    "generation": therapist.session_generation,
                    "at": time.time(),
                    "next": target,
                }
                return redirect(url_for(".login_code"))
            limiter.succeeded(account_key)
            _complete_login(therapist)
            return redirect(target)
        record_event("therapist.login_failed", actor=None, record=therapist)
        db_session().commit()
        _add_error(form.password, "That email and password do not match an account.")
    return render_template("reconnect_clinic/login.html", form=form)


def _sign_in_try_counted(limiter: FailureLimiter, account_key: str, address_key: str) -> bool:
    """Count a sign-in try against its address and its account before the password is
    checked; False if either is over the limit (the password is then not checked).

    Counted first, each in one step of the store, so that of many tries sent at the same
    moment no more than the limit reach the password hash. What a right password does to
    the counts (in ``login``): the account's count is cleared once the sign-in is
    complete, so a therapist who signs in often is never locked out by their own
    sign-ins; the address's count is never cleared, so guesses at other accounts from one
    address stay bounded even for someone who owns an account and signs in to it
    between guesses. A try refused for its address is not counted against the account:
    it never reached the password."""
    return limiter.attempt(address_key) and limiter.attempt(account_key)


def _complete_login(therapist: Any) -> None:
    therapist.last_login_at = utcnow()
    session.clear()  # a fresh session at login: nothing carried over from before
    login_user(therapist)
    session[_LOGIN_AT] = session[_SEEN_AT] = time.time()
    record_event("therapist.login", actor=therapist, record=therapist)
    db_session().commit()


@routes.route("/login/code", methods=["GET", "POST"])
def login_code() -> ResponseReturnValue:
    """The second step of a login with two-factor authentication on."""
    if not get_state().standalone_auth:
        abort(404)
    pending = session.get(_PENDING)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > 300:
        session.pop(_PENDING, None)
        flash("Please sign in again.", "info")
        return redirect(url_for(".login"))
    therapist = db_session().get(Therapist, uuid.UUID(pending["id"]))
    if (
        therapist is None
        or not therapist.active
        or therapist.session_generation != pending.get("generation")
    ):
        session.pop(_PENDING, None)
        return redirect(url_for(".login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        within_limit, factor = _check_code_within_limit(therapist, form)
        if not within_limit:
            return render_template("reconnect_clinic/login_code.html", form=form), 429
        if factor is Factor.RECOVERY_CODE:
            left = recovery_codes_left(therapist)
            record_event(
                "therapist.recovery_code_used",
                actor=therapist,
                record=therapist,
                detail={"left": left},
            )
            _complete_login(therapist)  # commits
            # The phone may be lost: the settings page lets them act on it without
            # another code for a few minutes (see two_factor).
            session[_RECOVERED_AT] = time.time()
            flash(_recovery_code_used_message(left), "info" if left > 2 else "error")
            return redirect(url_for(".two_factor"))
        if factor is Factor.APP_CODE:
            target = pending.get("next") or url_for(".dashboard")
            left = recovery_codes_left(therapist)
            _complete_login(therapist)  # commits
            if left == 0:
                flash(
                    "You have no recovery codes left: without your phone you could not sign "
                    "in. Make new ones under Two-factor sign-in.",
                    "error",
                )
            return redirect(safe_next(target) or url_for(".dashboard"))
        record_event(
            "therapist.login_failed", actor=None, record=therapist, detail={"step": "code"}
        )
        db_session().commit()
        _add_error(form.code, _CODE_NOT_RIGHT)
    return render_template("reconnect_clinic/login_code.html", form=form)


def _check_code_within_limit(therapist: Therapist, form: Any) -> tuple[bool, Factor | None]:
    """Count a try against the account's sign-in limit, then check the form's code (and
    spend it, see ``check_second_factor``). ``(False, None)`` when over the limit, with
    the form's error set; a right code clears the count."""
    limiter, key = get_state().login_limiter, f"account:{therapist.email}"
    if not limiter.attempt(key):
        _add_error(form.code, "Too many tries. Please wait a few minutes.")
        return False, None
    factor = check_second_factor(therapist, form.code.data)
    if factor is not None:
        limiter.succeeded(key)
    return True, factor


_CODE_NOT_RIGHT = (
    "That code is not right. Codes change every 30 seconds, each works once, and a "
    "recovery code works once."
)
#: After a sign-in with a recovery code, how long the two-factor settings may be changed
#: without another code (a therapist whose phone is lost has none to give).
RECOVERED_GRACE_SECONDS = 600


def _recovery_code_used_message(left: int) -> str:
    plural = "code" if left == 1 else "codes"
    counted = "That was your last recovery code." if left == 0 else f"{left} {plural} left."
    return (
        f"You signed in with a recovery code. {counted} If your phone is lost, turn "
        "two-factor sign-in off here and on again with the new phone; otherwise make new "
        f"recovery codes. For the next {RECOVERED_GRACE_SECONDS // 60} minutes, neither "
        "needs another code."
    )


def _recovered_recently() -> bool:
    at = session.get(_RECOVERED_AT)
    return isinstance(at, float | int) and 0 <= time.time() - at <= RECOVERED_GRACE_SECONDS


@routes.route("/account/two-factor", methods=["GET", "POST"])
@therapist_required
def two_factor() -> ResponseReturnValue:
    """Turn the second factor on (scan, then confirm with a code), make new recovery
    codes, or turn it off. Recovery codes are shown once, on a page of their own
    (:func:`recovery_codes`) that the post making them redirects to.

    Making new codes and turning it off each need a current code from the app or a
    recovery code, except just after a sign-in with a recovery code (which proved the
    second factor a moment ago, and whose user may have no phone)."""
    if not get_state().standalone_auth:
        abort(404)
    therapist = current_therapist()
    assert therapist is not None  # noqa: S101 - guarded by therapist_required
    if not therapist.totp_secret_sealed:
        return _enrol(therapist)
    action = request.form.get("action") if request.method == "POST" else None
    recovered = _recovered_recently()
    # One form per action, each with its own fields (named after the action): Enter in
    # a field submits only the form it is in.
    forms = {
        name: (PostOnlyForm if recovered else SecondFactorForm)(prefix=name)
        for name in _SETTINGS_ACTIONS
    }
    form = forms.get(action or "")
    if form is not None and form.validate_on_submit():
        factor: str | None
        if recovered:
            factor = "recovery_code_sign_in"
            session.pop(_RECOVERED_AT, None)
        else:
            # The same limit as at sign-in: this form, too, would let codes be tried.
            within_limit, factor = _check_code_within_limit(therapist, form)
            if not within_limit:
                return _two_factor_page(therapist, forms), 429
        if factor is not None and action == "disable":
            turn_off_second_factor(therapist)
            end_sessions(therapist)
            record_event(
                "therapist.2fa_off", actor=therapist, record=therapist, detail={"with": factor}
            )
            _keep_this_session(therapist)
            db_session().commit()
            flash("Two-factor sign-in is off.", "success")
            return redirect(url_for(".two_factor"))
        if factor is not None:
            codes = issue_recovery_codes(therapist)
            end_sessions(therapist)
            record_event(
                "therapist.recovery_codes_issued",
                actor=therapist,
                record=therapist,
                detail={"with": factor},
            )
            _keep_this_session(therapist)
            db_session().commit()
            return _show_recovery_codes(therapist, codes, turned_on=False)
        assert isinstance(form, SecondFactorForm)  # noqa: S101 - a recovered sign-in never gets here
        _add_error(form.code, _CODE_NOT_RIGHT)
    return _two_factor_page(therapist, forms)


_SETTINGS_ACTIONS = ("new-codes", "disable")


def _enrol(therapist: Therapist) -> ResponseReturnValue:
    """Turning the second factor on: the key to scan, then a code to prove it works."""
    secret = session.get(_ENROLLING)
    if not secret:
        secret = session[_ENROLLING] = new_secret()
    form = CodeForm()
    if form.validate_on_submit():
        step = accepted_step(secret, form.code.data)
        if step is not None:
            therapist.totp_secret = secret
            therapist.totp_last_step = step  # the code that turned it on is spent
            codes = issue_recovery_codes(therapist)
            end_sessions(therapist)
            session.pop(_ENROLLING, None)
            record_event("therapist.2fa_on", actor=therapist, record=therapist)
            _keep_this_session(therapist)
            db_session().commit()
            return _show_recovery_codes(therapist, codes, turned_on=True)
        _add_error(form.code, _CODE_NOT_RIGHT)
    return render_template(
        "reconnect_clinic/two_factor.html",
        form=form,
        enabled=False,
        secret=secret,
        uri=provisioning_uri(secret, therapist.email, config("PRACTICE_NAME")),
    )


def _two_factor_page(therapist: Therapist, forms: dict[str, Any]) -> str:
    return render_template(
        "reconnect_clinic/two_factor.html",
        enabled=True,
        forms=forms,
        recovered=_recovered_recently(),
        codes_left=recovery_codes_left(therapist),
        recovery_code_count=RECOVERY_CODE_COUNT,
    )


_CODES_SHOWN = "recovery_codes"


def _show_recovery_codes(
    therapist: Therapist, codes: list[str], *, turned_on: bool
) -> ResponseReturnValue:
    """Keep the new codes for one showing and send the browser there (303): a reload,
    or Back, must never make or show them again. Only their hashes are stored."""
    keep_to_show_once(_CODES_SHOWN, therapist.id, {"codes": codes, "turned_on": turned_on})
    return redirect(url_for(".recovery_codes"), code=303)


@routes.route("/account/two-factor/recovery-codes", methods=["GET"])
@therapist_required
def recovery_codes() -> ResponseReturnValue:
    """The recovery codes just made, shown once; afterwards, the settings page."""
    if not get_state().standalone_auth:
        abort(404)
    therapist = current_therapist()
    assert therapist is not None  # noqa: S101 - guarded by therapist_required
    taken = take_to_show(_CODES_SHOWN)
    if taken is None or taken[0] != therapist.id:
        flash(
            "Recovery codes are shown once, when they are made, and are not shown again. "
            "If you did not keep them, make new ones here.",
            "info",
        )
        return redirect(url_for(".two_factor"), code=303)
    payload = taken[1]
    response = make_response(
        render_template(
            "reconnect_clinic/recovery_codes.html",
            codes=[str(code) for code in payload.get("codes", [])],
            turned_on=bool(payload.get("turned_on")),
        )
    )
    response.headers["Cache-Control"] = "no-store"  # never kept for Back to show again
    return response


@routes.route("/account/password", methods=["GET", "POST"])
@therapist_required
def change_password() -> ResponseReturnValue:
    """A new password, proven by the current one. Every other session of the therapist
    ends; this one goes on."""
    if not get_state().standalone_auth:
        abort(404)
    therapist = current_therapist()
    assert therapist is not None  # noqa: S101 - guarded by therapist_required
    form = PasswordChangeForm()
    if form.validate_on_submit():
        # The current password is tried as at sign-in, counted first against the same
        # limit, so that an open session cannot be used to guess it.
        limiter = get_state().login_limiter
        if not limiter.attempt(f"account:{therapist.email}"):
            _add_error(form.current_password, "Too many tries. Please wait a few minutes.")
            return render_template("reconnect_clinic/change_password.html", form=form), 429
        if not verify_password(therapist.password_hash, form.current_password.data or ""):
            record_event("therapist.password_change_failed", actor=therapist, record=therapist)
            db_session().commit()
            _add_error(form.current_password, "That is not your current password.")
            return render_template("reconnect_clinic/change_password.html", form=form)
        try:
            set_password(therapist, form.new_password.data or "")
        except AccountError as error:
            _add_error(form.new_password, str(error))
            return render_template("reconnect_clinic/change_password.html", form=form)
        record_event(
            "therapist.password_changed",
            actor=therapist,
            record=therapist,
            detail={"via": "settings"},
        )
        _keep_this_session(therapist)
        db_session().commit()
        flash(
            "Your password is changed. Any other device signed in to this account is signed out.",
            "success",
        )
        return redirect(url_for(".dashboard"))
    return render_template("reconnect_clinic/change_password.html", form=form)


@routes.context_processor
def _idle_globals() -> dict[str, Any]:
    """What a therapist page's idle warning counts from (``clinic.js``): seconds left
    before the idle sign-out, as the server sees it, and when to warn. None outside a
    standalone sign-in."""
    if not get_state().standalone_auth or _SEEN_AT not in session:
        return {"clinic_idle": None}
    if current_therapist() is None:
        return {"clinic_idle": None}
    idle = config("IDLE_TIMEOUT")
    left = idle_seconds_left(now=time.time(), seen_at=session[_SEEN_AT], idle=idle)
    return {
        "clinic_idle": {
            "timeout": idle,
            "left": left,
            "warn_before": min(config("IDLE_WARNING"), idle),
        }
    }


def idle_seconds_left(*, now: float, seen_at: float, idle: int) -> int:
    """Whole seconds until an idle sign-out (never below 0)."""
    return max(0, int(idle - (now - seen_at)))


@routes.route("/still-here", methods=["POST"])
@therapist_required
def still_here() -> ResponseReturnValue:
    """The therapist is active on a page (typing, or "Stay signed in"): ``clinic.js``
    posts here, at most once a minute while they type, so typing counts as activity.
    Answers 204; a stale session has been signed out by then (see
    ``_enforce_timeouts``), and the answer is the redirect to sign in."""
    if not get_state().standalone_auth:
        abort(404)
    if not PostOnlyForm().validate_on_submit():
        abort(400)
    # Noted now, not rounded to SEEN_AT_STEP: the page counts its warning from this answer.
    session[_SEEN_AT] = time.time()
    return "", 204


@routes.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    if not get_state().standalone_auth:
        abort(404)
    form = PostOnlyForm()
    if not form.validate_on_submit():
        abort(400)
    therapist = current_therapist()
    if therapist is not None:
        # Every session of theirs ends, here and on any other device: a copy of this
        # session's cookie is worth nothing from now on.
        end_sessions(therapist)
        record_event("therapist.logout", actor=therapist, record=therapist)
        db_session().commit()
    _end_login()
    flash("You are signed out.", "info")
    return redirect(url_for(".login"))
