"""Partners' private links, for every purpose: the therapist makes, emails and revokes
them; a partner opens one and is let in to that purpose's pages only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField

from ... import i18n
from ...blueprint import RouteTable, therapist_required, with_couple
from ...i18n import N_
from ...mail import mail_enabled, public_url, send_mail
from ...models import CaseStatus, ClientLink, Couple, LinkPurpose, Partner, Therapist, utcnow
from ...state import config, db_session, get_state
from ..accounts.forms import PostOnlyForm
from ..audit.log import record_event
from ..shown_once import keep_to_show_once, pending_record, take_to_show
from .session import (
    Access,
    TimedOut,
    close_after_timeout,
    end_link_session,
    posted_access,
    session_link,
    start_link_session,
    timed_out,
)
from .tokens import LinkState, find_link, issue_link, state_of

routes = RouteTable()

# Where an opened link leads, what it is called, and how long it lives by default.
PURPOSES: dict[str, dict[str, str]] = {
    LinkPurpose.INTAKE.value: {
        "start": "reconnect_clinic.intake_resume",
        "name": "intake",
        "lifetime": "LINK_LIFETIME_DAYS",
        "subject": N_("Your private questionnaire from {practice}"),
    },
    LinkPurpose.HOMEWORK.value: {
        "start": "reconnect_clinic.homework_mine",
        "name": "homework",
        "lifetime": "HOMEWORK_LINK_LIFETIME_DAYS",
        "subject": N_("Your homework page from {practice}"),
    },
    LinkPurpose.RATING.value: {
        "start": "reconnect_clinic.rating_page",
        "name": "session rating",
        "lifetime": "RATING_LINK_LIFETIME_DAYS",
        "subject": N_("How was your session? A private question from {practice}"),
    },
}


class NewLinkForm(FlaskForm):
    send_email = BooleanField("Also email the link to this partner")


def role_partner_or_404(couple: Couple, role: str) -> Partner:
    """The couple's partner ``role`` ("a" or "b"); 404 for any other role."""
    if role not in ("a", "b"):
        abort(404)
    return couple.partner(role)


@routes.route("/couples/<uuid:couple_id>/partners/<role>/links/<purpose>", methods=["POST"])
@therapist_required
@with_couple
def link_create(
    therapist: Therapist, couple: Couple, role: str, purpose: str
) -> ResponseReturnValue:
    partner = role_partner_or_404(couple, role)
    # A rating link is made for one session, from the session page (ratings/views.py).
    if purpose not in PURPOSES or purpose == LinkPurpose.RATING:
        abort(404)
    form = NewLinkForm()
    if not form.validate_on_submit():
        abort(400)
    if couple.status == CaseStatus.CLOSED.value:
        # Its link would refuse the partner at once (refused_as_closed).
        flash("This case is closed: reopen it to send a new link.", "error")
        return redirect(url_for(".couple_detail", couple_id=couple.id), code=303)
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
    # Only the token's hash is kept, so the link is shown once, on a page of its own: a
    # reload, or Back, must not make a new link (which would revoke the one just sent).
    keep_to_show_once(
        _LINK_SHOWN, issued.link.id, {"token": issued.token, "email_result": email_result}
    )
    return redirect(url_for(".link_created", couple_id=couple.id), code=303)


_LINK_SHOWN = "link"


@routes.route("/couples/<uuid:couple_id>/links/created", methods=["GET"])
@therapist_required
@with_couple
def link_created(therapist: Therapist, couple: Couple) -> ResponseReturnValue:
    """The link just made, shown once; afterwards, back to the couple's page."""
    link = _pending_link(couple)
    taken = take_to_show(_LINK_SHOWN) if link is not None else None
    if link is None or taken is None or taken[0] != link.id:
        flash(
            "That link was shown once, when it was made, and is not shown again. If it "
            "was not kept, make a new one (the old one then stops working).",
            "info",
        )
        return redirect(url_for(".couple_detail", couple_id=couple.id), code=303)
    payload = taken[1]
    spec = PURPOSES[link.purpose]
    url = public_url(url_for(".link_open", token=str(payload["token"]), purpose=link.purpose))
    response = make_response(
        render_template(
            "reconnect_clinic/link_created.html",
            couple=couple,
            partner=link.partner,
            link=link,
            purpose_name=spec["name"],
            url=url,
            email_result=payload.get("email_result"),
        )
    )
    response.headers["Cache-Control"] = "no-store"  # never kept for Back to show again
    return response


