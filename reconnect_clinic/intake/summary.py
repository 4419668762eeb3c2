"""Assembling what the therapist sees of a couple's intake, from rows already loaded.

Pure: takes the couple's partners, their responses, links and measure results, and
returns plain data for the template. No request and no queries here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from .. import measures
from ..measures.severity import (
    Severity,
    band_level,
    concern_level,
    concern_scale_text,
    direction,
)
from ..models import ClientLink, IntakeResponse, IntakeStatus, Partner
from ..security.links.tokens import LinkState, state_of
from ..taxonomy import Taxonomy
from .content import SAFETY_QUESTIONS, page_slugs, page_spec
from .scoring import (
    FLAG_SAFETY,
    FLAG_SAFETY_DISCUSS,
    FLAG_SELF_HARM,
    ProfileRow,
    couple_profile,
    largest_differences,
    safety_flags,
)

FLAG_TEXT = {
    FLAG_SELF_HARM: "Thoughts of self-harm reported (PHQ-9 item 9)",
    FLAG_SAFETY: "Safety concern: answered yes to a safety question",
    FLAG_SAFETY_DISCUSS: "Asked to talk about safety in person",
}


@dataclass(frozen=True)
class FlagDetail:
    flag: str
    text: str
    answers: tuple[tuple[str, str], ...]  # (question, answer) behind the flag
    draft: bool = False  # from an intake saved but not yet submitted


@dataclass(frozen=True)
class PartnerIntake:
    partner: Partner
    state: str  # "not started" | "in progress" | "submitted"
    pages_done: int
    pages_total: int
    started_at: datetime | None
    last_saved_at: datetime | None
    submitted_at: datetime | None
    response: IntakeResponse | None
    link: ClientLink | None
    link_state: LinkState | None
    flags: tuple[FlagDetail, ...] = ()
    own_words: tuple[tuple[str, str], ...] = ()

    @property
    def scores(self) -> dict[str, Any] | None:
        if self.response is None or self.response.status != IntakeStatus.SUBMITTED:
            return None
        return self.response.scores

    @property
    def private_answers(self) -> tuple[tuple[str, str], ...]:
        """The answers behind this partner's flags, each once: two flags (a "yes" and a
        "talk in person") rest on the same safety answers, which print once."""
        seen: dict[tuple[str, str], None] = {}
        for flag in self.flags:
            for answer in flag.answers:
                seen.setdefault(answer, None)
        return tuple(seen)


@dataclass(frozen=True)
class MeasureRow:
    slug: str
    name: str
    cutoff_text: str
    a: dict[str, Any] | None
    b: dict[str, Any] | None
    direction_text: str = ""  # "higher is worse" or "higher is better"

    @property
    def a_level(self) -> Severity | None:
        """How alarming partner A's band is (calm to severe), None when not given."""
        return band_level(self.slug, self.a["band"]) if self.a else None

    @property
    def b_level(self) -> Severity | None:
        return band_level(self.slug, self.b["band"]) if self.b else None


@dataclass(frozen=True)
class CoupleIntake:
    partners: tuple[PartnerIntake, ...]
    profile: list[ProfileRow] = field(default_factory=list)
    differences: list[ProfileRow] = field(default_factory=list)
    measures: list[MeasureRow] = field(default_factory=list)

    @property
    def concern_scale_text(self) -> str:
        return concern_scale_text()

    def concern_levels(self, row: ProfileRow) -> tuple[Severity | None, Severity | None]:
        """How alarming each partner's score on a sign or cause is (higher is worse)."""
        return concern_level(row.a), concern_level(row.b)

    @property
    def any_submitted(self) -> bool:
        return any(p.state == "submitted" for p in self.partners)

    @property
    def flagged(self) -> list[PartnerIntake]:
        return [p for p in self.partners if p.flags]


_Record = TypeVar("_Record")


def latest(rows: Iterable[_Record], key: str = "created_at") -> _Record | None:
    ordered = sorted(rows, key=lambda r: getattr(r, key))
    return ordered[-1] if ordered else None


