"""A case's records over its life: retention after closing, export for a records
request, and the purge of cases past retention (never of one on legal hold)."""

from __future__ import annotations

import copy
import io
import json
import uuid
import zipfile
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..measures.instruments import PRIVATE_TO_PARTNER
from ..models import (
    AllianceFlag,
    AuditEvent,
    CaseSeen,
    ClientLink,
    Couple,
    HomeworkAssignment,
    HomeworkCheckIn,
    IntakePage,
    IntakeResponse,
    KeptForm,
    MeasureAdministration,
    MeasureResult,
    MeasureSchedule,
    NoteAddendum,
    Partner,
    RatingRequest,
    ReminderSent,
    RiskAssessment,
    RiskDisclosure,
    SessionNote,
    SessionRating,
    StoredReport,
    SuggestionDecision,
    TherapySession,
)
from ..security.audit.log import record_event
from ..state import db_session

if TYPE_CHECKING:
    from ..intake.summary import CoupleIntake
    from ..reports.service import ProgressReport


def retention_until(closed_on: date, last_session: date | None, years: int) -> date:
    """Records are kept ``years`` after the later of the last session and the closing."""
    start = max(d for d in (closed_on, last_session) if d is not None)
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


def last_session_on(couple_id: uuid.UUID) -> date | None:
    return db_session().scalar(
        sa.select(sa.func.max(TherapySession.held_on)).where(
            TherapySession.couple_id == couple_id, TherapySession.deleted_at.is_(None)
        )
    )


def _plain(row: Any, *names: str) -> dict[str, Any]:
    out = {}
    for name in names:
        value = getattr(row, name)
        if isinstance(value, uuid.UUID | date):
            value = value.isoformat() if isinstance(value, date) else str(value)
        out[name] = value
    return out


def export_record(couple: Couple) -> dict[str, Any]:
    """Everything held about a case, as plain JSON-able data (free text opened)."""
    session = db_session()
    partner_ids = [p.id for p in couple.partners]
    responses = session.scalars(
        sa.select(IntakeResponse).where(IntakeResponse.partner_id.in_(partner_ids))
    ).all()
    assignments = session.scalars(
        sa.select(HomeworkAssignment).where(HomeworkAssignment.couple_id == couple.id)
    ).all()
    sessions = session.scalars(
        sa.select(TherapySession).where(TherapySession.couple_id == couple.id)
    ).all()
    return {
        "couple": _plain(
            couple,
            "id",
            "label",
            "status",
            "opened_on",
            "closed_on",
            "retention_until",
            "legal_hold",
        ),
        "partners": [
            _plain(p, "id", "role", "first_name", "last_name", "email", "pronouns")
            for p in couple.partners
        ],
        "intake": [
            {
                **_plain(r, "id", "partner_id", "status", "taxonomy_version", "consent_name"),
                "submitted_at": r.submitted_at.isoformat() if r.submitted_at else None,
                "consent_at": r.consent_at.isoformat() if r.consent_at else None,
                "consent_sha256": r.consent_sha256,
                "consent_text": r.consent_text,
                "scores": r.scores,
                "pages": r.page_values(),
            }
            for r in responses
        ],
        "risk": _risk_rows(partner_ids),
        "measures": [
            {
                **_plain(m, "id", "partner_id", "instrument", "total", "band"),
                "administered_at": m.administered_at.isoformat(),
                "item_points": m.item_points,
            }
            for m in session.scalars(
                sa.select(MeasureResult).where(MeasureResult.partner_id.in_(partner_ids))
            )
        ],
        # Each occasion a partner was asked the scheduled measures (answered or missed).
        "measure_administrations": [
            {
                **_plain(a, "id", "partner_id", "due_on", "instruments", "sent_via"),
                "sent_at": a.sent_at.isoformat() if a.sent_at else None,
                "completed_at": a.completed_at.isoformat() if a.completed_at else None,
            }
            for a in session.scalars(
                sa.select(MeasureAdministration)
                .where(MeasureAdministration.partner_id.in_(partner_ids))
                .order_by(MeasureAdministration.due_on, MeasureAdministration.id)
            )
        ],
        # Each partner's own rating of a session (never shown to the other partner).
        "session_ratings": [
            {
                **_plain(
                    r,
                    "id",
                    "partner_id",
                    "therapy_session_id",
                    "measure",
                    "measure_version",
                    "language",
                ),
                "rated_at": r.rated_at.isoformat(),
                "answers": r.answers,
                "score": r.score,
            }
            for r in session.scalars(
                sa.select(SessionRating)
                .where(SessionRating.partner_id.in_(partner_ids))
                .order_by(SessionRating.rated_at, SessionRating.id)
            )
        ],
        "homework": [
            {
                **_plain(
                    a,
                    "id",
                    "title",
                    "healing_step",
                    "assignee",
                    "starts_on",
                    "due_on",
                    "frequency",
                    "times_per_week",
                    "closed_on",
                ),
                "therapist_note": a.therapist_note,
                "contraindication_override": a.contraindication_override,
                "content": a.content,
                "check_ins": [
                    {
                        **_plain(
                            c,
                            "id",
                            "partner_id",
                            "checked_in_on",
                            "completion",
                            "helpfulness",
                            "share_with_partner",
                            "late",
                        ),
                        "reflection": c.reflection,
                    }
                    for c in a.check_ins
                ],
            }
            for a in assignments
        ],
        "sessions": [
            {
                **_plain(s, "id", "held_on", "duration_minutes", "format", "attendance"),
                "note": None
                if s.note is None
                else {
                    **_plain(s.note, "template", "status", "version"),
                    "signed_at": s.note.signed_at.isoformat() if s.note.signed_at else None,
                    "content": s.note.content,
                    "addenda": [
                        {
                            "body": a.body,
                            "signed_at": a.signed_at.isoformat(),
                            "signed_by_id": str(a.signed_by_id),
                        }
                        for a in s.note.addenda
                    ],
                },
            }
            for s in sessions
        ],
        "audit": [
            {
                **_plain(
                    e,
                    "id",
                    "actor_kind",
                    "actor_id",
                    "action",
                    "record_type",
                    "record_id",
                    "remote_addr",
                ),
                "occurred_at": e.occurred_at.isoformat(),
                "row_hash": e.row_hash,
            }
            for e in session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.couple_id == couple.id)
                .order_by(AuditEvent.id)
            )
        ],
    }


