"""Report routes: a session's report, the progress report, the intake summary (each as
a preview and as a PDF) and an assignment's printed handout; and the page shown when a
stored report fails its integrity check.

All are on the one blueprint, so their endpoints are the function names.
"""

from __future__ import annotations

import uuid
from datetime import date

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..blueprint import RouteTable, signed_in_therapist, therapist_required, with_couple
from ..downloads import PDF, download, download_name
from ..homework.queries import assignment_or_404
from ..models import Couple, Therapist
from ..notes.queries import session_or_404
from ..security.audit.log import record_event
from ..state import db_session
from . import service
from .pdf import html_to_pdf

routes = RouteTable()


def _today() -> date:
    return date.today()  # noqa: DTZ011 - the therapist's own day


@routes.route("/couples/<uuid:couple_id>/sessions/<uuid:session_id>/report")
@therapist_required
@with_couple
def session_report_preview(
    therapist: Therapist, couple: Couple, session_id: uuid.UUID
) -> ResponseReturnValue:
    therapy_session = session_or_404(couple, session_id)
    report = service.load_session_report(couple, therapy_session)
    page = service.session_report_html(  # drawn before the audit line and the commit
        couple,
        report,
        pdf_url=url_for(".session_report_pdf", couple_id=couple.id, session_id=therapy_session.id),
    )
    record_event("report.view", actor=therapist, record=therapy_session, couple_id=couple.id)
    db_session().commit()
    return page


@routes.route("/couples/<uuid:couple_id>/sessions/<uuid:session_id>/report.pdf")
@therapist_required
@with_couple
def session_report_pdf(
    therapist: Therapist, couple: Couple, session_id: uuid.UUID
) -> ResponseReturnValue:
    """A signed note's report is served as stored; a draft's is rendered fresh."""
    therapy_session = session_or_404(couple, session_id)
    pdf = service.session_report_pdf(couple, therapy_session)
    filename = download_name(couple.label, therapy_session.held_on, "session report", "pdf")
    record_event(
        "report.print",
        actor=therapist,
        record=therapy_session,
        couple_id=couple.id,
        detail={"kind": "session"},
    )
    db_session().commit()
    return download(pdf, filename, PDF)


@routes.errorhandler(service.ReportIntegrityError)
def _stored_report_refused(error: service.ReportIntegrityError) -> ResponseReturnValue:
    """A stored report that fails its integrity check is never served, from any page
    (the report, the case's records export): the therapist is told the stored record
    failed its check, and it is audited and logged. Whatever the request was doing is
    rolled back; the audit line is committed on its own."""
    db_session().rollback()
    service.record_integrity_failure(
        error, actor=signed_in_therapist(), detail={"endpoint": request.endpoint}
    )
    db_session().commit()
    return render_template("reconnect_clinic/record_integrity.html", couple_id=error.couple_id), 500


@routes.route("/couples/<uuid:couple_id>/progress-report", defaults={"pdf": False})
@routes.route("/couples/<uuid:couple_id>/progress-report.pdf", defaults={"pdf": True})
@therapist_required
@with_couple
def progress_report(therapist: Therapist, couple: Couple, pdf: bool) -> ResponseReturnValue:
    report = service.load_progress_report(couple, _today())
    # The preview is drawn before the audit line, as the session report's is; the PDF is
    # drawn after the commit, from the report's plain data alone.
    page = (
        None
        if pdf
        else service.progress_report_html(
            couple, report, pdf_url=url_for(".progress_report", couple_id=couple.id, pdf=True)
        )
    )
    record_event(
        "report.print" if pdf else "report.view",
        actor=therapist,
        record=couple,
        couple_id=couple.id,
        detail={"kind": "progress"},
    )
    db_session().commit()
    if page is not None:
        return page
    filename = download_name(report.couple.label, report.as_of, "progress report", "pdf")
    return download(service.progress_report_pdf(couple, report), filename, PDF)


@routes.route("/couples/<uuid:couple_id>/intake-summary", defaults={"pdf": False})
@routes.route("/couples/<uuid:couple_id>/intake-summary.pdf", defaults={"pdf": True})
@therapist_required
@with_couple
def intake_summary(therapist: Therapist, couple: Couple, pdf: bool) -> ResponseReturnValue:
    intake = service.load_couple_intake(couple)
    # ?private=no prints the summary without the partners' private sections.
    include_private = request.args.get("private", "yes") != "no"
    # The preview's "Download PDF" prints what it shows (None: left out of the address).
    private = None if include_private else "no"
    pdf_url = url_for(".intake_summary", couple_id=couple.id, pdf=True, private=private)
    html = service.intake_summary_html(
        couple,
        intake,
        printable=pdf,
        include_private=include_private,
        pdf_url=None if pdf else pdf_url,
    )
    filename = download_name(  # named before the commit expires the couple's row
        couple.label,
        _today(),
        "intake summary" if include_private else "intake summary without private answers",
        "pdf",
    )
    record_event(
        "report.print" if pdf else "report.view",
        actor=therapist,
        record=couple,
        couple_id=couple.id,
        detail={"kind": "intake", "private": include_private},
    )
    db_session().commit()
    return download(service.html_to_pdf(html), filename, PDF) if pdf else html


@routes.route("/couples/<uuid:couple_id>/homework/<uuid:assignment_id>/handout.pdf")
@therapist_required
@with_couple
def homework_handout(
    therapist: Therapist, couple: Couple, assignment_id: uuid.UUID
) -> ResponseReturnValue:
    assignment = assignment_or_404(couple, assignment_id)
    html = render_template(
        "reconnect_clinic/reports/handout.html", couple=couple, assignment=assignment
    )
    pdf = html_to_pdf(html)
    filename = download_name(
        couple.label, assignment.starts_on, f"handout {assignment.title}", "pdf"
    )
    record_event("homework.print", actor=therapist, record=assignment, couple_id=couple.id)
    db_session().commit()
    return download(pdf, filename, PDF)