def summarise(
    taxonomy: Taxonomy,
    partners: Sequence[Partner],
    responses: Iterable[IntakeResponse],
    links: Iterable[ClientLink],
    now: datetime,
) -> CoupleIntake:
    by_partner: dict[uuid.UUID, list[IntakeResponse]] = {}
    for given in responses:
        by_partner.setdefault(given.partner_id, []).append(given)
    links_by_partner: dict[uuid.UUID, list[ClientLink]] = {}
    for sent in links:
        if sent.purpose == "intake":
            links_by_partner.setdefault(sent.partner_id, []).append(sent)

    total = len(page_slugs(taxonomy))
    items = []
    for partner in partners:
        mine = by_partner.get(partner.id, [])
        # A submitted response outranks a later draft: it is the record.
        submitted = [r for r in mine if r.status == IntakeStatus.SUBMITTED]
        response = latest(submitted, "submitted_at") or latest(mine)
        link = latest(links_by_partner.get(partner.id, []))
        items.append(_partner_intake(taxonomy, partner, response, link, total, now))

    by_role = {p.partner.role: p for p in items}
    a, b = by_role.get("a"), by_role.get("b")
    profile = couple_profile(taxonomy, a.scores if a else None, b.scores if b else None)
    return CoupleIntake(
        partners=tuple(items),
        profile=profile,
        differences=largest_differences(profile),
        measures=_measure_rows(a, b),
    )


def _partner_intake(
    taxonomy: Taxonomy,
    partner: Partner,
    response: IntakeResponse | None,
    link: ClientLink | None,
    total: int,
    now: datetime,
) -> PartnerIntake:
    pages = list(response.pages) if response is not None else []
    done = sum(1 for p in pages if p.complete)
    if response is not None and response.status == IntakeStatus.SUBMITTED:
        state = "submitted"
    elif pages:
        state = "in progress"
    else:
        state = "not started"
    values = response.page_values() if response is not None else {}
    flags: tuple[FlagDetail, ...] = ()
    if state == "submitted" and response is not None and response.scores:
        flags = _flag_details(taxonomy, response.scores.get("flags", []), values)
    elif values.get("safety"):
        # A safety answer matters the moment it is saved, not only once submitted.
        flags = tuple(
            replace(detail, draft=True)
            for detail in _flag_details(taxonomy, safety_flags(values), values)
        )
    own_words = tuple(
        (page_spec(taxonomy, "about").question(name).label, text)
        for name in ("reasons", "hopes")
        if (text := values.get("about", {}).get(name, "").strip())
    )
    return PartnerIntake(
        partner=partner,
        state=state,
        pages_done=done,
        pages_total=total,
        started_at=response.created_at if response is not None else None,
        last_saved_at=max((p.saved_at for p in pages), default=None),
        submitted_at=response.submitted_at if response is not None else None,
        response=response,
        link=link,
        link_state=state_of(link, now) if link is not None else None,
        flags=flags,
        own_words=own_words if state == "submitted" else (),
    )


def _flag_details(
    taxonomy: Taxonomy, flags: Iterable[str], values: dict[str, dict[str, str]]
) -> tuple[FlagDetail, ...]:
    safety = page_spec(taxonomy, "safety")
    safety_answers = tuple(
        (safety.question(name).label, dict(safety.question(name).choices).get(value, value))
        for name in SAFETY_QUESTIONS
        if (value := values.get("safety", {}).get(name)) and value != "no"
    )
    note = values.get("safety", {}).get("safety_note", "").strip()
    if note:
        safety_answers += ((safety.question("safety_note").label, note),)
    details = []
    for flag in sorted(flags):
        if flag == FLAG_SELF_HARM:
            wellbeing = page_spec(taxonomy, "wellbeing")
            question = wellbeing.question("phq9_9")
            raw = values.get("wellbeing", {}).get("phq9_9", "")
            answer = dict(question.choices).get(raw, raw)
            details.append(FlagDetail(flag, FLAG_TEXT[flag], ((question.label, answer),)))
        elif flag in (FLAG_SAFETY, FLAG_SAFETY_DISCUSS):
            details.append(FlagDetail(flag, FLAG_TEXT[flag], safety_answers))
        else:
            details.append(FlagDetail(flag, flag.replace("_", " "), ()))
    return tuple(details)


def _measure_rows(a: PartnerIntake | None, b: PartnerIntake | None) -> list[MeasureRow]:
    rows = []
    for slug in ("csi16", "phq9", "gad7"):
        instrument = measures.get(slug)
        cutoffs = ", ".join(f"{label}: {value:g}" for label, value in instrument.chart_cutoffs)
        rows.append(
            MeasureRow(
                slug=slug,
                name=instrument.name,
                cutoff_text=f"Range 0–{instrument.max_total} · {cutoffs}",
                a=_measure(a, slug),
                b=_measure(b, slug),
                direction_text=direction(slug).value,
            )
        )
    return rows


def _measure(partner: PartnerIntake | None, slug: str) -> dict[str, Any] | None:
    if partner is None or not partner.scores:
        return None
    found: dict[str, Any] | None = partner.scores.get("measures", {}).get(slug)
    return found