def _risk_rows(partner_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Each partner's risk state as stored: what they disclosed (the question, never the
    answer) and the therapist's word on it."""
    session = db_session()
    rows: list[dict[str, Any]] = [
        {
            **_plain(d, "id", "partner_id", "kind", "level", "source", "item"),
            "record": "disclosure",
            "first_seen_at": d.first_seen_at.isoformat(),
        }
        for d in session.scalars(
            sa.select(RiskDisclosure)
            .where(RiskDisclosure.partner_id.in_(partner_ids))
            .order_by(RiskDisclosure.first_seen_at, RiskDisclosure.id)
        )
    ]
    rows += [
        {
            **_plain(a, "id", "partner_id", "kind", "status", "level", "therapist_id"),
            "record": "assessment",
            "assessed_at": a.assessed_at.isoformat(),
            "plan": a.plan,
        }
        for a in session.scalars(
            sa.select(RiskAssessment)
            .where(RiskAssessment.partner_id.in_(partner_ids))
            .order_by(RiskAssessment.assessed_at, RiskAssessment.id)
        )
    ]
    return rows


# --- records for two people -------------------------------------------------------------
#
# What is private to a partner never goes to the other: their safety page (answers and
# note) and the flags and risk state it gives, their wellbeing page and the PHQ-9 and GAD-7
# results from it or given later, and their reflections not shared with their partner.
# The couple's export keeps each partner's private part apart, once, in a folder of its
# own marked private to them; a partner's export holds the joint record, with nothing
# private of the other partner nor anything derived from it, and their own private part.

PRIVATE_PAGES = ("safety", "wellbeing")
WELLBEING_MEASURES = PRIVATE_TO_PARTNER
# A partner's export leaves out what the therapist wrote from the other partner's private
# disclosures: a contraindication overridden (its tags and reason), a session note's risk
# section, and the audit lines about risk.
_DERIVED_ACTIONS = ("risk.", "homework.override")
# Split-alliance flags come from comparing both partners' private ratings: their audit
# lines (made through the rating partner's link) would tell either partner how the other
# rated, so no export carries them; the clinic's own log keeps them.
_FROM_BOTH_PARTNERS_PRIVATE = ("alliance.",)


