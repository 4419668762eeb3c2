"""Reminder emails for homework that is due: one per partner, assignment and due date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import render_template
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import i18n
from ..mail import send_mail
from ..models import Couple, HomeworkAssignment, Partner, ReminderSent
from ..security.audit.log import record_event
from ..state import config, db_session
from .schedule import adherence


@dataclass(frozen=True)
class Reminder:
    assignment: HomeworkAssignment
    partner: Partner


def due_reminders(today: date) -> list[Reminder]:
    """Partners with an email whose open homework is due today or tomorrow and who have
    not yet made the check-ins it asks for, and were not reminded of it already."""
    session = db_session()
    assignments = session.scalars(
        sa.select(HomeworkAssignment)
        .join(Couple, Couple.id == HomeworkAssignment.couple_id)
        .where(
            HomeworkAssignment.deleted_at.is_(None),
            HomeworkAssignment.closed_on.is_(None),
            HomeworkAssignment.due_on.between(today, today + timedelta(days=1)),
            Couple.deleted_at.is_(None),
            Couple.status != "closed",
        )
        .options(
            selectinload(HomeworkAssignment.check_ins),
            selectinload(HomeworkAssignment.couple).selectinload(Couple.partners),
        )
    ).all()
    sent = {
        (row.assignment_id, row.partner_id, row.due_on)
        for row in session.scalars(
            sa.select(ReminderSent).where(
                ReminderSent.assignment_id.in_([a.id for a in assignments])
            )
        )
    }
    reminders = []
    for assignment in assignments:
        for partner in assignment.couple.partners:
            if not assignment.is_for(partner.role) or not partner.email:
                continue
            if (assignment.id, partner.id, assignment.due_on) in sent:
                continue
            days = [
                c.checked_in_on
                for c in assignment.check_ins
                if c.partner_id == partner.id and not c.late and c.deleted_at is None
            ]
            progress = adherence(
                assignment.frequency,
                assignment.times_per_week,
                assignment.starts_on,
                assignment.due_on,
                days,
                assignment.due_on,  # what will be owed by the due date
            )
            if progress.made < max(progress.expected, 1):
                reminders.append(Reminder(assignment, partner))
    return reminders


def send_reminders(today: date) -> tuple[int, int]:
    """Send each due reminder once, committing after each. Returns (sent, failed).

    The record is written before the email goes out and removed again if sending fails,
    so two runs at once, or a run after a crash, never send the same reminder twice.
    """
    session = db_session()
    sent = failed = 0
    for reminder in due_reminders(today):
        record = ReminderSent(
            assignment_id=reminder.assignment.id,
            partner_id=reminder.partner.id,
            due_on=reminder.assignment.due_on,
        )
        try:
            with session.begin_nested():
                session.add(record)
        except IntegrityError:
            continue  # another run got there first
        # In the partner's language (the therapist's setting): a command has no page.
        with i18n.language(reminder.partner.language):
            body = render_template(
                "reconnect_clinic/email/homework_reminder.txt",
                partner=reminder.partner,
                assignment=reminder.assignment,
                practice=config("PRACTICE_NAME"),
                **i18n.template_context(),
            )
            subject = i18n.gettext("A reminder from %(practice)s", practice=config("PRACTICE_NAME"))
        try:
            send_mail(reminder.partner.email or "", subject, body)
        except Exception:  # the next run tries again
            session.rollback()
            failed += 1
            continue
        record_event(
            "homework.reminder",
            actor=None,
            record=reminder.assignment,
            couple_id=reminder.assignment.couple_id,
            detail={"partner": str(reminder.partner.id)},
        )
        session.commit()
        sent += 1
    return sent, failed
