"""Note templates: the sections a session note is written in.

DAP and SOAP ship; a practice adds its own with ``RECONNECT_CLINIC_NOTE_TEMPLATES``, a
mapping of slug to ``{"title": ..., "sections": [[key, heading, hint], ...]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NoteSection:
    key: str
    heading: str
    hint: str = ""


@dataclass(frozen=True)
class NoteTemplate:
    slug: str
    title: str
    sections: tuple[NoteSection, ...]


BUILT_IN: dict[str, NoteTemplate] = {
    "dap": NoteTemplate(
        "dap",
        "DAP (Data, Assessment, Plan)",
        (
            NoteSection("data", "Data", "What was said and observed in the session."),
            NoteSection("assessment", "Assessment", "Your clinical understanding of it."),
            NoteSection("plan", "Plan", "Next steps, homework, the next session."),
        ),
    ),
    "soap": NoteTemplate(
        "soap",
        "SOAP (Subjective, Objective, Assessment, Plan)",
        (
            NoteSection("subjective", "Subjective", "What the partners reported."),
            NoteSection("objective", "Objective", "What you observed; measures."),
            NoteSection("assessment", "Assessment", "Your clinical understanding."),
            NoteSection("plan", "Plan", "Next steps, homework, the next session."),
        ),
    ),
}

RISK_LEVELS = (
    ("none", "No current risk identified"),
    ("low", "Low"),
    ("moderate", "Moderate"),
    ("high", "High: safety plan made or needed"),
)


def note_templates(extra: Mapping[str, Any] | None) -> dict[str, NoteTemplate]:
    """The built-in templates plus a practice's own (which may replace a built-in).

    Raises ValueError naming the template when one is malformed, so a bad setting is
    found at start-up rather than on a therapist's note.
    """
    templates = dict(BUILT_IN)
    for slug, spec in (extra or {}).items():
        try:
            sections = tuple(NoteSection(*map(str, section)) for section in spec["sections"])
            title = str(spec["title"])
        except (KeyError, TypeError) as error:
            raise ValueError(f"note template {slug!r} is malformed: {error}") from None
        keys = [s.key for s in sections]
        if not sections or len(set(keys)) != len(keys):
            raise ValueError(f"note template {slug!r} needs sections with distinct keys")
        templates[str(slug)] = NoteTemplate(str(slug), title, sections)
    return templates