@dataclass(frozen=True)
class RecordParts:
    """A case's record in parts: ``joint`` holds nothing private of either partner;
    ``private`` holds each partner's private part, by role."""

    joint: dict[str, Any]
    private: dict[str, dict[str, Any]]


def split_record(record: dict[str, Any]) -> RecordParts:
    """Take each partner's private items out of a complete record (``export_record``)."""
    joint = copy.deepcopy(record)
    role_of = {p["id"]: p["role"] for p in joint["partners"]}
    private: dict[str, dict[str, Any]] = {
        p["role"]: {
            "private_to": {"role": p["role"], "first_name": p["first_name"], "id": p["id"]},
            "intake": [],
            "measures": [],
            "reflections": [],
            "risk": [],
            "measure_administrations": [],
            "session_ratings": [],
        }
        for p in joint["partners"]
    }
    # Per partner, so in their private part: what they were asked and when (which may
    # name their wellbeing measures), and how they rated each session.
    for key in ("measure_administrations", "session_ratings"):
        for row in joint.pop(key, []):
            private[role_of[row["partner_id"]]][key].append(row)
    for response in joint["intake"]:
        mine = private[role_of[response["partner_id"]]]
        pages = response.get("pages") or {}
        scores = response.get("scores") or {}
        held: dict[str, Any] = {
            "intake_id": response["id"],
            "pages": {slug: pages.pop(slug) for slug in PRIVATE_PAGES if slug in pages},
        }
        if scores:
            held["flags"] = scores.pop("flags", [])
            measures = scores.get("measures", {})
            held["measures"] = {
                slug: measures.pop(slug) for slug in WELLBEING_MEASURES if slug in measures
            }
        mine["intake"].append(held)
    kept = []
    for result in joint["measures"]:
        if result["instrument"] in WELLBEING_MEASURES:
            private[role_of[result["partner_id"]]]["measures"].append(result)
        else:
            kept.append(result)
    joint["measures"] = kept
    for assignment in joint["homework"]:
        for check_in in assignment["check_ins"]:
            if check_in.get("reflection") and not check_in.get("share_with_partner"):
                private[role_of[check_in["partner_id"]]]["reflections"].append(
                    {
                        "check_in_id": check_in["id"],
                        "assignment_id": assignment["id"],
                        "assignment_title": assignment["title"],
                        "checked_in_on": check_in["checked_in_on"],
                        "reflection": check_in.pop("reflection"),
                    }
                )
                check_in["reflection"] = None
    for row in joint.pop("risk", []):
        private[role_of[row["partner_id"]]]["risk"].append(row)
    joint["audit"] = [
        event
        for event in joint["audit"]
        if not event["action"].startswith(_FROM_BOTH_PARTNERS_PRIVATE)
    ]
    return RecordParts(joint=joint, private=private)


def for_partner(parts: RecordParts, role: str, other_ids: frozenset[str]) -> RecordParts:
    """What may go to the partner ``role``: the joint record without what the therapist
    wrote from the other partner's private disclosures, and only their own private part.

    ``other_ids`` are the keys of the other partner's own records (their partner row,
    links, intakes, measures, check-ins, risk rows): audit lines about them, or made
    through the other partner's links, are left out."""
    joint = copy.deepcopy(parts.joint)
    for assignment in joint["homework"]:
        assignment.pop("contraindication_override", None)
    for therapy_session in joint["sessions"]:
        note = therapy_session.get("note")
        if note and isinstance(note.get("content"), dict):
            note["content"].pop("risk", None)
    joint["audit"] = [
        event
        for event in joint["audit"]
        if not event["action"].startswith(_DERIVED_ACTIONS)
        and event["actor_id"] not in other_ids
        and event["record_id"] not in other_ids
    ]
    return RecordParts(joint=joint, private={role: parts.private[role]})


def partner_record_ids(couple: Couple, role: str) -> frozenset[str]:
    """The keys of one partner's own records (see ``for_partner``)."""
    partner = couple.partner(role)
    session = db_session()
    ids: set[Any] = {partner.id}
    for model, column in (
        (ClientLink, ClientLink.partner_id),
        (IntakeResponse, IntakeResponse.partner_id),
        (MeasureResult, MeasureResult.partner_id),
        (HomeworkCheckIn, HomeworkCheckIn.partner_id),
        (RiskDisclosure, RiskDisclosure.partner_id),
        (RiskAssessment, RiskAssessment.partner_id),
        (MeasureAdministration, MeasureAdministration.partner_id),
        (RatingRequest, RatingRequest.partner_id),
        (SessionRating, SessionRating.partner_id),
    ):
        ids.update(session.scalars(sa.select(model.id).where(column == partner.id)))
    return frozenset(str(i) for i in ids)


