"""The therapist's dashboard and case pages."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload

from ..blueprint import RouteTable, signed_in_therapist, therapist_required, with_couple
from ..homework import library
from ..homework.operations import ruled_out_tags
from ..homework.queries import couple_assignments
from ..homework.recommend import suggest
from ..homework.summary import assignment_rows, reflections
from ..intake.summary import CoupleIntake, summarise
from ..mail import mail_enabled
from ..measures.queries import (
    celebration_lines,
    dashboard_measures,
    measures_section,
    with_measures,
)
from ..models import (
    ClientLink,
    Couple,
    IntakeResponse,
    IntakeStatus,
    SuggestionDecision,
    Therapist,
    utcnow,
)
from ..notes.queries import couple_sessions
from ..ratings.views import couple_ratings_context
from ..readonly import read_only
from ..risk.panel import RiskPanel, risk_panel
from ..risk.queries import caseload_open_levels, couple_risk_records, risks_by_role
from ..risk.views import RiskForm
from ..security.accounts.forms import PostOnlyForm
from ..security.audit.log import couple_log, record_event
from ..security.links.views import NewLinkForm
from ..state import db_session, get_state
from .attention import mark_seen, next_session_text
from .forms import CoupleForm, PartnerForm
from .listing import (
    DASHBOARD_FILTERS,
    FILTER_LABELS,
    caseload,
    needing_attention,
    order_by_attention,
    status_filter,
)
from .operations import CaseDetails, PartnerDetails, open_case, update_case

routes = RouteTable()


def _today() -> date:
    return date.today()  # noqa: DTZ011 - dates a therapist types are in their own day


def _details(form: CoupleForm) -> CaseDetails:
    def partner(sub: PartnerForm) -> PartnerDetails:
        return PartnerDetails(
            first_name=sub.first_name.data or "",
            last_name=sub.last_name.data or "",
            email=sub.email.data or None,
            pronouns=sub.pronouns.data or None,
            language=sub.language.data or None,
        )

    return CaseDetails(
        label=form.label.data or "",
        status=form.status.data,
        opened_on=form.opened_on.data,
        partner_a=partner(form.partner_a.form),
        partner_b=partner(form.partner_b.form),
        legal_hold=bool(form.legal_hold.data),
    )


@routes.route("/")
@read_only
@therapist_required
def dashboard() -> ResponseReturnValue:
    therapist = signed_in_therapist()
    shown = request.args.get("show", "open")
    if shown not in DASHBOARD_FILTERS:
        shown = "open"
    today = _today()
    # The list with each case's to-do facts (two statements however many cases), then
    # one statement for every case's risk marker; what needs the therapist first. The
    # view only reads (read_only): the couple's page records what was seen.
    couples = caseload(therapist, status_filter(shown), today)
    # Missed measures and reliable improvement (measures/queries.py) join each line's
    # to-do before the lines are ordered and filtered by it.
    couples = with_measures(couples, dashboard_measures([c.id for c in couples], today))
    if couples:
        levels = caseload_open_levels(therapist, status_filter(shown))
        couples = order_by_attention(couples, levels)
    if shown == "attention":
        couples = needing_attention(couples)
    # One url_for and a substitution per line, rather than a url_for per line (each
    # builds the URL through the whole routing map): the list is the app's most used page.
    placeholder = uuid.UUID(int=0)
    detail = url_for(".couple_detail", couple_id=placeholder)
    return render_template(
        "reconnect_clinic/dashboard.html",
        couples=couples,
        detail_url=lambda case_id: detail.replace(str(placeholder), str(case_id)),
        shown=shown,
        filters=DASHBOARD_FILTERS,
        filter_labels=FILTER_LABELS,
        today=today,
        next_session_text=next_session_text,
    )


@routes.route("/couples/new", methods=["GET", "POST"])
@therapist_required
def couple_new() -> ResponseReturnValue:
    therapist = signed_in_therapist()
    form = CoupleForm()
    if form.validate_on_submit():
        couple = open_case(therapist, _details(form), today=_today())
        db_session().commit()
        flash(f"Case “{couple.label}” opened.", "success")
        return redirect(url_for(".couple_detail", couple_id=couple.id))
    return render_template("reconnect_clinic/couple_form.html", form=form, couple=None)


@routes.route("/couples/<uuid:couple_id>")
@therapist_required
@with_couple
def couple_detail(therapist: Therapist, couple: Couple) -> ResponseReturnValue:
    looked_at = utcnow()  # before anything is loaded: what comes later is still new
    partner_ids = [p.id for p in couple.partners]
    session = db_session()
    responses = session.scalars(
        sa.select(IntakeResponse)
        .where(IntakeResponse.partner_id.in_(partner_ids), IntakeResponse.deleted_at.is_(None))
        .options(selectinload(IntakeResponse.pages))
    ).all()
    links = session.scalars(sa.select(ClientLink).where(ClientLink.partner_id.in_(partner_ids)))
    intake = summarise(get_state().taxonomy, couple.partners, responses, links, utcnow())
    homework = couple_homework(couple, intake)
    risks = couple_risk_panel(couple, responses)
    # The page is drawn before the commit: committing expires every row loaded, and the
    # template would then reload them one query per session, assignment and check-in it
    # touches (an N+1 that grows with the case). The audit lines come after the drawing:
    # on PostgreSQL each takes the audit chain's lock until the commit, and no other
    # writer should wait while a page is drawn.
    page = render_template(
        "reconnect_clinic/couple_detail.html",
        couple=couple,
        intake=intake,
        homework=homework,
        risks=risks,
        risk_form=RiskForm(),
        sessions=couple_sessions(couple),
        link_form=NewLinkForm(),
        post_form=PostOnlyForm(),
        mail_enabled=mail_enabled(),
        **couple_ratings_context(couple),
        measures=measures_section(couple, _today()),
    )
    record_event("couple.view", actor=therapist, record=couple, couple_id=couple.id)
    for item in intake.partners:
        if item.state == "submitted" and item.response is not None:
            record_event("intake.view", actor=therapist, record=item.response, couple_id=couple.id)
    if homework["reflections"]:
        record_event("homework.view", actor=therapist, record=couple, couple_id=couple.id)
    # The dashboard's "new since": the page, and the submitted intakes it showed.
    shown_intakes = [
        item.partner.role
        for item in intake.partners
        if item.state == "submitted" and item.response is not None
    ]
    mark_seen(therapist, couple, looked_at, page=True, intakes=shown_intakes)
    session.commit()
    return page


@routes.route("/couples/<uuid:couple_id>/edit", methods=["GET", "POST"])
@therapist_required
@with_couple
def couple_edit(therapist: Therapist, couple: Couple) -> ResponseReturnValue:
    form = CoupleForm(obj=None if request.method == "POST" else _form_data(couple))
    if form.validate_on_submit():
        update_case(couple, therapist, _details(form), today=_today())
        db_session().commit()
        flash("Case details saved.", "success")
        return redirect(url_for(".couple_detail", couple_id=couple.id))
    return render_template("reconnect_clinic/couple_form.html", form=form, couple=couple)


def couple_homework(couple: Couple, intake: CoupleIntake) -> dict[str, Any]:
    """Suggestions, assignments with adherence, and the reflections feed for a couple."""
    assignments = couple_assignments(couple)
    scores = {item.partner.role: item.scores for item in intake.partners}
    ruled_out = ruled_out_tags(risks_by_role(couple))
    decided = db_session().scalars(
        sa.select(SuggestionDecision).where(SuggestionDecision.couple_id == couple.id)
    )
    dismissed = frozenset(d.step for d in decided if d.decision == "dismissed")
    open_steps = frozenset(a.healing_step for a in assignments if a.closed_on is None)
    return {
        "suggestions": suggest(
            get_state().taxonomy,
            library.load(),
            scores.get("a"),
            scores.get("b"),
            ruled_out=ruled_out,
            dismissed=dismissed,
            assigned=open_steps,
            improvements=tuple(
                f"{line.partner_name}'s {line.name} {line.first} → {line.latest}"
                for line in celebration_lines(couple)
            ),
        ),
        "rows": assignment_rows(assignments, couple.partners, _today()),
        "reflections": reflections(assignments, couple.partners)[:20],
        "intake_done": intake.any_submitted,
    }


def couple_risk_panel(couple: Couple, responses: Sequence[IntakeResponse]) -> RiskPanel:
    """The couple's risks as the page's panel shows them, beside the answers behind
    them (from the intakes already loaded for the page)."""
    records, risks = couple_risk_records(couple)
    return risk_panel(
        get_state().taxonomy,
        couple.partners,
        risks,
        records.disclosures,
        records.assessments,
        {r.id: r.page_values() for r in responses},
        frozenset(r.id for r in responses if r.status == IntakeStatus.DRAFT),
    )


class _Obj:
    """Attribute bag for pre-filling a form from a couple and its partners."""

    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)


def _form_data(couple: Couple) -> _Obj:
    def partner(role: str) -> _Obj:
        p = couple.partner(role)
        return _Obj(
            first_name=p.first_name,
            last_name=p.last_name,
            email=p.email,
            pronouns=p.pronouns,
            language=p.language or "",
        )

    return _Obj(
        label=couple.label,
        status=couple.status,
        opened_on=couple.opened_on,
        legal_hold=couple.legal_hold,
        partner_a=partner("a"),
        partner_b=partner("b"),
    )


@routes.route("/couples/<uuid:couple_id>/audit")
@therapist_required
@with_couple
def couple_audit(therapist: Therapist, couple: Couple) -> ResponseReturnValue:
    """The audit log of one case, for its therapist."""
    events = couple_log(couple.id)
    record_event("audit.view", actor=therapist, record=couple, couple_id=couple.id)
    db_session().commit()
    return render_template("reconnect_clinic/couple_audit.html", couple=couple, events=events)


@routes.route("/couples/<uuid:couple_id>/export.zip")
@therapist_required
@with_couple
def couple_export(therapist: Therapist, couple: Couple) -> ResponseReturnValue:
    """The case's complete record for a records request: JSON of everything, and PDFs.

    ``?for=a`` (or ``b``) makes the record for that partner alone, which holds nothing
    private of the other partner (see ``lifecycle.for_partner``)."""
    from flask import abort, current_app

    from ..downloads import ZIP, download, download_name
    from ..tasks import jobs, queue
    from ..tasks.exports import record_export

    audience = request.args.get("for") or None
    if audience not in (None, "a", "b"):
        abort(404)
    today = _today()
    if queue.enabled():
        # Made by a worker; the therapist waits on its progress page (tasks/views.py).
        try:
            task_id = queue.submit(
                "export",
                jobs.export_job,
                (str(couple.id), str(therapist.id), audience, today.isoformat()),
                therapist_id=therapist.id,
                couple_id=couple.id,
                detail=f"partner {audience}" if audience else None,
            )
        except Exception:  # Redis down: made here, as without a queue
            current_app.logger.warning("The job queue is unreachable: the export is made here")
        else:
            db_session().commit()
            return redirect(url_for("reconnect_clinic.task_progress", task_id=task_id), 303)
    export = record_export(couple, audience, today)
    kind = f"case record partner {audience}" if audience else "case record"
    filename = download_name(couple.label, today, kind, "zip")
    record_event(
        "couple.export",
        actor=therapist,
        record=couple,
        couple_id=couple.id,
        detail={"files": list(export.files), "for": audience or "couple"},
    )
    db_session().commit()
    return download(export.body, filename, ZIP)
