"""SQLAlchemy models on the plugin's own declarative base, used through the host's session."""

from .audit import AuditEvent
from .base import TABLE_PREFIX, ClinicModel, metadata, utcnow
from .homework import (
    Assignee,
    Completion,
    CustomExercise,
    Frequency,
    HomeworkAssignment,
    HomeworkCheckIn,
    ReminderSent,
    SuggestionDecision,
)
from .intake import IntakePage, IntakeResponse, IntakeStatus, MeasureResult
from .kept import KeptForm
from .links import ClientLink, LinkPurpose
from .measures import Cadence, MeasureAdministration, MeasureSchedule
from .people import (
    CaseStatus,
    Couple,
    Partner,
    PartnerRole,
    RecoveryCode,
    Therapist,
    person_name,
)
from .ratings import AllianceFlag, RatingRequest, SessionRating
from .risk import RiskAssessment, RiskDisclosure
from .seen import CaseSeen
from .sessions import (
    NoteAddendum,
    NoteStatus,
    SessionFormat,
    SessionNote,
    StoredReport,
    TherapySession,
)

__all__ = [
    "TABLE_PREFIX",
    "AllianceFlag",
    "Assignee",
    "AuditEvent",
    "Cadence",
    "CaseSeen",
    "CaseStatus",
    "ClientLink",
    "ClinicModel",
    "Completion",
    "Couple",
    "CustomExercise",
    "Frequency",
    "HomeworkAssignment",
    "HomeworkCheckIn",
    "IntakePage",
    "IntakeResponse",
    "IntakeStatus",
    "KeptForm",
    "LinkPurpose",
    "MeasureAdministration",
    "MeasureResult",
    "MeasureSchedule",
    "NoteAddendum",
    "NoteStatus",
    "Partner",
    "PartnerRole",
    "RatingRequest",
    "RecoveryCode",
    "ReminderSent",
    "RiskAssessment",
    "RiskDisclosure",
    "SessionFormat",
    "SessionNote",
    "SessionRating",
    "StoredReport",
    "SuggestionDecision",
    "Therapist",
    "TherapySession",
    "metadata",
    "person_name",
    "utcnow",
]