def _readme(couple: Couple, parts: RecordParts, audience: str | None) -> str:
    names = {p.role: p.full_name for p in couple.partners}
    lines = [
        f"Case record: {couple.label}",
        "",
        "record.json and reports/ hold the joint record: nothing private to either partner.",
    ]
    if audience is None:
        lines += [
            "This is the couple's record. Each partner's private answers (safety, wellbeing,",
            "their flags and risk state, reflections they did not share, their ratings of",
            "sessions and when they were asked the measures) are in a folder of their own,",
            "once. Never give one partner's private folder to the other partner. Split-",
            "alliance flags, drawn from both partners' ratings, are not exported.",
            "Session notes, addenda and homework overrides are the therapist's record and may",
            "refer to a partner's private disclosures: review them before sharing any part.",
        ]
    else:
        lines += [
            f"This is the record for {names[audience]} (partner {audience.upper()}) alone.",
            "It holds nothing private to the other partner. Their own private answers are in",
            "their private folder. Signed session reports and each note's risk section are",
            "left out (they may refer to the other partner's private disclosures); review the",
            "session notes below before releasing this record.",
        ]
    for role in sorted(parts.private):
        lines.append(f"{private_folder(role)}/: PRIVATE to {names[role]} (partner {role.upper()}).")
    return "\n".join(lines) + "\n"


def joint_progress(report: ProgressReport) -> ProgressReport:
    """The progress report as the joint record prints it: without the wellbeing charts
    or changes (each partner's PHQ-9 and GAD-7 are in their private folder)."""
    charts = {slug: spec for slug, spec in report.charts.items() if slug not in WELLBEING_MEASURES}
    changes = [line for line in report.changes if line.slug not in WELLBEING_MEASURES]
    # Nor the session ratings: each partner's are private to them and their therapist.
    return replace(
        report,
        charts=charts,
        changes=changes,
        ratings=[],
        ratings_chart=None,
        ratings_thresholds=None,
    )


def joint_intake(intake: CoupleIntake) -> CoupleIntake:
    """The intake summary's data as the joint record prints it: without the wellbeing
    measures (print it with ``include_private=False`` too, for the safety sections)."""
    return replace(
        intake, measures=[row for row in intake.measures if row.slug not in WELLBEING_MEASURES]
    )


# Each partner's FHIR Bundle, in their private folder of the export.
FHIR_BUNDLE = "fhir-bundle.json"


def private_folder(role: str) -> str:
    return f"private-to-partner-{role}"


def export_zip(couple: Couple, pdfs: dict[str, bytes], *, audience: str | None = None) -> bytes:
    """The case's record as ``record.json`` plus its PDFs, in one zip file, with each
    partner's private part in a folder of its own. ``audience`` None is the couple's
    record; "a" or "b" the record for that partner alone (see ``for_partner``)."""
    from ..fhir.builders import bundle_json
    from ..fhir.queries import bundle_for
    from ..models import utcnow

    parts = split_record(export_record(couple))
    if audience is not None:
        other = "b" if audience == "a" else "a"
        parts = for_partner(parts, audience, partner_record_ids(couple, other))
    exported_at = utcnow()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", _readme(couple, parts, audience))
        archive.writestr("record.json", json.dumps(parts.joint, indent=2, ensure_ascii=False))
        for role, held in sorted(parts.private.items()):
            folder = private_folder(role)
            name = couple.partner(role).full_name
            notice = (
                f"PRIVATE to {name} (partner {role.upper()}). What this partner told their "
                "therapist privately: never to be given to the other partner."
            )
            archive.writestr(f"{folder}/README.txt", notice + "\n")
            archive.writestr(
                f"{folder}/private-record.json",
                json.dumps({"notice": notice, **held}, indent=2, ensure_ascii=False),
            )
            # The same partner's answers as FHIR R4 (fhir/): theirs alone, private answers
            # included, so it sits in their private folder.
            archive.writestr(
                f"{folder}/{FHIR_BUNDLE}",
                bundle_json(bundle_for(couple.partner(role), generated_at=exported_at)),
            )
        for name, pdf in sorted(pdfs.items()):
            archive.writestr(f"reports/{name}", pdf)
    return buffer.getvalue()