def _pending_link(couple: Couple) -> ClientLink | None:
    """The link waiting to be shown in this session, if it is this couple's and still
    works (one made again since, in another tab, revoked it)."""
    link_id = pending_record(_LINK_SHOWN)
    link = db_session().get(ClientLink, link_id) if link_id is not None else None
    if link is None or link.partner.couple_id != couple.id:
        return None
    if effective_state(link) in (LinkState.EXPIRED, LinkState.REVOKED):
        take_to_show(_LINK_SHOWN)  # never to be shown: drop it
        return None
    return link


def _email_link(partner: Partner, url: str, link: ClientLink) -> str:
    if not mail_enabled():
        return "Email is not set up for this practice; please copy the link instead."
    if not partner.email:
        return "This partner has no email address; please copy the link instead."
    practice = config("PRACTICE_NAME")
    # In the partner's language (the therapist's setting), not the therapist's page's.
    with i18n.language(partner.language):
        body = render_template(
            f"reconnect_clinic/email/{link.purpose}_link.txt",
            partner=partner,
            url=url,
            practice=practice,
            expires_on=link.expires_at.date().isoformat(),
            **i18n.template_context(),
        )
        subject = i18n.gettext(PURPOSES[link.purpose]["subject"]).format(practice=practice)
    try:
        send_mail(partner.email, subject, body)
    except Exception as error:  # any SMTP failure is reported, not raised
        return f"The email could not be sent ({type(error).__name__}); please copy the link."
    return f"Emailed to {partner.email}."


@routes.route("/couples/<uuid:couple_id>/links/<uuid:link_id>/revoke", methods=["POST"])
@therapist_required
@with_couple
def link_revoke(therapist: Therapist, couple: Couple, link_id: uuid.UUID) -> ResponseReturnValue:
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


def link_problem(kind: str, *, sent: bool = False) -> Response:
    """A plain page that says what to do and reveals nothing about the couple; ``sent``
    when it answers a page the partner sent, whose words were not kept (it says so)."""
    status = {"unknown": 404, "expired": 410, "revoked": 410, "closed": 410, "limited": 429}[kind]
    return make_response(
        render_template(
            "reconnect_clinic/link_problem.html", kind=kind, sent=sent, client_page=True
        ),
        status,
    )


@routes.route("/i/<token>", defaults={"purpose": LinkPurpose.INTAKE.value}, endpoint="link_open")
@routes.route("/h/<token>", defaults={"purpose": LinkPurpose.HOMEWORK.value}, endpoint="link_open")
@routes.route("/r/<token>", defaults={"purpose": LinkPurpose.RATING.value}, endpoint="link_open")
def link_open(token: str, purpose: str) -> ResponseReturnValue:
    limiter = get_state().bad_link_limiter
    address = request.remote_addr or "unknown"
    if limiter.blocked(address):
        return link_problem("limited")
    link = find_link(token, purpose)
    if link is None:
        # Only unknown tokens count as failures: an old link a partner kept in their
        # email is not an attack, and must not lock others out of theirs. Counted and
        # checked in one step of the store (attempt), so tries sent at the same moment
        # cannot all pass the check above before any of them is counted.
        if not limiter.attempt(address):
            return link_problem("limited")
        return link_problem("unknown")
    state = effective_state(link)
    if state in (LinkState.EXPIRED, LinkState.REVOKED):
        return link_problem(state.value)
    if refused_as_closed(link):
        return link_problem("closed")
    link.last_opened_at = utcnow()
    record_event("link.open", actor=link, record=link, couple_id=link.partner.couple_id)
    db_session().commit()
    start_link_session(link)
    return redirect(url_for(PURPOSES[purpose]["start"], link_id=link.id))


# The purposes refused here once their case is closed. A measures or rating link refuses
# a closed case on its own page, which names what it asked for (tests/test_measure_links.py,
# tests/test_ratings.py).
REFUSED_WHEN_CLOSED = frozenset({LinkPurpose.INTAKE.value, LinkPurpose.HOMEWORK.value})


def refused_as_closed(link: ClientLink) -> bool:
    """Whether ``link`` is an intake or homework link of a closed case. Nobody reads what
    a closed case is sent, so nothing more is taken: a partner at risk must not write
    into a record that no therapist is watching (the page says whom to turn to)."""
    return (
        link.purpose in REFUSED_WHEN_CLOSED
        and link.partner.couple.status == CaseStatus.CLOSED.value
    )


