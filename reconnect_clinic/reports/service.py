"""Loading, rendering and storing reports. Operations flush; the view or CLI commits."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from ..homework.queries import couple_assignments
from ..intake.scoring import ProfileRow, couple_profile
from ..intake.summary import CoupleIntake, summarise
from ..measures.progress import ChangeLine
from ..measures.queries import csi_bases
from ..models import (
    ClientLink,
    Couple,
    IntakeResponse,
    IntakeStatus,
    MeasureResult,
    NoteStatus,
    SessionNote,
    StoredReport,
    TherapySession,
    utcnow,
)
from ..notes.queries import configured_templates, couple_sessions
from ..ratings.chart import ratings_chart
from ..ratings.queries import couple_ratings
from ..security.audit.log import Checkpoint, record_event, report_checkpoint, report_mac
from ..state import db_session, get_state
from .assembly import (
    CoupleHeading,
    HomeworkLine,
    PartnerName,
    RatingLine,
    SessionLine,
    SessionReport,
    assemble_session_report,
    change_table,
    created_stamp,
    homework_lines,
    progress_charts,
    rating_lines,
)
from .charts import ChartSpec, line_chart_jpeg, line_chart_svg
from .glyphs import unprintable_in_html

# html_to_pdf is re-exported: views print through this module, the one door tests watch.
from .pdf import ASSET_SCHEME
from .pdf import html_to_pdf as html_to_pdf

SESSION_REPORT = "session"

# Every report template extends one of these (``report_layout``): the bare document that
# becomes the PDF, or the clinic's page that previews it (see _preview.html).
DOCUMENT_LAYOUT = "reconnect_clinic/reports/_document.html"
PREVIEW_LAYOUT = "reconnect_clinic/reports/_preview.html"


def measure_results(couple: Couple) -> list[MeasureResult]:
    return list(
        db_session().scalars(
            sa.select(MeasureResult)
            .where(
                MeasureResult.partner_id.in_([p.id for p in couple.partners]),
                MeasureResult.deleted_at.is_(None),
            )
            .order_by(MeasureResult.administered_at)
        )
    )


def load_session_report(couple: Couple, therapy_session: TherapySession) -> SessionReport:
    return assemble_session_report(
        get_state().taxonomy,
        configured_templates(),
        therapy_session,
        couple.partners,
        couple_assignments(couple),
        measure_results(couple),
        csi_bases(),
    )


def svg_chart(spec: ChartSpec) -> Markup:
    """Draws a chart into an HTML page (the report previews): inline SVG."""
    return Markup(line_chart_svg(spec))  # noqa: S704 - charts.py's own SVG, labels escaped


@dataclass
class ImageCharts:
    """Draws charts into a report bound for PDF: each becomes an image passed to
    :func:`html_to_pdf` with the HTML, and an ``<img>`` that refers to it."""

    images: dict[str, bytes] = field(default_factory=dict)

    def __call__(self, spec: ChartSpec) -> Markup:
        self.images[spec.name] = line_chart_jpeg(spec)
        return Markup(
            '<img class="chart-image" src="{}:image/{}" alt="{}" style="width: {}in">'
        ).format(ASSET_SCHEME, spec.name, spec.title, spec.width_in)


@dataclass(frozen=True)
class PrintableReport:
    """A report's final HTML with the chart images it shows: what becomes the PDF."""

    html: str
    images: Mapping[str, bytes]

    def pdf(self) -> bytes:
        return html_to_pdf(self.html, images=self.images)


