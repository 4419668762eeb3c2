"""A case's record export (a zip of record.json and its PDFs), made without a request: by
the export view when no queue is configured, by a worker's job when one is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from ..cases.lifecycle import export_zip, joint_intake, joint_progress
from ..models import Couple
from ..notes.queries import couple_sessions
from ..reports import service
from ..reports.pdf import html_to_pdf

#: Told how many of the export's PDFs are done, of how many: ``progress(done, total)``.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RecordExport:
    body: bytes
    #: The PDFs in it, by file name (for the audit line).
    files: tuple[str, ...]


def record_export(
    couple: Couple, audience: str | None, today: date, progress: Progress | None = None
) -> RecordExport:
    """The case's record for a records request: the couple's (``audience`` None) or one
    partner's ("a" or "b", holding nothing private of the other; see
    ``lifecycle.for_partner``). May raise ``service.ReportIntegrityError``."""
    # A signed report prints its note's risk section, which may speak of the other
    # partner's private disclosures: not in a partner's own record.
    reported = [
        therapy_session
        for therapy_session in (couple_sessions(couple) if audience is None else [])
        if therapy_session.note is not None and therapy_session.note.is_signed
    ]
    total = 2 + len(reported)
    tell = progress or (lambda done, total: None)
    tell(0, total)
    progress_report = service.load_progress_report(couple, today)
    # The PDFs are the joint record: no partner's private answers or wellbeing measures
    # (those are in each partner's private folder, once).
    pdfs = {
        "progress-report.pdf": service.progress_report_pdf(couple, joint_progress(progress_report)),
    }
    tell(1, total)
    pdfs["intake-summary.pdf"] = html_to_pdf(
        service.intake_summary_html(
            couple, joint_intake(progress_report.intake), printable=True, include_private=False
        )
    )
    tell(2, total)
    for done, therapy_session in enumerate(reported, start=3):
        pdfs[f"session-{therapy_session.held_on}-{therapy_session.id}.pdf"] = (
            service.session_report_pdf(couple, therapy_session)
        )
        tell(done, total)
    return RecordExport(export_zip(couple, pdfs, audience=audience), tuple(sorted(pdfs)))
