"""Each partner's progress on each measure, from first to latest administration, in
words: pure (no request, no database), fed the opened totals by ``measures.queries``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .change import IMPROVED, Bases, Change, ReliableChangeUnavailable, basis_for, change
from .instruments import get

if TYPE_CHECKING:
    from ..models import MeasureResult, Partner


@dataclass(frozen=True, slots=True)
class Administered:
    """One stored result as progress sees it."""

    role: str
    partner_name: str
    slug: str
    total: int
    administered_at: datetime

    @classmethod
    def of(cls, partner: Partner, result: MeasureResult) -> Administered:
        """``result`` of ``partner`` (opens its sealed total)."""
        return cls(
            role=partner.role,
            partner_name=partner.first_name,
            slug=result.instrument,
            total=int(result.total),
            administered_at=result.administered_at,
        )


@dataclass(frozen=True, slots=True)
class ChangeLine:
    """First and latest score of one partner on one measure, the change and its meaning."""

    role: str
    partner_name: str
    slug: str
    name: str
    first: int
    first_at: datetime
    latest: int
    latest_at: datetime
    count: int
    dates: tuple[datetime, ...]
    change: Change | None
    meaning: str

    @property
    def reliable_improvement(self) -> bool:
        return self.change is not None and self.change.direction == IMPROVED

    @property
    def clinically_significant(self) -> bool:
        return self.change is not None and self.change.clinically_significant

    @property
    def verdict(self) -> str:
        """A short word for tables: the direction, or why there is none."""
        if self.count < 2:
            return "measured once"
        if self.change is None:
            return "not computed"
        return self.change.direction


#: Measures in the order tables list them.
ORDER = ("csi16", "csi4", "phq9", "gad7")


def not_computed_words(name: str, first: int, latest: int) -> str:
    return (
        f"Reliable change not computed for this measure ({first} → {latest}): no "
        f"published standard deviation and reliability of the {name} are on record to "
        "judge it by."
    )


def change_lines(rows: Iterable[Administered], bases: Bases | None = None) -> list[ChangeLine]:
    """One line per partner and measure, partners A then B, measures in :data:`ORDER`;
    a CSI form judged from the practice's ``bases`` where it has one."""
    grouped: dict[tuple[str, str], list[Administered]] = {}
    for row in rows:
        grouped.setdefault((row.role, row.slug), []).append(row)
    lines = []
    for (role, slug), found in sorted(
        grouped.items(),
        key=lambda kv: (kv[0][0], ORDER.index(kv[0][1]) if kv[0][1] in ORDER else 99),
    ):
        found.sort(key=lambda r: r.administered_at)
        first, latest = found[0], found[-1]
        name = get(slug).name
        verdict: Change | None = None
        if len(found) < 2:
            meaning = (
                f"Measured once ({first.total} on {first.administered_at.date().isoformat()}): "
                "a change needs a second administration."
            )
        else:
            try:
                basis = basis_for(slug, bases)
                verdict = change(slug, first.total, latest.total, basis=basis)
                meaning = verdict.meaning
                if verdict.clinically_significant:
                    meaning += " This change is clinically significant."
                if basis is not None:
                    meaning += f" Judged from the practice's figures: {basis.source}."
            except ReliableChangeUnavailable:
                meaning = not_computed_words(name, first.total, latest.total)
        lines.append(
            ChangeLine(
                role=role,
                partner_name=first.partner_name,
                slug=slug,
                name=name,
                first=first.total,
                first_at=first.administered_at,
                latest=latest.total,
                latest_at=latest.administered_at,
                count=len(found),
                dates=tuple(r.administered_at for r in found),
                change=verdict,
                meaning=meaning,
            )
        )
    return lines
