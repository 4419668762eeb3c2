"""Intake routes: the therapist makes and revokes links; each partner fills in their own
intake through theirs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .. import i18n
from ..blueprint import RouteTable, therapist_required, with_couple
from ..cases.attention import mark_seen
from ..models import (
    ClientLink,
    Couple,
    IntakeResponse,
    IntakeStatus,
    LinkPurpose,
    Therapist,
    utcnow,
)
from ..risk import intake_disclosures, newly_disclosed
from ..risk.resources import CrisisResource, CrisisSupport, support_kinds
from ..security.audit.log import record_event
from ..security.links.session import end_all_link_sessions, link_ref
from ..security.links.views import (
    after_timeout,
    duration_words,
    partner_context,
    posted_context,
    role_partner_or_404,
)
from ..state import config, db_session, get_state
from .consent import CONSENT_PAGE, configured_consent, consent_pending
from .content import IntakePageSpec, page_slugs, page_spec, pages_for
from .forms import conceal, form_class, keep_unanswered, prefill, stored_values
from .operations import (
    IntakeClosed,
    IntakeIncomplete,
    lock_draft,
    response_for_link,
    save_page,
    submit_intake,
)

routes = RouteTable()

PURPOSE = LinkPurpose.INTAKE.value
ALREADY_SENT = i18n.N_("Your answers were already sent to your therapist. Nothing was changed.")


# --- therapist side -------------------------------------------------------------------


@routes.route("/couples/<uuid:couple_id>/partners/<role>/intake")
@therapist_required
@with_couple
def intake_answers(therapist: Therapist, couple: Couple, role: str) -> ResponseReturnValue:
    """Every answer one partner gave, for the therapist."""
    partner = role_partner_or_404(couple, role)
    looked_at = utcnow()  # before the answers are loaded
    taxonomy = get_state().taxonomy
    responses = (
        db_session()
        .scalars(
            sa.select(IntakeResponse)
            .where(IntakeResponse.partner_id == partner.id, IntakeResponse.deleted_at.is_(None))
            .order_by(IntakeResponse.created_at.desc())
        )
        .all()
    )
    response = next((r for r in responses if r.status == IntakeStatus.SUBMITTED), None) or (
        responses[0] if responses else None
    )
    if response is not None:
        record_event("intake.view", actor=therapist, record=response, couple_id=couple.id)
        if response.status == IntakeStatus.SUBMITTED:  # read: off the dashboard's to-do
            mark_seen(therapist, couple, looked_at, intakes=[partner.role])
        db_session().commit()
    return render_template(
        "reconnect_clinic/intake_answers.html",
        couple=couple,
        partner=partner,
        response=response,
        pages=pages_for(taxonomy),
        values=response.page_values() if response is not None else {},
    )


# --- partner side ---------------------------------------------------------------------


@routes.route("/intake/<uuid:link_id>/")
def intake_resume(link_id: uuid.UUID) -> ResponseReturnValue:
    link, _ = partner_context(PURPOSE, link_id)
    taxonomy = get_state().taxonomy
    response = response_for_link(link, taxonomy)
    db_session().commit()
    if response.status == IntakeStatus.SUBMITTED:
        return redirect(url_for(".intake_done", link_id=link.id))
    page = response.current_page or page_slugs(taxonomy)[0]
    if page not in page_slugs(taxonomy):
        page = page_slugs(taxonomy)[0]
    return redirect(url_for(".intake_page", link_id=link.id, page=page))


@routes.route("/intake/<uuid:link_id>/<page>", methods=["GET", "POST"])
def intake_page(link_id: uuid.UUID, page: str) -> ResponseReturnValue:
    posted = request.method == "POST"
    keep_only = False  # sent past the idle limit: kept as a draft, nothing shown
    if posted:
        # A draft saved on its own that cannot be kept, or that comes past the idle
        # limit, is refused (clinic.js says so); the page's own button keeps it (below),
        # once.
        autosave = request.form.get("action") == "autosave"
        try:
            sent = posted_context(PURPOSE, link_id)
        except HTTPException as refused:
            if autosave:
                # 410 (expired, revoked, case closed) tells clinic.js nothing can be saved.
                gone = refused.response is not None and refused.response.status_code == 410
                return Response(status=410 if gone else 409)
            raise
        if sent.keep_only and autosave:
            return Response(status=409)
        link, keep_only = sent.link, sent.keep_only
    else:
        link, _ = partner_context(PURPOSE, link_id)
    taxonomy = get_state().taxonomy
    slugs = page_slugs(taxonomy)
    if page not in slugs:
        abort(404)
    spec = page_spec(taxonomy, page)
    response = response_for_link(link, taxonomy)
    if response.status == IntakeStatus.SUBMITTED:
        db_session().commit()
        if keep_only:
            return after_timeout(link, kept=False)
        if posted:
            flash(i18n.gettext(ALREADY_SENT))
        return redirect(url_for(".intake_done", link_id=link.id))
    if page != CONSENT_PAGE and consent_pending(response, slugs):
        # Consent first: nothing is asked, or saved, before the partner has signed.
        db_session().commit()
        if keep_only:
            return after_timeout(link, kept=False)
        return redirect(url_for(".intake_page", link_id=link.id, page=CONSENT_PAGE))

    index = slugs.index(page)
    previous_page = slugs[index - 1] if index > 0 else None
    following_page = slugs[index + 1] if index + 1 < len(slugs) else None
    cls = form_class(taxonomy, spec)

    if not posted:
        form = cls()
        stored = response.page_values()
        saved = stored.get(page)
        # A write-only page (the safety questions) never shows what was saved, so nothing
        # of it is read back; the page only says that answers were saved.
        if saved and not spec.write_only:
            prefill(form, spec, saved)
        if not spec.write_only:
            # Sent with errors a moment ago (see below): the same page, its errors beside
            # the fields, drawn by this GET so that Back and reload never resend it.
            _show_errors(form, _take_errors(link, page))
        # Drawn before the commit, which would expire the rows the page reads, and before
        # the audit line, which holds the audit chain's lock until the commit.
        html = _render_page(
            form, spec, response, link, stored, answered=any((saved or {}).values())
        )
        if saved and not spec.write_only:
            record_event(
                "intake.read",
                actor=link,
                record=response,
                detail={"page": page},
                couple_id=link.partner.couple_id,
            )
        db_session().commit()
        return html

    try:
        # What is stored is read under the lock the save takes, so the answers a blank
        # keeps and the disclosures compared below are the ones the save replaces.
        lock_draft(response)
    except IntakeClosed:
        db_session().rollback()
        if keep_only:
            return after_timeout(link, kept=False)
        flash(i18n.gettext(ALREADY_SENT))
        return redirect(url_for(".intake_done", link_id=link.id))
    stored = response.page_values()
    kept: frozenset[str] = frozenset()
    if spec.write_only:
        formdata, kept = keep_unanswered(request.form, spec, stored.get(page, {}))
        form = cls(formdata=formdata)
    else:
        form = cls()
    action = request.form.get("action", "next")
    valid = form.validate()
    values = stored_values(form, spec)
    if action not in ("next", "back", "save", "autosave"):
        action = "next"
    if keep_only:
        # Past the idle limit: the page is kept where it is, as a draft (never submitted,
        # never moved on), and nothing of it is shown again until the link is reopened.
        action = "save"
    stay = action in ("back", "save", "autosave") or not valid or following_page is None
    try:
        save_page(
            response,
            page,
            values,
            complete=valid,
            next_page=None if action == "autosave" else (page if stay else following_page),
            actor=link,
        )
        # The language the questions were shown in (i18n.py), kept with the answers.
        response.language = i18n.current_language()
    except IntakeClosed:
        db_session().rollback()
        if keep_only:
            return after_timeout(link, kept=False)
        flash(i18n.gettext(ALREADY_SENT))
        return redirect(url_for(".intake_done", link_id=link.id))
    after = {**stored, page: values}
    now = utcnow()
    if newly_disclosed(intake_disclosures(stored, at=now), intake_disclosures(after, at=now)):
        # The partner has just told us something: whatever page they see next (this
        # one again, the next, or the one after an autosave) offers support at once.
        _offer_support(link)
    if action == "autosave":
        db_session().commit()
        return Response(status=204)
    if keep_only:
        db_session().commit()
        return after_timeout(link, kept=True)
    if action == "save":
        db_session().commit()
        flash(
            i18n.gettext("Saved. You can close this page and open your link again to carry on."),
            "success",
        )
        return redirect(url_for(".intake_page", link_id=link.id, page=page))
    if action == "back":
        db_session().commit()
        return redirect(url_for(".intake_page", link_id=link.id, page=previous_page or page))
    if not valid:
        # Committed before drawing (unlike a GET): save_page has written an audit line,
        # whose lock on the chain would otherwise be held while the page is drawn.
        db_session().commit()
        if not spec.write_only:
            # Post/redirect/get: the page is saved as typed, and the GET draws it again
            # with these errors (the messages only, never an answer, in the session).
            _keep_errors(link, page, form)
            return redirect(url_for(".intake_page", link_id=link.id, page=page), code=303)
        # A write-only page is drawn from this post: only what was just chosen is shown,
        # and a GET never reads its saved answers back.
        conceal(form, kept)
        return _render_page(form, spec, response, link, after, answered=bool(kept))
    if following_page is not None:
        db_session().commit()
        return redirect(url_for(".intake_page", link_id=link.id, page=following_page))
    db_session().commit()  # the consent page is saved whatever happens next
    try:
        submission = submit_intake(
            response, link, taxonomy, consent_name=values.get("signature", "")
        )
    except IntakeIncomplete as missing:
        db_session().rollback()
        flash(
            i18n.gettext("A few answers are still needed on this page before you can submit."),
            "error",
        )
        return redirect(url_for(".intake_page", link_id=link.id, page=missing.page))
    db_session().commit()
    if not submission.newly_submitted:
        flash(i18n.gettext(ALREADY_SENT))
    elif intake_disclosures(after, at=now):
        # The thank-you page offers support for everything the intake disclosed, once:
        # opened again later (perhaps by someone else, from the partner's email) it
        # shows nothing that hints at what was answered.
        _offer_support(link)
    return redirect(url_for(".intake_done", link_id=link.id))


def _render_page(
    form: FlaskForm,
    spec: IntakePageSpec,
    response: IntakeResponse,
    link: ClientLink,
    values: dict[str, dict[str, str]],
    *,
    answered: bool = False,
) -> str:
    done = {p.page for p in response.pages if p.complete}
    slugs = page_slugs(get_state().taxonomy)
    return render_template(
        "reconnect_clinic/intake_page.html",
        form=form,
        page=spec,
        index=slugs.index(spec.slug),
        total=len(slugs),
        pages=pages_for(get_state().taxonomy),
        done=done,
        link=link,
        link_ref=link_ref(link),
        consent=configured_consent(),
        crisis_text=config("CRISIS_TEXT"),
        support=_support_to_show(link, values),
        answered_before=answered and spec.write_only,
        idle_limit=duration_words(config("LINK_IDLE_TIMEOUT")),
        client_page=True,
    )


# --- errors carried over a redirect -----------------------------------------------------

# {link id: {"page": slug, "errors": {field: [message, ...]}}}: the validation messages of
# a page sent with errors, until the GET it is redirected to draws them. Messages only
# ("Please choose an answer."), never what was answered.
_PAGE_ERRORS = "reconnect_clinic_page_errors"


def _keep_errors(link: ClientLink, page: str, form: FlaskForm) -> None:
    errors = {
        name: [str(message) for message in messages]
        for name, messages in form.errors.items()
        if isinstance(messages, list | tuple)
    }
    kept = dict(session.get(_PAGE_ERRORS) or {})
    kept[str(link.id)] = {"page": page, "errors": errors}
    session[_PAGE_ERRORS] = kept


def _take_errors(link: ClientLink, page: str) -> dict[str, list[str]]:
    kept = session.get(_PAGE_ERRORS)
    if not isinstance(kept, dict) or str(link.id) not in kept:
        return {}
    entry = kept[str(link.id)]
    rest = {k: v for k, v in kept.items() if k != str(link.id)}
    if rest:
        session[_PAGE_ERRORS] = rest
    else:
        session.pop(_PAGE_ERRORS, None)
    if not isinstance(entry, dict) or entry.get("page") != page:
        return {}
    errors = entry.get("errors")
    return errors if isinstance(errors, dict) else {}


def _show_errors(form: FlaskForm, errors: dict[str, list[str]]) -> None:
    for name, messages in errors.items():
        if name in form and isinstance(messages, list):
            form[name].errors = [str(m) for m in messages]


# --- support at the moment of disclosure ------------------------------------------------

# Links whose next page offers support: {link id: True}, in the browser's session. Only
# that a page is due is kept, never what was disclosed (the session cookie is readable
# on the device); the resources are worked out from the stored answers when drawn.
_SUPPORT_DUE = "reconnect_clinic_support_due"


@dataclass(frozen=True)
class SupportOffer:
    """What the support panel shows: the services and the emergency line."""

    resources: tuple[CrisisResource, ...]
    emergency: str
    emergency_note: str


def _offer_support(link: ClientLink) -> None:
    due = dict(session.get(_SUPPORT_DUE) or {})
    due[str(link.id)] = True
    session[_SUPPORT_DUE] = due


def _support_to_show(link: ClientLink, values: dict[str, dict[str, str]]) -> SupportOffer | None:
    """The support this page shows, once, if a disclosure is waiting for it."""
    due = session.get(_SUPPORT_DUE)
    if not isinstance(due, dict) or str(link.id) not in due:
        return None
    due = {k: v for k, v in due.items() if k != str(link.id)}
    if due:
        session[_SUPPORT_DUE] = due
    else:
        session.pop(_SUPPORT_DUE, None)
    kinds = support_kinds(intake_disclosures(values, at=utcnow()))
    if not kinds:  # the answer was changed back since
        return None
    support: CrisisSupport = get_state().crisis_support
    return SupportOffer(
        resources=support.for_kinds(kinds),
        emergency=support.emergency,
        emergency_note=support.emergency_note,
    )


@routes.route("/leave")
def quick_exit() -> ResponseReturnValue:
    """ "Exit this page": forget every link this browser holds, and leave for a neutral
    site. The link works without JavaScript; clinic.js also takes the page out of the
    browser's history (location.replace). Going back afterwards to any partner page finds
    only the plain page a stranger's browser gets."""
    end_all_link_sessions()
    session.pop(_SUPPORT_DUE, None)
    return redirect(config("QUICK_EXIT_URL"))


@routes.route("/intake/<uuid:link_id>/done")
def intake_done(link_id: uuid.UUID) -> ResponseReturnValue:
    link, _ = partner_context(PURPOSE, link_id)
    response = db_session().scalar(
        sa.select(IntakeResponse).where(IntakeResponse.link_id == link.id)
    )
    if response is None or response.status != IntakeStatus.SUBMITTED:
        return redirect(url_for(".intake_resume", link_id=link.id))
    taxonomy = get_state().taxonomy
    values = response.page_values()
    # What the partner sees of their own answers once they are in: never the safety or
    # wellbeing pages, so a link found later on a shared device does not reveal them.
    html = render_template(
        "reconnect_clinic/intake_done.html",
        response=response,
        pages=[p for p in pages_for(taxonomy) if p.recap],
        values=values,
        support=_support_to_show(link, values),
        client_page=True,
    )
    return html
