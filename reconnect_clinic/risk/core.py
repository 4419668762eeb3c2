"""Deciding a partner's risk state: pure functions over what the partner disclosed and
what the therapist recorded, with no request and no database.

A *disclosure* is one thing a partner told us that needs a therapist's attention: a
safety question answered "yes" (or "I would rather talk about this in person"), any text
in the private safety note, or PHQ-9 item 9 (thoughts of being better off dead or of
self-harm) above 0 -- in a draft the moment it is saved, in a submitted intake, or in any
later administration of a measure.

A *risk* is one kind of danger for one partner (their safety at home, or self-harm). It
is **open** when a disclosure of that kind is newer than the therapist's last word on it;
**acknowledged** once the therapist has seen it and written a short plan; **resolved**
when the therapist judges it no longer current. A disclosure made after the therapist's
last word opens the risk again: nothing a partner says later is hidden by an earlier
acknowledgement.

The level says how urgent a risk is. Strangulation and access to or threats with a
weapon raise a safety risk to ``HIGH``: they are the strongest known signs of lethal
risk in intimate partner violence. PHQ-9 item 9 answered "more than half the days" or
"nearly every day" raises a self-harm risk to ``HIGH``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum

from ..intake.content import SAFETY_DISCUSS, SAFETY_YES, measure_field

PageValues = Mapping[str, Mapping[str, str]]

SAFETY_PAGE = "safety"
WELLBEING_PAGE = "wellbeing"
SAFETY_NOTE_FIELD = "safety_note"
# Answers to these safety questions raise the level to HIGH (see the module docstring).
HIGH_RISK_SAFETY_ITEMS = frozenset({"safety_strangled", "safety_weapon"})
# The partner's own use of force: a disclosure about the couple's safety, made by the
# partner who uses it (the other partner is the one at risk; both constrain homework).
OWN_FORCE_ITEM = "safety_own_force"
SELF_HARM_MEASURE, SELF_HARM_ITEM = "phq9", 9
SELF_HARM_HIGH_FROM = 2  # points on PHQ-9 item 9: "more than half the days" and above


class RiskKind(StrEnum):
    SAFETY = "safety"  # danger at home: fear, violence, control, threats (IPV)
    SELF_HARM = "self_harm"
    # Set only by the therapist's own assessment: an affair still going on, which some
    # joint exercises must wait for.
    ACTIVE_AFFAIR = "active_affair"


class RiskLevel(IntEnum):
    CONCERN = 1
    HIGH = 2


class RiskStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class DisclosureSource(StrEnum):
    SAFETY_ANSWER = "safety_answer"
    SAFETY_NOTE = "safety_note"
    MEASURE_ITEM = "measure_item"  # PHQ-9 item 9, in the intake or a later measure
    THERAPIST = "therapist"  # the therapist's own assessment opened it


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One thing a partner disclosed. ``item`` names the question (never its answer)."""

    kind: RiskKind
    level: RiskLevel
    source: DisclosureSource
    item: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Assessment:
    """The therapist's word on one kind of risk for one partner, at one moment."""

    kind: RiskKind
    status: RiskStatus  # ACKNOWLEDGED or RESOLVED (OPEN to open a risk themselves)
    at: datetime
    level: RiskLevel = RiskLevel.CONCERN  # used when the therapist opens a risk


@dataclass(frozen=True, slots=True)
class PartnerRisk:
    """The state of one kind of risk for one partner."""

    kind: RiskKind
    status: RiskStatus
    level: RiskLevel
    disclosures: tuple[Disclosure, ...]  # every disclosure of this kind, oldest first
    last_assessment: Assessment | None

    @property
    def needs_attention(self) -> bool:
        return self.status is RiskStatus.OPEN

    @property
    def constrains_homework(self) -> bool:
        """Open and acknowledged risks both limit what may be assigned; only the
        therapist's judgement that a risk is resolved lifts that."""
        return self.status is not RiskStatus.RESOLVED


def intake_disclosures(values: PageValues, *, at: datetime) -> tuple[Disclosure, ...]:
    """What a partner's intake values (a draft or a submitted intake) disclose.

    Any safety question answered "yes" or "talk in person" counts, whatever its name, so
    a question added to the safety page later is covered without a change here.
    """
    found: list[Disclosure] = []
    safety = values.get(SAFETY_PAGE, {})
    for name, answer in sorted(safety.items()):
        if name == SAFETY_NOTE_FIELD or answer not in (SAFETY_YES, SAFETY_DISCUSS):
            continue
        level = (
            RiskLevel.HIGH
            if name in HIGH_RISK_SAFETY_ITEMS and answer == SAFETY_YES
            else RiskLevel.CONCERN
        )
        found.append(Disclosure(RiskKind.SAFETY, level, DisclosureSource.SAFETY_ANSWER, name, at))
    if str(safety.get(SAFETY_NOTE_FIELD, "")).strip():
        found.append(
            Disclosure(
                RiskKind.SAFETY,
                RiskLevel.CONCERN,
                DisclosureSource.SAFETY_NOTE,
                SAFETY_NOTE_FIELD,
                at,
            )
        )
    raw = values.get(WELLBEING_PAGE, {}).get(measure_field(SELF_HARM_MEASURE, SELF_HARM_ITEM))
    found.extend(_self_harm(_points(raw), at=at, item=f"{SELF_HARM_MEASURE}_{SELF_HARM_ITEM}"))
    return tuple(found)