def _report(
    template: str, *, printable: bool, pdf_url: str | None = None, **context: Any
) -> PrintableReport:
    """``template`` drawn as a document (for its PDF, or the bare HTML of a preview), or,
    given the ``pdf_url`` of its PDF, as the clinic's page that previews it."""
    # Templates draw a chart with {{ chart(spec) }}: SVG in the browser, JPEG in the PDF.
    # A preview's charts are kept for this call: a second drawing reuses them.
    charts = ImageCharts() if printable else None
    preview_charts = cache(svg_chart)
    if pdf_url is not None:
        context.update(report_layout=PREVIEW_LAYOUT, pdf_url=pdf_url)
    else:
        context.update(report_layout=DOCUMENT_LAYOUT)
    html = render_template(template, chart=charts or preview_charts, **context)
    unprintable = () if printable else unprintable_in_html(html)
    if unprintable and pdf_url is not None:
        # Only what the report prints counts, not the layout around a preview (the
        # therapist's name in its header): checked again on the report alone.
        document = {**context, "report_layout": DOCUMENT_LAYOUT}
        unprintable = unprintable_in_html(
            render_template(template, chart=preview_charts, **document)
        )
    if unprintable:
        # Rare (a name in a script the report fonts lack): drawn again, with a warning
        # in the letterhead that the PDF will show those characters as empty boxes.
        html = render_template(template, chart=preview_charts, unprintable=unprintable, **context)
    return PrintableReport(html, charts.images if charts else {})


def _session_context(
    couple: Couple, report: SessionReport, audit: Checkpoint | None = None
) -> dict[str, Any]:
    note = report.note
    return {
        "couple": couple,
        "report": report,
        "created": created_stamp(note.signed_at if note is not None else None),
        # A stored report prints the audit log's checkpoint it carries; previews and
        # drafts print none (so their PDFs stay the same from one render to the next).
        "audit": audit,
    }


def session_report_html(
    couple: Couple, report: SessionReport, *, pdf_url: str | None = None
) -> str:
    """The session report as an HTML document; given the ``pdf_url`` of its PDF, the
    clinic's page that previews it."""
    return _report(
        "reconnect_clinic/reports/session.html",
        printable=False,
        pdf_url=pdf_url,
        **_session_context(couple, report),
    ).html


def session_report_printable(
    couple: Couple, report: SessionReport, audit: Checkpoint | None = None
) -> PrintableReport:
    """The session report as it goes into its PDF (with the audit checkpoint a stored
    report carries, when given)."""
    return _report(
        "reconnect_clinic/reports/session.html",
        printable=True,
        **_session_context(couple, report, audit),
    )


def issue_session_report(couple: Couple, therapy_session: TherapySession) -> StoredReport:
    """Render the session report and keep it as the next revision (flushed), with a
    checkpoint of the audit log (printed in the PDF too)."""
    report = load_session_report(couple, therapy_session)
    report_id = uuid.uuid4()
    audit = report_checkpoint(report_id)
    pdf = session_report_printable(couple, report, audit).pdf()
    session = db_session()
    revision = (
        session.scalar(
            sa.select(sa.func.max(StoredReport.revision)).where(
                StoredReport.therapy_session_id == therapy_session.id,
                StoredReport.kind == SESSION_REPORT,
            )
        )
        or 0
    ) + 1
    stored = StoredReport(
        id=report_id,
        therapy_session_id=therapy_session.id,
        kind=SESSION_REPORT,
        revision=revision,
        content_sha256=report.fingerprint,
        audit_lines=audit.lines,
        audit_head=audit.head,
        audit_mac=report_mac(audit),
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        pdf=pdf,
    )
    session.add(stored)
    session.flush()
    return stored


def stored_session_report(therapy_session: TherapySession) -> StoredReport | None:
    """The latest stored revision, if the note was signed and its report kept."""
    return db_session().scalar(
        sa.select(StoredReport)
        .where(
            StoredReport.therapy_session_id == therapy_session.id,
            StoredReport.kind == SESSION_REPORT,
        )
        .order_by(StoredReport.revision.desc())
        .limit(1)
    )


class ReportIntegrityError(Exception):
    """A stored report's file does not open, or is not the file that was stored: the
    record was changed behind the product's back (or damaged), and is not served."""

    def __init__(self, stored: StoredReport, couple_id: uuid.UUID, reason: str) -> None:
        self.report_id = stored.id
        self.revision = stored.revision
        self.therapy_session_id = stored.therapy_session_id
        self.couple_id = couple_id
        self.reason = reason
        super().__init__(
            f"stored session report {stored.id} (revision {stored.revision}) of session "
            f"{stored.therapy_session_id} failed its integrity check: {reason}"
        )


