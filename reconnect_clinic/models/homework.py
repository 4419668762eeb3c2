"""Homework: exercises (the library's and therapists' own), assignments, check-ins."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import TABLE_PREFIX, ClinicModel, RecordMixin, SoftDeleteMixin, utcnow
from .people import Couple, Partner, Therapist
from .sealed import Sealed


class Assignee(StrEnum):
    A = "a"
    B = "b"
    BOTH = "both"


class Frequency(StrEnum):
    ONCE = "once"
    DAILY = "daily"
    WEEKLY = "weekly"


class Completion(StrEnum):
    DONE = "done"
    PARTLY = "partly"
    NOT_DONE = "not_done"


class ContraindicationOverride(TypedDict):
    """What ``HomeworkAssignment.contraindication_override`` holds: the risk tags the
    exercise was given in spite of, and the therapist's written reason."""

    tags: list[str]
    reason: str


class CustomExercise(RecordMixin, SoftDeleteMixin, ClinicModel):
    """A therapist's own exercise, written from scratch or edited from a library copy."""

    __tablename__ = f"{TABLE_PREFIX}custom_exercise"
    __table_args__ = (
        sa.CheckConstraint("mode IN ('together', 'individual')", name="mode_known"),
        sa.CheckConstraint("frequency IN ('once', 'daily', 'weekly')", name="frequency_known"),
    )

    therapist_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"), index=True
    )
    step: Mapped[str] = mapped_column(sa.String(60))
    based_on: Mapped[str | None] = mapped_column(sa.String(80), default=None)
    # The therapist's own words, which may be written for one couple: sealed.
    title_sealed: Mapped[str] = mapped_column("title", sa.Text)
    title = Sealed[str]("title")
    purpose_sealed: Mapped[str] = mapped_column("purpose", sa.Text)
    purpose = Sealed[str]("purpose")
    mode: Mapped[str] = mapped_column(sa.String(20))
    frequency: Mapped[str] = mapped_column(sa.String(20))
    times_per_week: Mapped[int] = mapped_column(default=0)
    duration_minutes: Mapped[int]
    instructions_sealed: Mapped[str] = mapped_column("instructions", sa.Text)
    instructions = Sealed[list[str]]("instructions", as_json=True, empty=list)
    reflection_prompts_sealed: Mapped[str] = mapped_column("reflection_prompts", sa.Text)
    reflection_prompts = Sealed[list[str]]("reflection_prompts", as_json=True, empty=list)
    therapist_note_sealed: Mapped[str] = mapped_column("therapist_note", sa.Text)
    therapist_note = Sealed[str]("therapist_note")


class HomeworkAssignment(RecordMixin, SoftDeleteMixin, ClinicModel):
    """An exercise given to one or both partners.

    ``content`` is a snapshot of the exercise text as it was given, so editing the library
    or a custom exercise later never changes what a client already received.
    """

    __tablename__ = f"{TABLE_PREFIX}homework_assignment"
    __table_args__ = (
        sa.CheckConstraint("assignee IN ('a', 'b', 'both')", name="assignee_known"),
        sa.CheckConstraint("due_on >= starts_on", name="due_after_start"),
        sa.CheckConstraint("frequency IN ('once', 'daily', 'weekly')", name="frequency_known"),
        sa.CheckConstraint(
            "(frequency = 'weekly' AND times_per_week BETWEEN 1 AND 7) OR "
            "(frequency <> 'weekly' AND times_per_week IS NULL)",
            name="times_per_week_fits",
        ),
    )

    couple_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}couple.id"), index=True
    )
    assigned_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"))
    healing_step: Mapped[str] = mapped_column(sa.String(60))
    taxonomy_version: Mapped[str] = mapped_column(sa.String(40))
    exercise_ref: Mapped[str | None] = mapped_column(sa.String(120), default=None)
    # What was given (a therapist's own exercise is their own words): sealed.
    title_sealed: Mapped[str] = mapped_column("title", sa.Text)
    title = Sealed[str]("title")
    content_sealed: Mapped[str] = mapped_column("content", sa.Text)
    content = Sealed[dict[str, Any]]("content", as_json=True, empty=dict)
    assignee: Mapped[str] = mapped_column(sa.String(4))
    starts_on: Mapped[date]
    due_on: Mapped[date]
    frequency: Mapped[str] = mapped_column(sa.String(20), default=Frequency.ONCE.value)
    times_per_week: Mapped[int | None] = mapped_column(default=None)
    therapist_note_sealed: Mapped[str | None] = mapped_column(
        "therapist_note", sa.Text, default=None
    )
    therapist_note = Sealed[str | None]("therapist_note")  # encrypted at rest
    # Why it was suggested (drawn from the couple's scores): sealed.
    suggestion_reason_sealed: Mapped[str | None] = mapped_column(
        "suggestion_reason", sa.Text, default=None
    )
    suggestion_reason = Sealed[str | None]("suggestion_reason")
    # Given although the couple's risks rule it out: {"tags": [...], "reason": "..."},
    # the therapist's written reason. Sealed (it speaks of a partner's risk); shown to
    # therapists only, with the assignment. None when nothing was overridden.
    contraindication_override_sealed: Mapped[str | None] = mapped_column(
        "contraindication_override", sa.Text, default=None
    )
    contraindication_override = Sealed[ContraindicationOverride | None](
        "contraindication_override", as_json=True
    )
    closed_on: Mapped[date | None] = mapped_column(default=None)

    couple: Mapped[Couple] = relationship()
    assigned_by: Mapped[Therapist] = relationship()
    check_ins: Mapped[list[HomeworkCheckIn]] = relationship(
        back_populates="assignment", order_by="HomeworkCheckIn.created_at"
    )

    def is_for(self, role: str) -> bool:
        return self.assignee in (role, Assignee.BOTH)

    @property
    def is_joint(self) -> bool:
        return self.content.get("mode") == "together"


