"""Intake routes: the therapist makes and revokes links; each partner fills in their own
intake through theirs."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.csrf import ValidationError, validate_csrf
from werkzeug.wrappers import Response

from ..blueprint import bp, signed_in_therapist, therapist_required
from ..models import IntakeResponse, IntakeStatus, LinkPurpose
from ..security.audit import record_event
from ..security.link_session import current_link
from ..security.link_views import partner_context, partner_or_404
from ..security.links import LinkState
from ..state import config, db_session, get_state
from .content import IntakePageSpec, page_slugs, page_spec, pages_for
from .forms import form_class, prefill, stored_values
from .operations import IntakeIncomplete, response_for_link, save_page, submit_intake

PURPOSE = LinkPurpose.INTAKE.value


# --- therapist side -------------------------------------------------------------------


@bp.route("/couples/<uuid:couple_id>/partners/<role>/intake")
@therapist_required
def intake_answers(couple_id: uuid.UUID, role: str) -> Any:
    """Every answer one partner gave, for the therapist."""
    therapist = signed_in_therapist()
    couple, partner = partner_or_404(couple_id, role)
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


@bp.route("/intake/")
def intake_resume() -> Any:
    context = partner_context(PURPOSE)
    if isinstance(context, Response):
        return context
    link, _ = context
    taxonomy = get_state().taxonomy
    response = response_for_link(link, taxonomy)
    db_session().commit()
    if response.status == IntakeStatus.SUBMITTED:
        return redirect(url_for(".intake_done"))
    page = response.current_page or page_slugs(taxonomy)[0]
    if page not in page_slugs(taxonomy):
        page = page_slugs(taxonomy)[0]
    return redirect(url_for(".intake_page", page=page))


@bp.route("/intake/<page>", methods=["GET", "POST"])
def intake_page(page: str) -> Any:
    context = partner_context(PURPOSE)
    if isinstance(context, Response):
        return context
    link, _ = context
    taxonomy = get_state().taxonomy
    slugs = page_slugs(taxonomy)
    if page not in slugs:
        abort(404)
    spec = page_spec(taxonomy, page)
    response = response_for_link(link, taxonomy)
    if response.status == IntakeStatus.SUBMITTED:
        db_session().commit()
        if request.method == "POST":
            flash("Your answers were already sent to your therapist. Nothing was changed.")
        return redirect(url_for(".intake_done"))

    index = slugs.index(page)
    previous_page = slugs[index - 1] if index > 0 else None
    following_page = slugs[index + 1] if index + 1 < len(slugs) else None
    form = form_class(taxonomy, spec)()

    if request.method == "GET":
        saved = response.page_values().get(page)
        if saved:
            prefill(form, spec, saved)
        db_session().commit()
        return _render_page(form, spec, response)

    if not csrf_ok(form):
        # The page was open longer than its form token lives (or the token is missing).
        # Nothing is stored from an unverified request, and nothing is lost either: the
        # answers go back to the partner in the page, with a fresh token.
        db_session().rollback()
        return expired_form_response(form, spec, response)

    action = request.form.get("action", "next")
    valid = form.validate()
    values = stored_values(form, spec)
    if action == "autosave":
        save_page(response, page, values, complete=valid, next_page=None)
        db_session().commit()
        return Response(status=204)
    if action in ("back", "save"):
        save_page(response, page, values, complete=valid, next_page=page)
        db_session().commit()
        if action == "save":
            flash("Saved. You can close this page and open your link again to carry on.", "success")
            return redirect(url_for(".intake_page", page=page))
        return redirect(url_for(".intake_page", page=previous_page or page))

    save_page(
        response,
        page,
        values,
        complete=valid,
        next_page=following_page if valid and following_page else page,
    )
    if not valid:
        db_session().commit()
        return _render_page(form, spec, response)
    if following_page is not None:
        db_session().commit()
        return redirect(url_for(".intake_page", page=following_page))
    try:
        submission = submit_intake(
            response, link, taxonomy, consent_name=values.get("signature", "")
        )
    except IntakeIncomplete as missing:
        db_session().commit()
        flash("A few answers are still needed on this page before you can submit.", "error")
        return redirect(url_for(".intake_page", page=missing.page))
    db_session().commit()
    if not submission.newly_submitted:
        flash("Your answers were already sent to your therapist. Nothing was changed.")
    return redirect(url_for(".intake_done"))


def csrf_ok(form: FlaskForm) -> bool:
    try:
        validate_csrf(form.csrf_token.data)
    except ValidationError:
        return False
    return True


def expired_form_response(
    form: FlaskForm, spec: IntakePageSpec, response: IntakeResponse
) -> Response:
    if request.form.get("action") == "autosave":
        return Response(status=400)
    flash(
        "This page had been open for a long time, so it was not saved yet. Your answers are "
        "still here: please press the button again.",
        "error",
    )
    return make_response(_render_page(form, spec, response))


def rerender_expired_intake_page(page: str) -> Response | None:
    """Called when the app-wide CSRF check refused an intake page: show the partner
    their answers again instead of an error. None when this is not such a request."""
    if request.endpoint != "reconnect_clinic.intake_page":
        return None
    link, state = current_link(PURPOSE)
    if link is None or state is not LinkState.USABLE:
        return None
    taxonomy = get_state().taxonomy
    if page not in page_slugs(taxonomy):
        return None
    spec = page_spec(taxonomy, page)
    response = response_for_link(link, taxonomy)
    db_session().commit()
    return expired_form_response(form_class(taxonomy, spec)(), spec, response)


def _render_page(form: FlaskForm, spec: IntakePageSpec, response: IntakeResponse) -> str:
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
        consent_text=config("CONSENT_TEXT"),
        crisis_text=config("CRISIS_TEXT"),
        client_page=True,
    )


@bp.route("/intake/done")
def intake_done() -> Any:
    context = partner_context(PURPOSE)
    if isinstance(context, Response):
        return context
    link, _ = context
    response = db_session().scalar(
        sa.select(IntakeResponse).where(IntakeResponse.link_id == link.id)
    )
    if response is None or response.status != IntakeStatus.SUBMITTED:
        return redirect(url_for(".intake_resume"))
    taxonomy = get_state().taxonomy
    return render_template(
        "reconnect_clinic/intake_done.html",
        response=response,
        pages=pages_for(taxonomy),
        values=response.page_values(),
        client_page=True,
    )