def measure_disclosures(
    instrument: str, item_points: Sequence[int], *, at: datetime
) -> tuple[Disclosure, ...]:
    """What one later administration of a measure discloses (PHQ-9 item 9 above 0)."""
    if instrument != SELF_HARM_MEASURE or len(item_points) < SELF_HARM_ITEM:
        return ()
    return _self_harm(
        item_points[SELF_HARM_ITEM - 1], at=at, item=f"{SELF_HARM_MEASURE}_{SELF_HARM_ITEM}"
    )


def _self_harm(points: int | None, *, at: datetime, item: str) -> tuple[Disclosure, ...]:
    if points is None or points <= 0:
        return ()
    level = RiskLevel.HIGH if points >= SELF_HARM_HIGH_FROM else RiskLevel.CONCERN
    return (Disclosure(RiskKind.SELF_HARM, level, DisclosureSource.MEASURE_ITEM, item, at),)


def _points(raw: object) -> int | None:
    try:
        return int(str(raw))
    except (TypeError, ValueError):
        return None


def partner_risks(
    disclosures: Iterable[Disclosure], assessments: Iterable[Assessment]
) -> tuple[PartnerRisk, ...]:
    """Every kind of risk one partner has, with its state, most urgent first.

    A kind is listed once it has a disclosure or the therapist opened it. Its status is
    the therapist's latest word, unless a disclosure came after that word, which opens
    it again. Its level is the highest disclosed since the risk was last resolved (a
    resolved risk keeps the level it had, for the record).
    """
    by_kind: dict[RiskKind, list[Disclosure]] = {}
    for disclosure in sorted(disclosures, key=lambda d: d.at):
        by_kind.setdefault(disclosure.kind, []).append(disclosure)
    latest: dict[RiskKind, Assessment] = {}
    for assessment in sorted(assessments, key=lambda a: a.at):
        latest[assessment.kind] = assessment
        if assessment.status is RiskStatus.OPEN:
            by_kind.setdefault(assessment.kind, []).append(
                Disclosure(
                    assessment.kind,
                    assessment.level,
                    DisclosureSource.THERAPIST,
                    "therapist",
                    assessment.at,
                )
            )
    risks = []
    for kind, found in by_kind.items():
        found.sort(key=lambda d: d.at)
        last = latest.get(kind)
        status = RiskStatus.OPEN if last is None or found[-1].at > last.at else last.status
        risks.append(
            PartnerRisk(
                kind=kind,
                status=status,
                level=_current_level(found, last),
                disclosures=tuple(found),
                last_assessment=last,
            )
        )
    return tuple(sorted(risks, key=_urgency))


def _current_level(found: Sequence[Disclosure], last: Assessment | None) -> RiskLevel:
    since = [
        d for d in found if last is None or last.status is not RiskStatus.RESOLVED or d.at > last.at
    ]
    return max((d.level for d in since or found), default=RiskLevel.CONCERN)


def _urgency(risk: PartnerRisk) -> tuple[int, int, str]:
    order = {RiskStatus.OPEN: 0, RiskStatus.ACKNOWLEDGED: 1, RiskStatus.RESOLVED: 2}
    return (order[risk.status], -risk.level, risk.kind.value)


def newly_disclosed(
    before: Iterable[Disclosure], after: Iterable[Disclosure]
) -> tuple[Disclosure, ...]:
    """Disclosures in ``after`` that ``before`` did not have (compared by kind, source
    and item): what a partner has just told us, so their next page shows crisis
    resources at once."""
    seen = {(d.kind, d.source, d.item) for d in before}
    return tuple(d for d in after if (d.kind, d.source, d.item) not in seen)


# Contraindication tags in the homework library's data, by the kind of risk behind them.
CONTRAINDICATION_TAGS: Mapping[RiskKind, str] = {
    RiskKind.SAFETY: "ipv",
    RiskKind.SELF_HARM: "self_harm",
    RiskKind.ACTIVE_AFFAIR: "active_affair",
}


def contraindication_tags(risks: Iterable[PartnerRisk]) -> frozenset[str]:
    """The library's contraindication tags that a couple's risks (both partners') rule
    out: every open or acknowledged risk counts; a resolved one does not."""
    return frozenset(CONTRAINDICATION_TAGS[r.kind] for r in risks if r.constrains_homework)


def highest_open_level(risks: Iterable[PartnerRisk]) -> RiskLevel | None:
    """The most urgent open risk's level, or None when nothing is open (the dashboard's
    marker and order)."""
    return max((r.level for r in risks if r.needs_attention), default=None)
