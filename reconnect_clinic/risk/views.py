"""The therapist's word on a partner's risk (acknowledge with a plan, resolve, open), and
the hook that sends risk emails once a request's disclosures are committed."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from ..blueprint import RouteTable, therapist_required, with_couple
from ..models import Couple, Therapist
from ..state import db_session
from ..text import clean_text
from . import alerts
from .core import RiskKind, RiskLevel, RiskStatus
from .operations import AssessmentDetails, AssessmentRefused, assess
from .panel import KIND_TITLES, LEVEL_TEXT

routes = RouteTable()

PLAN_MAX = 2000

routes.after_request(alerts.send_queued)


class RiskForm(FlaskForm):
    """One therapist's word on one kind of risk: the panel draws one per button."""

    kind = SelectField(
        "Kind of risk",
        choices=[SelectChoice(kind.value, KIND_TITLES[kind]) for kind in RiskKind],
        validators=[InputRequired("Please choose the kind of risk.")],
    )
    status = HiddenField(
        validators=[AnyOf([s.value for s in RiskStatus], message="Unknown action.")]
    )
    level = RadioField(
        "Level",
        choices=[SelectChoice(str(int(level)), LEVEL_TEXT[level]) for level in RiskLevel],
        default=str(int(RiskLevel.CONCERN)),
        validators=[Optional()],
    )
    plan = TextAreaField(
        "Plan", validators=[Optional(), Length(max=PLAN_MAX)], filters=[clean_text]
    )
    # The latest disclosure the page showed (ISO time): see AssessmentDetails.seen_up_to.
    seen = HiddenField()


def assessment_problem(status: RiskStatus, plan: str) -> str | None:
    """Why this word cannot be recorded as given, or None. Acknowledging a risk means
    having a plan for it, so it needs one written down (short is fine)."""
    if status is RiskStatus.ACKNOWLEDGED and not plan.strip():
        return "Please write a short plan to acknowledge this risk."
    return None


EARLIEST = datetime.min.replace(tzinfo=UTC)


def seen_moment(text: str | None) -> datetime:
    """The moment a form says its page showed, or the earliest one (it showed nothing)."""
    try:
        moment = datetime.fromisoformat(text or "")
    except ValueError:
        return EARLIEST
    return moment if moment.tzinfo is not None else EARLIEST


@routes.route("/couples/<uuid:couple_id>/partners/<role>/risk", methods=["POST"])
@therapist_required
@with_couple
def risk_assess(therapist: Therapist, couple: Couple, role: str) -> ResponseReturnValue:
    partner = next((p for p in couple.partners if p.role == role), None)
    if partner is None:
        abort(404)
    form = RiskForm()
    back = redirect(url_for(".couple_detail", couple_id=couple.id, _anchor="risks"))
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return back
    status = RiskStatus(form.status.data)
    plan = form.plan.data or ""
    problem = assessment_problem(status, plan)
    if problem is not None:
        flash(problem, "error")
        return back
    details = AssessmentDetails(
        kind=RiskKind(form.kind.data),
        status=status,
        level=RiskLevel(int(form.level.data or RiskLevel.CONCERN)),
        plan=plan,
        # A page that names no moment saw nothing: it cannot acknowledge or resolve.
        seen_up_to=None if status is RiskStatus.OPEN else seen_moment(form.seen.data),
    )
    try:
        assess(partner, therapist, details)
    except AssessmentRefused:
        db_session().rollback()
        flash(
            "That risk has changed since the page was drawn (perhaps something new was "
            "disclosed): here it is as it stands.",
            "error",
        )
        return back
    db_session().commit()
    flash(
        {
            RiskStatus.ACKNOWLEDGED: "Risk acknowledged, with your plan.",
            RiskStatus.RESOLVED: "Risk marked resolved.",
            RiskStatus.OPEN: "Risk opened.",
        }[status],
        "success",
    )
    return back
