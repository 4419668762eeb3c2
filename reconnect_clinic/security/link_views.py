"""Partners' private links, for every purpose: the therapist makes, emails and revokes
them; a partner opens one and is let in to that purpose's pages only."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField

from ..blueprint import bp, signed_in_therapist, therapist_required
from ..mail import mail_enabled, send_mail
from ..models import ClientLink, Couple, LinkPurpose, Partner, utcnow
from ..state import config, db_session, get_state
from .access import couple_or_404
from .audit import record_event
from .forms import PostOnlyForm
from .link_session import end_link_session, link_from_ref, session_link, start_link_session
from .links import LinkState, find_link, issue_link, state_of

# Where an opened link leads, what it is called, and how long it lives by default.
PURPOSES: dict[str, dict[str, str]] = {
    LinkPurpose.INTAKE.value: {
        "start": "reconnect_clinic.intake_resume",
        "name": "intake",
        "lifetime": "LINK_LIFETIME_DAYS",
        "subject": "Your private questionnaire from {practice}",
    },
    LinkPurpose.HOMEWORK.value: {
        "start": "reconnect_clinic.homework_mine",
        "name": "homework",
        "lifetime": "HOMEWORK_LINK_LIFETIME_DAYS",
        "subject": "Your homework page from {practice}",
    },
}


class NewLinkForm(FlaskForm):
    send_email = BooleanField("Also email the link to this partner")


def partner_or_404(couple_id: uuid.UUID, role: str) -> tuple[Couple, Partner]:
    couple = couple_or_404(couple_id, signed_in_therapist())
    if role not in ("a", "b"):
        abort(404)
    return couple, couple.partner(role)


@bp.route("/couples/<uuid:couple_id>/partners/<role>/links/<purpose>", methods=["POST"])
@therapist_required
def link_create(couple_id: uuid.UUID, role: str, purpose: str) -> Any:
    therapist = signed_in_therapist()
    couple, partner = partner_or_404(couple_id, role)
    if purpose not in PURPOSES:
        abort(404)
    form = NewLinkForm()
    if not form.validate_on_submit():
        abort(400)
    spec = PURPOSES[purpose]
    issued = issue_link(
        partner,
        purpose,
        created_by=therapist,
        lifetime=timedelta(days=config(spec["lifetime"])),
    )
    record_event("link.create", actor=therapist, record=issued.link, couple_id=couple.id)
    db_session().commit()
    url = public_url(url_for(".link_open", token=issued.token, purpose=purpose))
    email_result = _email_link(partner, url, issued.link) if form.send_email.data else None
    # Shown once, in this response: only the token's hash is kept, so this page is the
    # one place the full link ever appears. Not a redirect, and never cached.
    return render_template(
        "reconnect_clinic/link_created.html",
        couple=couple,
        partner=partner,
        link=issued.link,
        purpose_name=spec["name"],
        url=url,
        email_result=email_result,
    )


def public_url(path: str) -> str:
    """An absolute address for ``path``: from RECONNECT_CLINIC_PUBLIC_URL when set, so
    an emailed link never carries an internal host name; else from the request."""
    base = config("PUBLIC_URL")
    if base:
        return base.rstrip("/") + path
    return request.host_url.rstrip("/") + path


def _email_link(partner: Partner, url: str, link: ClientLink) -> str:
    if not mail_enabled():
        return "Email is not set up for this practice; please copy the link instead."
    if not partner.email:
        return "This partner has no email address; please copy the link instead."
    practice = config("PRACTICE_NAME")
    body = render_template(
        f"reconnect_clinic/email/{link.purpose}_link.txt",
        partner=partner,
        url=url,
        practice=practice,
        expires_on=link.expires_at.date().isoformat(),
    )
    subject = PURPOSES[link.purpose]["subject"].format(practice=practice)
    try:
        send_mail(partner.email, subject, body)
    except Exception as error:  # any SMTP failure is reported, not raised
        return f"The email could not be sent ({type(error).__name__}); please copy the link."
    return f"Emailed to {partner.email}."


@bp.route("/couples/<uuid:couple_id>/links/<uuid:link_id>/revoke", methods=["POST"])
@therapist_required
def link_revoke(couple_id: uuid.UUID, link_id: uuid.UUID) -> Any:
    therapist = signed_in_therapist()
    couple = couple_or_404(couple_id, therapist)
    form = PostOnlyForm()
    if not form.validate_on_submit():
        abort(400)
    link = db_session().get(ClientLink, link_id)
    if link is None or link.partner_id not in {p.id for p in couple.partners}:
        abort(404)
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        record_event("link.revoke", actor=therapist, record=link, couple_id=couple.id)
        db_session().commit()
    flash("The link no longer works.", "success")
    anchor = "homework" if link.purpose == LinkPurpose.HOMEWORK else "intake"
    return redirect(url_for(".couple_detail", couple_id=couple.id, _anchor=anchor))


def link_problem(kind: str) -> Response:
    """A plain page that says what to do and reveals nothing about the couple."""
    status = {"unknown": 404, "expired": 410, "revoked": 410, "limited": 429}[kind]
    return make_response(
        render_template("reconnect_clinic/link_problem.html", kind=kind, client_page=True),
        status,
    )


@bp.route("/i/<token>", defaults={"purpose": LinkPurpose.INTAKE.value}, endpoint="link_open")
@bp.route("/h/<token>", defaults={"purpose": LinkPurpose.HOMEWORK.value}, endpoint="link_open")
def link_open(token: str, purpose: str) -> Any:
    limiter = get_state().bad_link_limiter
    address = request.remote_addr or "unknown"
    if limiter.blocked(address):
        return link_problem("limited")
    link = find_link(token, purpose)
    if link is None:
        # Only unknown tokens count as failures: an old link a partner kept in their
        # email is not an attack, and must not lock others out of theirs.
        limiter.fail(address)
        return link_problem("unknown")
    state = effective_state(link)
    if state in (LinkState.EXPIRED, LinkState.REVOKED):
        return link_problem(state.value)
    link.last_opened_at = utcnow()
    record_event("link.open", actor=link, record=link, couple_id=link.partner.couple_id)
    db_session().commit()
    start_link_session(link)
    return redirect(url_for(PURPOSES[purpose]["start"], link_id=link.id))


def effective_state(link: ClientLink) -> LinkState:
    """The link's own state, and revoked as well when its case was deleted or its
    therapist can no longer work: a link is only as alive as the case behind it."""
    couple = link.partner.couple
    if couple.deleted_at is not None or not couple.therapist.active:
        return LinkState.REVOKED
    return state_of(link)


def partner_context(
    purpose: str, link_id: uuid.UUID, *, posted: bool = False
) -> tuple[ClientLink, LinkState] | Response:
    """The link a partner's request acts for, or the page to show instead.

    A page view needs the link to be open in this browser. A post needs the signed
    ``link_ref`` its page carried (and then works even if the browser session lapsed).
    """
    if posted:
        link = link_from_ref(request.form.get("link_ref"), link_id, purpose)
        if link is not None:
            start_link_session(link)
    else:
        link = session_link(link_id, purpose)
    if link is None:
        return link_problem("unknown")
    state = effective_state(link)
    if state in (LinkState.EXPIRED, LinkState.REVOKED):
        end_link_session(link.id)
        return link_problem(state.value)
    return link, state