@dataclass(frozen=True)
class PurgeCandidate:
    couple_id: uuid.UUID
    label: str
    retention_until: date


def purge_candidates(today: date) -> list[PurgeCandidate]:
    """Closed cases whose retention date has passed and that are not on legal hold."""
    rows = db_session().execute(
        sa.select(Couple.id, Couple.label, Couple.retention_until).where(
            Couple.status == "closed",
            Couple.retention_until.is_not(None),
            Couple.retention_until < today,
            Couple.legal_hold.is_(False),
        )
    )
    # ``until`` is never None here (the query asks for a date); the test says so to mypy.
    return [
        PurgeCandidate(couple_id, label, until)
        for couple_id, label, until in rows
        if until is not None
    ]


def purge_case(couple_id: uuid.UUID) -> None:
    """Remove every record of a case (flushed). The audit log keeps its lines: they name
    ids and actions, never clinical text, and show that the purge happened."""
    session = db_session()
    partner_ids = list(session.scalars(sa.select(Partner.id).where(Partner.couple_id == couple_id)))
    assignment_ids = list(
        session.scalars(
            sa.select(HomeworkAssignment.id).where(HomeworkAssignment.couple_id == couple_id)
        )
    )
    session_ids = list(
        session.scalars(sa.select(TherapySession.id).where(TherapySession.couple_id == couple_id))
    )
    note_ids = list(
        session.scalars(
            sa.select(SessionNote.id).where(SessionNote.therapy_session_id.in_(session_ids))
        )
    )
    response_ids = list(
        session.scalars(
            sa.select(IntakeResponse.id).where(IntakeResponse.partner_id.in_(partner_ids))
        )
    )
    for statement in (
        sa.delete(AllianceFlag).where(AllianceFlag.couple_id == couple_id),
        sa.delete(SessionRating).where(SessionRating.partner_id.in_(partner_ids)),
        sa.delete(RatingRequest).where(RatingRequest.partner_id.in_(partner_ids)),
        sa.delete(MeasureAdministration).where(MeasureAdministration.couple_id == couple_id),
        sa.delete(MeasureSchedule).where(MeasureSchedule.couple_id == couple_id),
        sa.delete(ReminderSent).where(ReminderSent.assignment_id.in_(assignment_ids)),
        sa.delete(HomeworkCheckIn).where(HomeworkCheckIn.assignment_id.in_(assignment_ids)),
        sa.delete(HomeworkAssignment).where(HomeworkAssignment.id.in_(assignment_ids)),
        sa.delete(SuggestionDecision).where(SuggestionDecision.couple_id == couple_id),
        sa.delete(NoteAddendum).where(NoteAddendum.note_id.in_(note_ids)),
        sa.delete(SessionNote).where(SessionNote.id.in_(note_ids)),
        sa.delete(StoredReport).where(StoredReport.therapy_session_id.in_(session_ids)),
        sa.delete(TherapySession).where(TherapySession.id.in_(session_ids)),
        sa.delete(MeasureResult).where(MeasureResult.partner_id.in_(partner_ids)),
        sa.delete(IntakePage).where(IntakePage.response_id.in_(response_ids)),
        sa.delete(IntakeResponse).where(IntakeResponse.id.in_(response_ids)),
        sa.delete(RiskDisclosure).where(RiskDisclosure.partner_id.in_(partner_ids)),
        sa.delete(RiskAssessment).where(RiskAssessment.partner_id.in_(partner_ids)),
        sa.delete(ClientLink).where(ClientLink.partner_id.in_(partner_ids)),
        sa.delete(Partner).where(Partner.id.in_(partner_ids)),
        # When each therapist last looked at the case (the dashboard's "new since").
        sa.delete(CaseSeen).where(CaseSeen.couple_id == couple_id),
        sa.delete(Couple).where(Couple.id == couple_id),
        # Text kept over an idle sign-out for one of the case's pages
        # (security/accounts/kept_posts.py).
        sa.delete(KeptForm).where(KeptForm.path.contains(f"/couples/{couple_id}/")),
    ):
        session.execute(statement.execution_options(synchronize_session=False))
    session.flush()
    record_event(
        "couple.purge", actor=None, couple_id=couple_id, detail={"reason": "retention period ended"}
    )
