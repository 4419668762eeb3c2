"""Suggesting healing steps from a couple's intake profile, as a pure function.

Each sign or cause a partner scored high on points, through the taxonomy's mapping, at
the healing steps that address it. A step's weight is the sum of the scores behind it,
so a concern both partners feel counts twice, and each suggestion carries the reasons
a therapist can read and judge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..taxonomy import Taxonomy
from .library import Exercise, Library

# A sign or cause scored at or above this (0-100) is "high" for a partner.
HIGH_SCORE = 60

# The seed's fifteenth step. It is proposed from measured reliable improvement only
# (``improvements``), never from a high problem score: celebrating progress a couple has
# not made would ring false. Each improvement weighs as a concern scored in full, so
# real progress ranks with the strongest concerns.
CELEBRATE_STEP = "celebrate_progress"
PROGRESS_WEIGHT = 100

# What the suggestions say when a couple's risks hold exercises back, by contraindication
# tag (the exercises carrying the tag are left out; see homework/data/exercises.toml).
SAFETY_NOTE = (
    "A safety concern is open for this couple, so no joint exercise is suggested, nor any "
    "that presumes shared responsibility or reconciliation (forgiveness, seeing it from "
    "the other's side, owning your part): see each partner on their own first, and assign "
    "shared work only once it is safe."
)
SELF_HARM_NOTE = (
    "A partner has disclosed thoughts of self-harm, so exercises that could deepen "
    "hopelessness or isolation when done alone are not suggested."
)
AFFAIR_NOTE = (
    "An affair is recorded as still going on, so exercises that presume it has ended "
    "(rebuilding trust, forgiveness, deepening intimacy) are not suggested."
)
HOLD_NOTES = {"ipv": SAFETY_NOTE, "self_harm": SELF_HARM_NOTE, "active_affair": AFFAIR_NOTE}


@dataclass(frozen=True)
class Suggestion:
    step: str
    title: str
    weight: int
    reasons: tuple[str, ...]
    exercises: tuple[Exercise, ...]  # the library exercises that fit, best first
    joint_allowed: bool

    @property
    def reason_text(self) -> str:
        return "; ".join(self.reasons)


@dataclass(frozen=True)
class Suggestions:
    items: tuple[Suggestion, ...]
    notes: tuple[str, ...] = ()  # why some exercises are held back, one per tag
    dismissed: frozenset[str] = field(default_factory=frozenset)
    ruled_out: frozenset[str] = field(default_factory=frozenset)

    @property
    def safety_note(self) -> str | None:
        return " ".join(self.notes) or None


def _score(stored: Mapping[str, Any] | None, slug: str) -> int | None:
    if not stored:
        return None
    entry = stored.get("concerns", {}).get(slug)
    return entry.get("score") if entry else None


def suggest(
    taxonomy: Taxonomy,
    library: Library,
    a_scores: Mapping[str, Any] | None,
    b_scores: Mapping[str, Any] | None,
    *,
    ruled_out: frozenset[str] = frozenset(),
    dismissed: frozenset[str] = frozenset(),
    assigned: frozenset[str] = frozenset(),
    limit: int = 5,
    high: int = HIGH_SCORE,
    improvements: tuple[str, ...] = (),
) -> Suggestions:
    """The healing steps that fit a couple best, with their reasons.

    ``a_scores`` and ``b_scores`` are the partners' stored intake scores (either may be
    None). Steps the therapist dismissed or already assigned are left out. ``ruled_out``
    holds the contraindication tags of the couple's risks
    (``reconnect_clinic.risk.contraindication_tags``): no exercise carrying one is
    offered, and the result says why. ``improvements`` are the measured reliable
    improvements, in words ("Sam's PHQ-9 15 → 7"): the only thing that proposes
    celebrating progress.
    """
    weights: dict[str, int] = {}
    reasons: dict[str, list[str]] = {}
    for concern in taxonomy.concerns:
        a, b = _score(a_scores, concern.slug), _score(b_scores, concern.slug)
        high_a, high_b = a is not None and a >= high, b is not None and b >= high
        if not (high_a or high_b):
            continue
        who = "both partners" if high_a and high_b else ("partner A" if high_a else "partner B")
        because = f"{who} scored high on {concern.title.lower()}"
        for link in taxonomy.links_from(concern.slug):
            if link.step == CELEBRATE_STEP:
                continue
            weights[link.step] = (
                # (``or 0``: a high score is never None, which mypy cannot see.)
                weights.get(link.step, 0)
                + ((a or 0) if high_a else 0)
                + ((b or 0) if high_b else 0)
            )
            reasons.setdefault(link.step, []).append(f"{because} ({link.rationale})")

    if improvements:
        weights[CELEBRATE_STEP] = PROGRESS_WEIGHT * len(improvements)
        reasons[CELEBRATE_STEP] = [
            f"measures show reliable improvement: {said}" for said in improvements
        ]

    # Every joint exercise carries "ipv" (the library's loader checks it).
    joint_allowed = "ipv" not in ruled_out
    ranked = sorted(
        (step for step in weights if step not in dismissed and step not in assigned),
        key=lambda step: (-weights[step], taxonomy.step(step).number),
    )
    items = []
    for step in ranked[:limit]:
        exercises = tuple(
            exercise for exercise in library.for_step(step) if not exercise.ruled_out_by(ruled_out)
        )
        items.append(
            Suggestion(
                step=step,
                title=taxonomy.step(step).title,
                weight=weights[step],
                reasons=tuple(reasons[step]),
                exercises=exercises,
                joint_allowed=joint_allowed,
            )
        )
    return Suggestions(
        items=tuple(items),
        notes=tuple(note for tag, note in HOLD_NOTES.items() if tag in ruled_out),
        dismissed=dismissed,
        ruled_out=ruled_out,
    )
