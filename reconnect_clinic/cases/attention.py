"""What needs the therapist in each case: the dashboard's to-do list.

Per couple, in this order of urgency: an open safety flag (``risk/queries.py``, marked on
the line by ``listing.order_by_attention``), then intakes submitted and not yet read,
unsigned (draft) session notes, overdue homework, and reflections written since the
therapist last opened the couple's page; and the next session, if one is set.

The facts cost a fixed number of statements however many cases there are: the counts
and the next session are correlated subqueries of the dashboard's one caseload query
(:func:`todo_columns`), and overdue homework is one grouped query
(:func:`overdue_statement`) whose rows :func:`overdue_counts` judges with the homework's
own rule (``homework/schedule.adherence``), so "overdue" means the same here as on the
couple's page. Pure functions turn those rows into :class:`ToDo` facts and words.

"Since the therapist last looked" is kept per therapist and couple in ``CaseSeen``,
written by :func:`mark_seen` when the couple's page or a partner's intake answers are
shown (an operation: it writes, the view commits). The dashboard only reads it, so it
stays a read-only view (``readonly.py``).

Nothing here reads a clinical value: counts, dates and statuses only, never what a
partner answered or wrote.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from ..homework.schedule import adherence
from ..models import (
    AllianceFlag,
    Assignee,
    CaseSeen,
    Couple,
    HomeworkAssignment,
    HomeworkCheckIn,
    IntakeResponse,
    IntakeStatus,
    NoteStatus,
    Partner,
    PartnerRole,
    SessionNote,
    Therapist,
    TherapySession,
)
from ..security.access import VIEWER_PARAMETER
from ..state import db_session

#: The bind parameter for the day the dashboard is drawn (the next session, overdue).
TODAY_PARAMETER = "todo_today"


# --- the facts, as columns of the caseload query --------------------------------------


def _viewer() -> sa.BindParameter[uuid.UUID]:
    return sa.bindparam(VIEWER_PARAMETER, type_=sa.Uuid)


def _today() -> sa.BindParameter[date]:
    return sa.bindparam(TODAY_PARAMETER, type_=sa.Date)


def todo_columns() -> list[sa.Label[Any]]:
    """The to-do facts of the case in each row of a query on ``Couple``, as correlated
    subqueries (the viewer and the day are the bind parameters ``VIEWER_PARAMETER`` and
    :data:`TODAY_PARAMETER`), in the order :func:`todo_from_row` reads them: unread
    intakes, draft notes, new reflections, the next session's date, new
    split-alliance flags."""
    seen = aliased(CaseSeen)

    # A partner's intake is unread while a submitted response of theirs is newer than
    # the last time this therapist had it shown (or it never was).
    read_at = sa.case(
        (Partner.role == PartnerRole.A.value, seen.intake_a_read_at),
        else_=seen.intake_b_read_at,
    )
    unread_response = (
        sa.select(IntakeResponse.id)
        .where(
            IntakeResponse.partner_id == Partner.id,
            IntakeResponse.status == IntakeStatus.SUBMITTED.value,
            IntakeResponse.deleted_at.is_(None),
            sa.or_(read_at.is_(None), IntakeResponse.submitted_at > read_at),
        )
        .exists()
    )
    unread_intakes = (
        sa.select(sa.func.count(Partner.id))
        .select_from(Partner)
        .outerjoin(
            seen, sa.and_(seen.couple_id == Partner.couple_id, seen.therapist_id == _viewer())
        )
        .where(Partner.couple_id == Couple.id, unread_response)
        .scalar_subquery()
    )
    draft_notes = (
        sa.select(sa.func.count(SessionNote.id))
        .join(TherapySession, SessionNote.therapy_session_id == TherapySession.id)
        .where(
            TherapySession.couple_id == Couple.id,
            TherapySession.deleted_at.is_(None),
            SessionNote.status == NoteStatus.DRAFT.value,
        )
        .scalar_subquery()
    )
    # Every written reflection is the therapist's to read (the partner's choice to share
    # one concerns the other partner only); "new" means written after the page was seen.
    seen_at = (
        sa.select(CaseSeen.seen_at)
        .where(CaseSeen.couple_id == Couple.id, CaseSeen.therapist_id == _viewer())
        .scalar_subquery()
    )
    new_reflections = (
        sa.select(sa.func.count(HomeworkCheckIn.id))
        .join(HomeworkAssignment, HomeworkCheckIn.assignment_id == HomeworkAssignment.id)
        .where(
            HomeworkAssignment.couple_id == Couple.id,
            HomeworkAssignment.deleted_at.is_(None),
            HomeworkCheckIn.deleted_at.is_(None),
            HomeworkCheckIn.reflection_sealed.is_not(None),
            sa.or_(seen_at.is_(None), HomeworkCheckIn.created_at > seen_at),
        )
        .scalar_subquery()
    )
    next_session = (
        sa.select(sa.func.min(TherapySession.held_on))
        .where(
            TherapySession.couple_id == Couple.id,
            TherapySession.deleted_at.is_(None),
            TherapySession.held_on >= _today(),
        )
        .scalar_subquery()
    )
    # Split-alliance flags of session ratings (ratings/alliance.py) raised since the
    # therapist last opened the couple's page: a count, never a rating.
    new_alliance_flags = (
        # Per session: a split and a fall in the same session are one alert.
        sa.select(sa.func.count(sa.distinct(AllianceFlag.therapy_session_id)))
        .where(
            AllianceFlag.couple_id == Couple.id,
            sa.or_(seen_at.is_(None), AllianceFlag.created_at > seen_at),
        )
        .scalar_subquery()
    )
    return [
        unread_intakes.label("unread_intakes"),
        draft_notes.label("draft_notes"),
        new_reflections.label("new_reflections"),
        next_session.label("next_session"),
        new_alliance_flags.label("alliance_flags"),
    ]


@dataclass(frozen=True)
class ToDo:
    """What a case needs from the therapist now (counts), and its next session."""

    unread_intakes: int = 0
    draft_notes: int = 0
    overdue_homework: int = 0
    new_reflections: int = 0
    next_session: date | None = None
    alliance_flags: int = 0
    # From measures/queries.dashboard_measures: administrations missed, and each
    # reliable improvement not yet celebrated ("Sam: PHQ-9").
    missed_measures: int = 0
    improvements: tuple[str, ...] = ()

    @property
    def needs_attention(self) -> bool:
        """Whether anything here waits for the therapist (the next session does not)."""
        return bool(self.items)

    @property
    def items(self) -> tuple[ToDoItem, ...]:
        """What needs doing, most urgent first, each with its count in words."""
        return todo_items(self)

    @property
    def urgency(self) -> int:
        """The rank of the most urgent kind of item (0 is the most urgent), or the number
        of kinds when nothing is due: lines are ordered by it after their risk."""
        kinds = [item.kind for item in self.items]
        return TODO_KINDS.index(kinds[0]) if kinds else len(TODO_KINDS)


@dataclass(frozen=True)
class ToDoItem:
    kind: str  # one of TODO_KINDS
    count: int
    text: str  # the count in words: "2 intakes submitted, not yet read"


#: The kinds of to-do item, most urgent first (after an open risk).
TODO_KINDS = ("intake", "note", "homework", "reflection", "alliance", "measures", "progress")


def _counted(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def todo_items(todo: ToDo) -> tuple[ToDoItem, ...]:
    """The items of ``todo`` that are due, in the order of :data:`TODO_KINDS`."""
    candidates = (
        (
            "intake",
            todo.unread_intakes,
            _counted(todo.unread_intakes, "intake", "intakes") + " submitted, not yet read",
        ),
        (
            "note",
            todo.draft_notes,
            _counted(todo.draft_notes, "session note", "session notes") + " not signed",
        ),
        (
            "homework",
            todo.overdue_homework,
            _counted(todo.overdue_homework, "homework assignment", "homework assignments")
            + " overdue",
        ),
        (
            "reflection",
            todo.new_reflections,
            _counted(todo.new_reflections, "new reflection", "new reflections"),
        ),
        (
            "alliance",
            todo.alliance_flags,
            _counted(todo.alliance_flags, "split-alliance alert", "split-alliance alerts")
            + " in session ratings",
        ),
        (
            "measures",
            todo.missed_measures,
            _counted(todo.missed_measures, "measures administration", "measures administrations")
            + " missed",
        ),
        (
            "progress",
            len(todo.improvements),
            "Reliable improvement to celebrate: " + ", ".join(todo.improvements),
        ),
    )
    return tuple(ToDoItem(kind, count, text) for kind, count, text in candidates if count)


def todo_from_row(
    unread_intakes: int | None = None,
    draft_notes: int | None = None,
    new_reflections: int | None = None,
    next_session: date | None = None,
    alliance_flags: int | None = None,
    *,
    overdue_homework: int = 0,
) -> ToDo:
    """The :class:`ToDo` of one case from the columns of :func:`todo_columns` (in that
    order; a row without them needs nothing) and its count of overdue homework
    (:func:`overdue_counts`)."""
    return ToDo(
        unread_intakes=unread_intakes or 0,
        draft_notes=draft_notes or 0,
        overdue_homework=overdue_homework,
        new_reflections=new_reflections or 0,
        next_session=next_session,
        alliance_flags=alliance_flags or 0,
    )


def next_session_text(when: date, today: date) -> str:
    """The next session, in words: "today", "tomorrow" or its date (ISO, as the
    dashboard's other dates)."""
    days = (when - today).days
    if days == 0:
        return "today"
    if days == 1:
        return f"tomorrow, {when.isoformat()}"
    return when.isoformat()


# --- overdue homework: one grouped query, judged by the homework's own rule ------------


def overdue_statement(couple_criteria: Sequence[sa.ColumnElement[bool]]) -> sa.Select[Any]:
    """Each open assignment past its due date in the cases ``couple_criteria`` select,
    once per partner it is for, with the check-ins that count (neither late nor deleted),
    as rows of (couple id, assignment id, frequency, times per week, starts on, due on,
    check-ins made). The viewer and the day are bind parameters, as in
    :func:`todo_columns`.

    Only open assignments whose due date has passed are fetched: ``adherence`` calls no
    other one overdue; which of these are is its decision (:func:`overdue_counts`)."""
    counted = sa.and_(
        HomeworkCheckIn.assignment_id == HomeworkAssignment.id,
        HomeworkCheckIn.partner_id == Partner.id,
        HomeworkCheckIn.late.is_(False),
        HomeworkCheckIn.deleted_at.is_(None),
    )
    schedule: list[Any] = [
        HomeworkAssignment.couple_id,
        HomeworkAssignment.id,
        HomeworkAssignment.frequency,
        HomeworkAssignment.times_per_week,
        HomeworkAssignment.starts_on,
        HomeworkAssignment.due_on,
    ]
    return (
        sa.select(*schedule, sa.func.count(HomeworkCheckIn.id))
        .join(Couple, Couple.id == HomeworkAssignment.couple_id)
        .join(
            Partner,
            sa.and_(
                Partner.couple_id == HomeworkAssignment.couple_id,
                sa.or_(
                    HomeworkAssignment.assignee == Partner.role,
                    HomeworkAssignment.assignee == Assignee.BOTH.value,
                ),
            ),
        )
        .outerjoin(HomeworkCheckIn, counted)
        .where(
            *couple_criteria,
            HomeworkAssignment.deleted_at.is_(None),
            HomeworkAssignment.closed_on.is_(None),
            HomeworkAssignment.due_on < _today(),
        )
        .group_by(*schedule, Partner.id)
    )


def overdue_counts(rows: Iterable[Sequence[Any]], today: date) -> dict[uuid.UUID, int]:
    """How many assignments of each case are overdue, from the rows of
    :func:`overdue_statement`: an assignment is overdue when ``adherence`` says so for
    any partner it is for (as ``AssignmentRow.overdue`` on the couple's page)."""
    overdue: dict[uuid.UUID, set[uuid.UUID]] = {}
    for couple_id, assignment_id, frequency, per_week, starts_on, due_on, made in rows:
        # adherence() counts the days it is given (and keeps the last); overdue depends
        # on how many were made, not on which days.
        progress = adherence(
            frequency, per_week, starts_on, due_on, itertools.repeat(starts_on, made), today
        )
        if progress.overdue:
            overdue.setdefault(couple_id, set()).add(assignment_id)
    return {couple_id: len(ids) for couple_id, ids in overdue.items()}


# --- marking what the therapist has seen (an operation: the view commits) -------------


def mark_seen(
    therapist: Therapist,
    couple: Couple,
    at: datetime,
    *,
    page: bool = False,
    intakes: Iterable[str] = (),
) -> None:
    """Record that ``therapist`` saw ``couple`` at ``at``: its page (``page``), and the
    submitted intake of each partner role in ``intakes``. One statement (an upsert on the
    therapist and couple), so two tabs opening the page at once cannot collide; the
    caller commits."""
    values: dict[str, datetime] = {}
    if page:
        values["seen_at"] = at
    for role in intakes:
        if role not in (PartnerRole.A.value, PartnerRole.B.value):
            raise ValueError(f"unknown partner role {role!r}")
        values[f"intake_{role}_read_at"] = at
    if not values:
        return
    session = db_session()
    dialect = session.get_bind(mapper=CaseSeen).dialect.name
    row = {"therapist_id": therapist.id, "couple_id": couple.id, **values}
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(CaseSeen)
            .values(id=uuid.uuid4(), created_at=at, updated_at=at, **row)
            .on_conflict_do_update(
                index_elements=["therapist_id", "couple_id"], set_={**values, "updated_at": at}
            )
        )
        session.execute(statement)
        return
    _mark_seen_portably(therapist, couple, values)


def _mark_seen_portably(therapist: Therapist, couple: Couple, values: Mapping[str, Any]) -> None:
    """:func:`mark_seen` on a database without ``ON CONFLICT``: update, or insert in a
    savepoint and update if another request inserted first."""
    session = db_session()

    def existing() -> CaseSeen | None:
        return session.scalar(
            sa.select(CaseSeen).where(
                CaseSeen.therapist_id == therapist.id, CaseSeen.couple_id == couple.id
            )
        )

    row = existing()
    if row is None:
        try:
            with session.begin_nested():
                session.add(CaseSeen(therapist_id=therapist.id, couple_id=couple.id, **values))
            return
        except sa.exc.IntegrityError:
            row = existing()
            if row is None:
                raise
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()
