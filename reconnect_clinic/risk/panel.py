"""What the therapist's pages show of a couple's risks: plain data assembled from rows
already loaded (no queries here), for the couple's page panel and the note page."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..intake.content import page_spec
from ..models import Partner, RiskAssessment, RiskDisclosure
from ..taxonomy import Taxonomy
from .core import (
    SAFETY_NOTE_FIELD,
    SAFETY_PAGE,
    SELF_HARM_ITEM,
    SELF_HARM_MEASURE,
    WELLBEING_PAGE,
    DisclosureSource,
    PartnerRisk,
    RiskKind,
    RiskLevel,
    RiskStatus,
)
from .operations import allowed_statuses

KIND_TITLES = {
    RiskKind.SAFETY: "Safety concern",
    RiskKind.SELF_HARM: "Thoughts of self-harm",
    RiskKind.ACTIVE_AFFAIR: "Active affair",
}
LEVEL_TEXT = {RiskLevel.CONCERN: "Concern", RiskLevel.HIGH: "High"}
STATUS_TEXT = {
    RiskStatus.OPEN: "Open",
    RiskStatus.ACKNOWLEDGED: "Acknowledged",
    RiskStatus.RESOLVED: "Resolved",
}
SOURCE_TEXT = {
    DisclosureSource.SAFETY_ANSWER: "Safety question",
    DisclosureSource.SAFETY_NOTE: "Private note on the safety page",
    DisclosureSource.MEASURE_ITEM: "Wellbeing questionnaire (PHQ-9)",
    DisclosureSource.THERAPIST: "Your assessment",
}
SELF_HARM_TEXT = "Thoughts of self-harm reported (PHQ-9 item 9)"
PageValues = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class DisclosureLine:
    """One thing behind a risk: what was asked or done, the answer as it stands in the
    intake it came from (None when not at hand), by which means and when."""

    what: str
    answer: str | None
    source: str
    at: datetime
    draft: bool = False  # from an intake saved but not yet submitted


@dataclass(frozen=True)
class AssessmentLine:
    status: RiskStatus
    status_text: str
    by: str
    at: datetime
    plan: str


@dataclass(frozen=True)
class RiskCard:
    """One kind of risk for one partner, as the panel shows it."""

    partner: Partner
    kind: RiskKind
    title: str
    status: RiskStatus
    status_text: str
    level: RiskLevel
    level_text: str
    lines: tuple[DisclosureLine, ...]
    last: AssessmentLine | None
    actions: frozenset[RiskStatus]

    @property
    def is_open(self) -> bool:
        return self.status is RiskStatus.OPEN

    @property
    def since(self) -> datetime:
        """When its latest disclosure was first seen."""
        return max(line.at for line in self.lines)


@dataclass(frozen=True)
class RiskPanel:
    cards: tuple[RiskCard, ...]
    partners: tuple[Partner, ...]

    @property
    def open_cards(self) -> tuple[RiskCard, ...]:
        return tuple(c for c in self.cards if c.is_open)

    @property
    def current_cards(self) -> tuple[RiskCard, ...]:
        """Open and acknowledged risks: what is still current (the note page's list)."""
        return tuple(c for c in self.cards if c.status is not RiskStatus.RESOLVED)

    @property
    def needs_attention(self) -> bool:
        return bool(self.open_cards)

    def cards_of(self, partner: Partner) -> tuple[RiskCard, ...]:
        return tuple(c for c in self.cards if c.partner.id == partner.id)


def risk_panel(
    taxonomy: Taxonomy,
    partners: Sequence[Partner],
    risks: Mapping[uuid.UUID, Sequence[PartnerRisk]],
    disclosures: Iterable[RiskDisclosure],
    assessments: Iterable[RiskAssessment],
    values_by_occasion: Mapping[uuid.UUID, PageValues],
    draft_occasions: frozenset[uuid.UUID] = frozenset(),
) -> RiskPanel:
    """The panel for a couple: every partner's risks, most urgent first (open before
    acknowledged before resolved, then by level), partner A's before B's at equal rank."""
    rows: dict[tuple[uuid.UUID, str, str, str, datetime], RiskDisclosure] = {
        (d.partner_id, d.kind, d.source, d.item, d.first_seen_at): d for d in disclosures
    }
    latest: dict[tuple[uuid.UUID, str], RiskAssessment] = {}
    for assessment in sorted(assessments, key=lambda a: a.assessed_at):
        latest[(assessment.partner_id, assessment.kind)] = assessment
    cards = []
    for partner in partners:
        for risk in risks.get(partner.id, ()):
            lines = []
            for found in risk.disclosures:
                row = rows.get((partner.id, found.kind, found.source, found.item, found.at))
                lines.append(
                    _line(
                        taxonomy,
                        found.source,
                        found.item,
                        found.at,
                        row,
                        values_by_occasion,
                        draft_occasions,
                    )
                )
            last = latest.get((partner.id, risk.kind.value))
            cards.append(
                RiskCard(
                    partner=partner,
                    kind=risk.kind,
                    title=KIND_TITLES[risk.kind],
                    status=risk.status,
                    status_text=STATUS_TEXT[risk.status],
                    level=risk.level,
                    level_text=LEVEL_TEXT[risk.level],
                    lines=tuple(lines),
                    last=_assessment_line(last) if last is not None else None,
                    actions=allowed_statuses(risk.status),
                )
            )
    order = {RiskStatus.OPEN: 0, RiskStatus.ACKNOWLEDGED: 1, RiskStatus.RESOLVED: 2}
    cards.sort(key=lambda c: (order[c.status], -c.level, c.partner.role))
    return RiskPanel(tuple(cards), tuple(partners))


def _line(
    taxonomy: Taxonomy,
    source: DisclosureSource,
    item: str,
    at: datetime,
    row: RiskDisclosure | None,
    values_by_occasion: Mapping[uuid.UUID, PageValues],
    draft_occasions: frozenset[uuid.UUID],
) -> DisclosureLine:
    values = values_by_occasion.get(row.occasion_id, {}) if row is not None else {}
    draft = row is not None and row.occasion_id in draft_occasions
    if source is DisclosureSource.THERAPIST:
        return DisclosureLine("Opened by the therapist", None, SOURCE_TEXT[source], at)
    if source is DisclosureSource.SAFETY_NOTE:
        note = str(values.get(SAFETY_PAGE, {}).get(SAFETY_NOTE_FIELD, "")).strip()
        return DisclosureLine(
            "Wrote a private note for you", note or None, SOURCE_TEXT[source], at, draft
        )
    if source is DisclosureSource.MEASURE_ITEM:
        answer = None
        if item == f"{SELF_HARM_MEASURE}_{SELF_HARM_ITEM}":
            answer = _choice(taxonomy, WELLBEING_PAGE, item, values.get(WELLBEING_PAGE, {}))
        return DisclosureLine(SELF_HARM_TEXT, answer, SOURCE_TEXT[source], at, draft)
    return DisclosureLine(
        _label(taxonomy, SAFETY_PAGE, item),
        _choice(taxonomy, SAFETY_PAGE, item, values.get(SAFETY_PAGE, {})),
        SOURCE_TEXT[source],
        at,
        draft,
    )


def _label(taxonomy: Taxonomy, page: str, item: str) -> str:
    try:
        return page_spec(taxonomy, page).question(item).label
    except KeyError:  # a question retired since: its name still says what it was
        return item.replace("_", " ").capitalize()


def _choice(taxonomy: Taxonomy, page: str, item: str, values: Mapping[str, str]) -> str | None:
    raw = values.get(item)
    if not raw:
        return None
    try:
        return dict(page_spec(taxonomy, page).question(item).choices).get(raw, raw)
    except KeyError:
        return raw


def _assessment_line(assessment: RiskAssessment) -> AssessmentLine:
    status = RiskStatus(assessment.status)
    return AssessmentLine(
        status=status,
        status_text={
            RiskStatus.OPEN: "Opened",
            RiskStatus.ACKNOWLEDGED: "Acknowledged",
            RiskStatus.RESOLVED: "Resolved",
        }[status],
        by=assessment.therapist.display_name,
        at=assessment.assessed_at,
        plan=assessment.plan or "",
    )