def integrity_problem(pdf_sha256: str, pdf: bytes) -> str | None:
    """Why a stored file is not the one stored with ``pdf_sha256``, or None."""
    if not hmac.compare_digest(hashlib.sha256(pdf).hexdigest(), pdf_sha256):
        return "its SHA-256 does not match the one stored with it (the file was changed)"
    return None


def checked_pdf(stored: StoredReport, couple_id: uuid.UUID) -> bytes:
    """The stored file, once it has opened and matched its stored SHA-256; raises
    ReportIntegrityError otherwise."""
    try:
        pdf = stored.pdf
    except ValueError as error:  # EncryptionError: the sealed file does not open here
        raise ReportIntegrityError(stored, couple_id, f"it does not decrypt ({error})") from None
    problem = integrity_problem(stored.pdf_sha256, pdf)
    if problem is not None:
        raise ReportIntegrityError(stored, couple_id, problem)
    return pdf


def record_integrity_failure(
    error: ReportIntegrityError, *, actor: Any, detail: dict[str, Any] | None = None
) -> None:
    """Say loudly that a stored report was refused: an audit line and an error in the
    app's log (flushed; the caller commits, after rolling back what it was doing)."""
    current_app.logger.error("Refused to serve a stored report: %s", error)
    record_event(
        "report.integrity_failed",
        actor=actor,
        record=db_session().get(TherapySession, error.therapy_session_id),
        couple_id=error.couple_id,
        detail={
            "stored_report": str(error.report_id),
            "revision": error.revision,
            "reason": error.reason,
            **(detail or {}),
        },
    )


def session_report_pdf(couple: Couple, therapy_session: TherapySession) -> bytes:
    """A signed note's report as stored (kept on first use if signing could not), checked
    against its stored SHA-256 (ReportIntegrityError if it fails); a draft's rendered
    fresh, since it may still change."""
    note = therapy_session.note
    if note is not None and note.is_signed:
        stored = stored_session_report(therapy_session)
        if stored is None:
            stored = issue_session_report(couple, therapy_session)
        return checked_pdf(stored, couple.id)
    report = load_session_report(couple, therapy_session)
    return session_report_printable(couple, report).pdf()


@dataclass(frozen=True)
class ProgressReport:
    """A couple's progress up to ``as_of``.

    Everything the progress report shows is plain data (see ``assembly``): the view
    commits its audit line before drawing the PDF, and that expires every row loaded.
    ``intake`` holds rows; it is for the intake summary, drawn before the commit.
    """

    couple: CoupleHeading
    charts: dict[str, ChartSpec]
    # (partner, their first intake's rows beside their latest's, intakes submitted)
    profile_rows: list[tuple[PartnerName, list[ProfileRow], int]]
    homework: list[HomeworkLine]
    sessions: list[SessionLine]
    attendance: dict[str, int]
    intake: CoupleIntake
    as_of: date
    # Per partner and measure: first and latest score, the change in words, the dates
    # of every administration (measures/progress.ChangeLine).
    changes: list[ChangeLine] = field(default_factory=list)
    # Each partner's rating of each session, split-alliance sessions marked (ratings/);
    # the chart of them, and the thresholds in force ((split gap, drop)).
    ratings: list[RatingLine] = field(default_factory=list)
    ratings_chart: ChartSpec | None = None
    ratings_thresholds: tuple[float, float] | None = None


def _intake_rows(couple: Couple) -> tuple[Sequence[IntakeResponse], Sequence[ClientLink]]:
    """The couple's intake responses (oldest submission first, pages loaded) and links."""
    session = db_session()
    responses = session.scalars(
        sa.select(IntakeResponse)
        .where(
            IntakeResponse.partner_id.in_([p.id for p in couple.partners]),
            IntakeResponse.deleted_at.is_(None),
        )
        .options(selectinload(IntakeResponse.pages))
        .order_by(IntakeResponse.submitted_at)
    ).all()
    links = session.scalars(
        sa.select(ClientLink).where(ClientLink.partner_id.in_([p.id for p in couple.partners]))
    ).all()
    return responses, links