class HomeworkCheckIn(RecordMixin, SoftDeleteMixin, ClinicModel):
    """One partner's report on an assignment."""

    __tablename__ = f"{TABLE_PREFIX}homework_check_in"
    __table_args__ = (
        sa.CheckConstraint("completion IN ('done', 'partly', 'not_done')", name="completion_known"),
        # helpfulness is sealed, so its range (1 to 5) is the check-in form's to keep.
        # The form carries a random key: a double click or a resent form stores one row.
        sa.UniqueConstraint("assignment_id", "partner_id", "client_key"),
    )

    assignment_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}homework_assignment.id"), index=True
    )
    partner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}partner.id"))
    client_key: Mapped[str] = mapped_column(sa.String(64))
    checked_in_on: Mapped[date]
    completion: Mapped[str] = mapped_column(sa.String(20))
    # The partner's rating of the exercise (1 to 5): sealed, like their reflection.
    helpfulness_sealed: Mapped[str | None] = mapped_column("helpfulness", sa.Text, default=None)
    helpfulness = Sealed[int | None]("helpfulness", as_json=True)
    reflection_sealed: Mapped[str | None] = mapped_column("reflection", sa.Text, default=None)
    reflection = Sealed[str | None]("reflection")  # encrypted at rest
    share_with_partner: Mapped[bool] = mapped_column(default=False)
    # Sent after the therapist closed the assignment: kept, but not counted.
    late: Mapped[bool] = mapped_column(default=False)
    # The language the partner's page was shown in when they checked in (i18n.py).
    language: Mapped[str] = mapped_column(sa.String(8), default="en", server_default="en")

    assignment: Mapped[HomeworkAssignment] = relationship(back_populates="check_ins")
    partner: Mapped[Partner] = relationship()


class SuggestionDecision(RecordMixin, ClinicModel):
    """A therapist's answer to a suggested healing step, so a dismissed one stays away."""

    __tablename__ = f"{TABLE_PREFIX}suggestion_decision"
    __table_args__ = (
        sa.UniqueConstraint("couple_id", "step"),
        sa.CheckConstraint("decision IN ('accepted', 'dismissed')", name="decision_known"),
    )

    couple_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}couple.id"))
    step: Mapped[str] = mapped_column(sa.String(60))
    decision: Mapped[str] = mapped_column(sa.String(20))
    decided_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderSent(RecordMixin, ClinicModel):
    """One reminder email, recorded so running the reminder command twice sends once."""

    __tablename__ = f"{TABLE_PREFIX}reminder_sent"
    __table_args__ = (sa.UniqueConstraint("assignment_id", "partner_id", "due_on"),)

    assignment_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}homework_assignment.id")
    )
    partner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}partner.id"))
    due_on: Mapped[date]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
