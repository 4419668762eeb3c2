"""A partner's homework, through their own link: what they were given, their check-ins
and a calendar file for each assignment. The therapist's side is in views.py."""

from __future__ import annotations

import secrets
import uuid

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload

from .. import i18n
from ..blueprint import RouteTable
from ..downloads import ICS, download
from ..models import (
    ClientLink,
    HomeworkAssignment,
    LinkPurpose,
    Partner,
)
from ..security.audit.log import record_event
from ..security.links.session import link_ref
from ..security.links.views import after_timeout, partner_context, posted_context
from ..state import db_session
from .forms import CheckInForm, today
from .operations import (
    CheckInDetails,
    record_check_in,
)
from .schedule import calendar_file, calendar_summary

routes = RouteTable()

PURPOSE = LinkPurpose.HOMEWORK.value


def _partner_homework(partner: Partner) -> list[HomeworkAssignment]:
    return list(
        db_session().scalars(
            sa.select(HomeworkAssignment)
            .where(
                HomeworkAssignment.couple_id == partner.couple_id,
                HomeworkAssignment.deleted_at.is_(None),
                HomeworkAssignment.assignee.in_([partner.role, "both"]),
            )
            .options(selectinload(HomeworkAssignment.check_ins))
            .order_by(HomeworkAssignment.closed_on.is_not(None), HomeworkAssignment.due_on)
        )
    )


def _partner_assignment_or_404(partner: Partner, assignment_id: uuid.UUID) -> HomeworkAssignment:
    assignment = db_session().get(HomeworkAssignment, assignment_id)
    if (
        assignment is None
        or assignment.deleted_at is not None
        or assignment.couple_id != partner.couple_id
        or not assignment.is_for(partner.role)
    ):
        abort(404)
    return assignment


@routes.route("/homework/<uuid:link_id>/")
def homework_mine(link_id: uuid.UUID) -> ResponseReturnValue:
    link, _ = partner_context(PURPOSE, link_id)
    partner = link.partner
    assignments = _partner_homework(partner)
    record_event("homework.view", actor=link, record=partner, couple_id=partner.couple_id)
    db_session().commit()
    return _render_mine(link, assignments, forms={})


def _render_mine(
    link: ClientLink,
    assignments: list[HomeworkAssignment],
    forms: dict[uuid.UUID, CheckInForm],
) -> str:
    return render_template(
        "reconnect_clinic/homework_mine.html",
        partner=link.partner,
        link=link,
        link_ref=link_ref(link),
        assignments=assignments,
        forms={a.id: forms.get(a.id) or _fresh_form() for a in assignments},
        calendar_title=calendar_summary,
        client_page=True,
    )


def _fresh_form() -> CheckInForm:
    form = CheckInForm(formdata=None)
    form.client_key.data = secrets.token_urlsafe(24)
    return form


@routes.route("/homework/<uuid:link_id>/<uuid:assignment_id>/check-in", methods=["POST"])
def homework_check_in(link_id: uuid.UUID, assignment_id: uuid.UUID) -> ResponseReturnValue:
    sent = posted_context(PURPOSE, link_id)
    link = sent.link
    partner = link.partner
    assignment = _partner_assignment_or_404(partner, assignment_id)
    form = CheckInForm()
    if not form.validate():
        if sent.keep_only:  # past the idle limit nothing is shown again, errors included
            return after_timeout(link, kept=False)
        # Shown again with every answer as typed and the errors beside them.
        return _render_mine(link, _partner_homework(partner), {assignment.id: form})
    check_in, created = record_check_in(
        assignment,
        partner,
        CheckInDetails(
            client_key=form.client_key.data or "",
            completion=form.completion.data or "",
            helpfulness=int(form.helpfulness.data) if form.helpfulness.data else None,
            reflection=form.reflection.data or None,
            share_with_partner=bool(form.share_with_partner.data),
        ),
        today=today(),
        actor=link,
    )
    if created:  # the language the page was shown in (i18n.py), kept with the answer
        check_in.language = i18n.current_language()
    db_session().commit()
    if sent.keep_only:
        # Sent past the idle limit from the same link session: saved, and the page
        # says so without showing any homework until the link is opened again.
        return after_timeout(link, kept=True)
    if check_in.late:
        flash(
            i18n.gettext(
                "“%(title)s” was closed on %(date)s, so this check-in no longer counts "
                "toward it, but it is saved and your therapist will see it.",
                title=i18n.gettext(assignment.title),
                date=assignment.closed_on,
            ),
            "info",
        )
    elif created:
        flash(
            i18n.gettext(
                "Check-in saved for “%(title)s”. Thank you.",
                title=i18n.gettext(assignment.title),
            ),
            "success",
        )
    else:
        flash(i18n.gettext("That check-in was already saved."), "info")
    return redirect(url_for(".homework_mine", link_id=link.id, _anchor=f"a-{assignment.id}"))


@routes.route("/homework/<uuid:link_id>/<uuid:assignment_id>.ics")
def homework_calendar(link_id: uuid.UUID, assignment_id: uuid.UUID) -> ResponseReturnValue:
    link, _ = partner_context(PURPOSE, link_id)
    assignment = _partner_assignment_or_404(link.partner, assignment_id)
    # The language of the partner's pages (i18n.py): the route is one of them.
    language = i18n.current_language()
    body = calendar_file(
        uid_base=str(assignment.id),
        summary=calendar_summary(str(assignment.content.get("mode", "individual")), language),
        frequency=assignment.frequency,
        times_per_week=assignment.times_per_week,
        starts_on=assignment.starts_on,
        due_on=assignment.due_on,
        duration_minutes=int(assignment.content.get("duration_minutes", 15)),
        created=assignment.created_at,
        language=language,
    )
    # A partner's own file, seen on their phone: its name says nothing of who or what.
    return download(body, f"reminder_{assignment.starts_on.isoformat()}.ics", ICS)