def load_couple_intake(couple: Couple) -> CoupleIntake:
    """What the intake summary shows, and only that (no charts, homework or sessions)."""
    responses, links = _intake_rows(couple)
    return summarise(get_state().taxonomy, couple.partners, responses, links, utcnow())


def load_progress_report(couple: Couple, as_of: date) -> ProgressReport:
    taxonomy = get_state().taxonomy
    results = measure_results(couple)
    bases = csi_bases()
    responses, links = _intake_rows(couple)
    profile_rows = []
    for partner in couple.partners:
        submitted = [
            r
            for r in responses
            if r.partner_id == partner.id and r.status == IntakeStatus.SUBMITTED
        ]
        first = submitted[0].scores if submitted else None
        latest = submitted[-1].scores if submitted else None
        profile_rows.append(
            (PartnerName.of(partner), couple_profile(taxonomy, first, latest), len(submitted))
        )
    sessions = [SessionLine.of(s) for s in couple_sessions(couple) if s.held_on <= as_of]
    attendance = {
        key: sum(1 for s in sessions if s.attendance == key) for key in ("both", "a", "b")
    }
    rated = couple_ratings(couple)
    rated_until = replace(
        rated, rows=tuple(r for r in rated.rows if r.therapy_session.held_on <= as_of)
    )
    return ProgressReport(
        ratings=rating_lines(rated.rated_rows, as_of),
        ratings_chart=ratings_chart(rated_until),
        ratings_thresholds=(rated.thresholds.split_gap, rated.thresholds.drop),
        couple=CoupleHeading.of(couple),
        charts=progress_charts(results, couple.partners, bases),
        changes=change_table(results, couple.partners, bases),
        profile_rows=profile_rows,
        homework=homework_lines(couple_assignments(couple), couple.partners, as_of),
        sessions=sessions,
        attendance=attendance,
        intake=summarise(taxonomy, couple.partners, responses, links, utcnow()),
        as_of=as_of,
    )


def progress_report_html(
    couple: Couple, report: ProgressReport, *, pdf_url: str | None = None
) -> str:
    """The progress report of ``couple`` as an HTML document; given the ``pdf_url`` of its
    PDF, the clinic's page that previews it.

    The page names the couple from the report's own copy (``report.couple``): drawn
    after the view's commit, the couple's row has expired, and reading it would start a
    transaction again (on SQLite, taking the write lock for the rest of the request).
    """
    return _report(
        "reconnect_clinic/reports/progress.html",
        printable=False,
        pdf_url=pdf_url,
        couple=report.couple,
        report=report,
    ).html


def progress_report_pdf(couple: Couple, report: ProgressReport) -> bytes:
    """The progress report of ``couple`` as a PDF (drawn as the preview is)."""
    return _report(
        "reconnect_clinic/reports/progress.html",
        printable=True,
        couple=report.couple,
        report=report,
    ).pdf()


def intake_summary_html(
    couple: Couple,
    intake: CoupleIntake,
    *,
    printable: bool = False,
    include_private: bool = True,
    pdf_url: str | None = None,
) -> str:
    """The intake summary: an HTML document, (``printable``) the HTML of its PDF, or,
    given the ``pdf_url`` of its PDF, the clinic's page that previews it.

    Each partner's private answers (safety, and the flags behind them) print in a section
    of their own, marked private to that partner and starting on a page of its own;
    ``include_private=False`` leaves every such section out, and says nothing of
    whether there was one."""
    return _report(
        "reconnect_clinic/reports/intake_summary.html",
        printable=printable,
        pdf_url=pdf_url,
        couple=couple,
        intake=intake,
        include_private=include_private,
    ).html


def signed_notes_since(since: date) -> list[TherapySession]:
    """Sessions whose note is signed on or after ``since`` (for batch rendering)."""
    return list(
        db_session().scalars(
            sa.select(TherapySession)
            .join(SessionNote, SessionNote.therapy_session_id == TherapySession.id)
            .where(
                SessionNote.status == NoteStatus.SIGNED.value,
                TherapySession.held_on >= since,
                TherapySession.deleted_at.is_(None),
            )
            .order_by(TherapySession.held_on)
        )
    )