def effective_state(link: ClientLink) -> LinkState:
    """The link's own state, and revoked as well when its case was deleted or its
    therapist can no longer work: a link is only as alive as the case behind it."""
    couple = link.partner.couple
    if couple.deleted_at is not None or not couple.therapist.active:
        return LinkState.REVOKED
    return state_of(link)


def partner_context(purpose: str, link_id: uuid.UUID) -> tuple[ClientLink, LinkState]:
    """The link a partner's page view acts for; otherwise the request ends here, with
    the page to show instead (``abort`` with it, so a view never checks for it).

    A page view needs the link to be open, and not idle, in this browser. Past the idle
    limit the link's pages say that the page timed out (not "this link does not work"),
    until the partner opens their link again.
    """
    link = session_link(link_id, purpose)
    if link is None:
        why = timed_out(link_id)
        abort(timed_out_page(why) if why is not None else link_problem("unknown"))
    state = effective_state(link)
    if state in (LinkState.EXPIRED, LinkState.REVOKED):
        end_link_session(link.id)
        abort(link_problem(state.value))
    if refused_as_closed(link):
        end_link_session(link.id)
        abort(link_problem("closed"))
    return link, state


@dataclass(frozen=True)
class PostedPage:
    """A partner's posted page that may be acted on."""

    link: ClientLink
    state: LinkState
    # Sent after the idle limit from the same link session: keep what it carried as a
    # draft, show nothing, then answer with :func:`after_timeout`.
    keep_only: bool


def posted_context(purpose: str, link_id: uuid.UUID) -> PostedPage:
    """The link a partner's post acts for (see ``link_session.posted_access``);
    otherwise the request ends here (``abort``) with the answer to send instead: a plain
    page for a forged or foreign reference, the dead link's page, or, for a genuine page
    that cannot be kept, the timed-out page."""
    posted = posted_access(request.form.get("link_ref"), link_id, purpose)
    if posted.access is Access.UNKNOWN or posted.link is None:
        abort(link_problem("unknown"))
    link = posted.link
    state = effective_state(link)
    if state in (LinkState.EXPIRED, LinkState.REVOKED):
        end_link_session(link.id)
        abort(link_problem(state.value, sent=True))
    if refused_as_closed(link):
        end_link_session(link.id)
        abort(link_problem("closed", sent=True))
    if posted.access is Access.TIMED_OUT:
        abort(after_timeout(link, kept=False))
    if posted.access is Access.STALE:
        flash(
            i18n.gettext(
                "That page had been open for too long to be saved, so nothing of it was "
                "kept. Anything you saved before is kept. Please fill it in again."
            ),
            "error",
        )
        abort(redirect(url_for(PURPOSES[link.purpose]["start"], link_id=link.id), code=303))
    return PostedPage(link=link, state=state, keep_only=posted.access is Access.KEEP)


def after_timeout(link: ClientLink, *, kept: bool) -> Response:
    """The answer to a page sent past the idle limit: its link's pages in this browser
    now say that the page timed out for the partner's privacy, and whether what it
    carried was kept; a redirect (303), so Back or reload never sends it again."""
    close_after_timeout(link.id, kept=kept)
    return redirect(url_for(PURPOSES[link.purpose]["start"], link_id=link.id), code=303)


def timed_out_page(why: TimedOut) -> Response:
    """The page a partner's link shows in this browser once it timed out: why, that
    nothing saved is lost, and how to carry on. It names nothing of the couple."""
    return make_response(
        render_template(
            "reconnect_clinic/link_problem.html",
            kind="timed_out",
            kept=why.value,
            idle=duration_words(config("LINK_IDLE_TIMEOUT")),
            client_page=True,
        ),
        200,
    )


def duration_words(seconds: int) -> str:
    """``7200`` -> "2 hours", ``5400`` -> "90 minutes", ``60`` -> "1 minute"."""
    # Shown on partners' pages only: in the partner's language.
    seconds = max(60, int(seconds))
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return i18n.ngettext("%(num)d hour", "%(num)d hours", hours)
    minutes = max(1, round(seconds / 60))
    return i18n.ngettext("%(num)d minute", "%(num)d minutes", minutes)
