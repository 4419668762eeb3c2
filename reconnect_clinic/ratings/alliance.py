"""Split-alliance rules, as pure functions: which sessions' ratings need a look.

In couples therapy the alliance is split when one partner feels the work is going well
and the other does not; such a split, and a partner's sense of the work getting worse,
are worth raising with the couple early. Two rules, on each rating's 0-10 score
(``items.score``):

* **split**: both partners rated one session and their scores differ by at least
  ``RECONNECT_CLINIC_ALLIANCE_SPLIT_GAP``;
* **drop**: a partner's score of a session is at least
  ``RECONNECT_CLINIC_ALLIANCE_DROP`` below their score of the previous session they
  rated.

The thresholds are set in config.py, where their defaults are justified.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

SPLIT = "split"
DROP = "drop"


@dataclass(frozen=True)
class Thresholds:
    split_gap: float
    drop: float


@dataclass(frozen=True)
class SessionScores:
    """One session and each partner's score of it (None: not rated)."""

    session_id: uuid.UUID
    held_on: date
    a: float | None
    b: float | None

    def of(self, role: str) -> float | None:
        return self.a if role == "a" else self.b


@dataclass(frozen=True, order=True)
class Flag:
    session_id: uuid.UUID
    kind: str  # SPLIT or DROP
    role: str = ""  # for DROP, whose score fell ("a" or "b")


# Scores are rounded to one decimal; a tiny allowance keeps 7.0 - 4.0 >= 3.0 exact.
_EPSILON = 1e-9


def split(session: SessionScores, thresholds: Thresholds) -> bool:
    """Whether both partners rated ``session`` and their scores differ by the gap."""
    if session.a is None or session.b is None:
        return False
    return abs(session.a - session.b) + _EPSILON >= thresholds.split_gap


def dropped(before: float | None, after: float | None, thresholds: Thresholds) -> bool:
    """Whether a partner's score fell by the set amount from one session to the next."""
    if before is None or after is None:
        return False
    return before - after + _EPSILON >= thresholds.drop


def flags(sessions: Iterable[SessionScores], thresholds: Thresholds) -> list[Flag]:
    """Every flag of a couple's sessions, in any order given (sorted here by date). A
    drop compares a partner's score with their previous *rated* session, so a session
    one of them missed does not hide a fall."""
    ordered: Sequence[SessionScores] = sorted(
        sessions, key=lambda s: (s.held_on, str(s.session_id))
    )
    found: list[Flag] = []
    previous: dict[str, float] = {}
    for session in ordered:
        if split(session, thresholds):
            found.append(Flag(session.session_id, SPLIT))
        for role in ("a", "b"):
            score = session.of(role)
            if score is None:
                continue
            if dropped(previous.get(role), score, thresholds):
                found.append(Flag(session.session_id, DROP, role))
            previous[role] = score
    return found


def flag_words(flag: Flag, names: dict[str, str]) -> str:
    """A flag in words for the therapist: "split: the partners' ratings differ", or
    "Sam's rating fell"."""
    if flag.kind == SPLIT:
        return "split alliance: the partners' ratings differ"
    return f"{names.get(flag.role, 'a partner')}'s rating fell from the session before"
