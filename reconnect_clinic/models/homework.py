"""Homework assignments drawn from the healing steps, and partners' check-ins."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import TABLE_PREFIX, ClinicModel, RecordMixin, SoftDeleteMixin
from .people import Couple, Partner


class Assignee(StrEnum):
    A = "a"
    B = "b"
    BOTH = "both"


class HomeworkAssignment(RecordMixin, SoftDeleteMixin, ClinicModel):
    """An exercise given to one or both partners.

    ``content`` is a snapshot of the exercise text as it was given, so editing the library
    later never changes what a client already received.
    """

    __tablename__ = f"{TABLE_PREFIX}homework_assignment"
    __table_args__ = (
        sa.CheckConstraint("assignee IN ('a', 'b', 'both')", name="assignee_known"),
        sa.CheckConstraint("due_on >= starts_on", name="due_after_start"),
    )

    couple_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}couple.id"), index=True
    )
    assigned_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"))
    healing_step: Mapped[str] = mapped_column(sa.String(60))
    taxonomy_version: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(200))
    content: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    assignee: Mapped[str] = mapped_column(sa.String(4))
    starts_on: Mapped[date]
    due_on: Mapped[date]
    frequency: Mapped[str] = mapped_column(sa.String(20), default="once")
    times_per_week: Mapped[int | None] = mapped_column(default=None)
    therapist_note: Mapped[str | None] = mapped_column(sa.Text, default=None)
    closed_on: Mapped[date | None] = mapped_column(default=None)

    couple: Mapped[Couple] = relationship()
    check_ins: Mapped[list[HomeworkCheckIn]] = relationship(back_populates="assignment")


class HomeworkCheckIn(RecordMixin, SoftDeleteMixin, ClinicModel):
    """One partner's report on an assignment."""

    __tablename__ = f"{TABLE_PREFIX}homework_check_in"
    __table_args__ = (
        sa.CheckConstraint("completion IN ('done', 'partly', 'not_done')", name="completion_known"),
        sa.CheckConstraint(
            "helpfulness IS NULL OR helpfulness BETWEEN 1 AND 5", name="helpfulness_range"
        ),
    )

    assignment_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}homework_assignment.id"), index=True
    )
    partner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey(f"{TABLE_PREFIX}partner.id"))
    checked_in_on: Mapped[date]
    completion: Mapped[str] = mapped_column(sa.String(20))
    helpfulness: Mapped[int | None] = mapped_column(default=None)
    reflection: Mapped[str | None] = mapped_column(sa.Text, default=None)
    share_with_partner: Mapped[bool] = mapped_column(default=False)

    assignment: Mapped[HomeworkAssignment] = relationship(back_populates="check_ins")
    partner: Mapped[Partner] = relationship()
