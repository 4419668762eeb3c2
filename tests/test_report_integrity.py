"""A stored signed report is served only as it was stored: a file changed in the
database (or damaged) is refused, loudly and audited, on every path that hands it out."""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from reconnect_clinic.models import AuditEvent, StoredReport
from reconnect_clinic.notes.operations import add_addendum
from reconnect_clinic.reports import service
from reconnect_clinic.security.audit.log import verify_chain
from reconnect_clinic.state import db_session
from tests.helpers import login

TABLE = StoredReport.__table__


def _signed(make):
    owner = make.therapist()
    couple = make.couple(owner)
    therapy = make.therapy_session(owner, couple)
    make.signed_note(owner, therapy)
    stored = service.issue_session_report(couple, therapy)
    db_session().commit()
    return owner, couple, therapy, stored


def _raw(statement):
    """Change a stored report behind the product's back (no trigger guards reports)."""
    db_session().commit()  # end the test's transaction: on SQLite it holds the write lock
    with db_session().get_bind().begin() as connection:
        result = connection.execute(statement)
    db_session().expire_all()
    return result


def _flip_a_byte(report_id):
    stored = _raw(sa.select(TABLE.c.pdf).where(TABLE.c.id == report_id)).scalar_one()
    middle = len(stored) // 2
    changed = stored[:middle] + bytes([stored[middle] ^ 0x01]) + stored[middle + 1 :]
    _raw(sa.update(TABLE).where(TABLE.c.id == report_id).values(pdf=changed))


def _change_the_hash(report_id):
    _raw(sa.update(TABLE).where(TABLE.c.id == report_id).values(pdf_sha256="0" * 64))


TAMPERINGS = pytest.mark.parametrize(
    "tamper", [_flip_a_byte, _change_the_hash], ids=["file-changed", "hash-changed"]
)


def _failures():
    return (
        db_session()
        .scalars(sa.select(AuditEvent).where(AuditEvent.action == "report.integrity_failed"))
        .all()
    )


def _pdf_url(couple, therapy):
    return f"/clinic/couples/{couple.id}/sessions/{therapy.id}/report.pdf"


def test_an_untouched_stored_report_is_served(client, make):
    owner, couple, therapy, stored = _signed(make)
    expected = stored.pdf
    login(client, owner.email)
    response = client.get(_pdf_url(couple, therapy))
    assert response.status_code == 200
    assert response.data == expected
    assert _failures() == []


@TAMPERINGS
def test_a_changed_stored_report_is_refused_loudly(client, make, caplog, tamper):
    owner, couple, therapy, stored = _signed(make)
    tamper(stored.id)
    login(client, owner.email)
    with caplog.at_level(logging.ERROR):
        response = client.get(_pdf_url(couple, therapy))
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert "This stored record failed its integrity check" in response.text
    assert not response.data.startswith(b"%PDF")
    [failure] = _failures()
    assert failure.actor_id == str(owner.id)
    assert failure.couple_id == couple.id
    assert failure.record_id == str(therapy.id)
    assert failure.detail["stored_report"] == str(stored.id)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage().split(":")[0] for r in errors] == ["Refused to serve a stored report"]
    assert str(stored.id) in errors[0].getMessage()
    # The refusal is printed nowhere else: no report.print line for it.
    assert (
        db_session().scalar(sa.select(sa.func.count()).where(AuditEvent.action == "report.print"))
        == 0
    )
    assert verify_chain()[1] == []


def test_an_earlier_revisions_file_copied_over_the_latest_is_refused(client, make):
    # Copied with its own hash, the older file matches that hash: what refuses it is that
    # the sealed file is bound to the row it was stored in.
    owner, couple, therapy, first = _signed(make)
    add_addendum(therapy.note, owner, "A later correction.")
    latest = service.issue_session_report(couple, therapy)
    db_session().commit()
    old = _raw(sa.select(TABLE.c.pdf, TABLE.c.pdf_sha256).where(TABLE.c.id == first.id)).one()
    _raw(
        sa.update(TABLE)
        .where(TABLE.c.id == latest.id)
        .values(pdf=old.pdf, pdf_sha256=old.pdf_sha256)
    )
    login(client, owner.email)
    response = client.get(_pdf_url(couple, therapy))
    assert response.status_code == 500
    assert [f.detail["stored_report"] for f in _failures()] == [str(latest.id)]


def test_the_records_export_refuses_a_changed_stored_report(client, make):
    owner, couple, _therapy, stored = _signed(make)
    _flip_a_byte(stored.id)
    login(client, owner.email)
    response = client.get(f"/clinic/couples/{couple.id}/export.zip")
    assert response.status_code == 500
    assert "failed its integrity check" in response.text
    assert [f.detail["endpoint"] for f in _failures()] == ["reconnect_clinic.couple_export"]
    exports = sa.select(sa.func.count()).where(AuditEvent.action == "couple.export")
    assert db_session().scalar(exports) == 0


def test_the_records_export_holds_untouched_stored_reports(client, make):
    owner, couple, therapy, stored = _signed(make)
    expected = stored.pdf
    login(client, owner.email)
    response = client.get(f"/clinic/couples/{couple.id}/export.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.read(f"reports/session-{therapy.held_on}-{therapy.id}.pdf") == expected


def test_the_cli_refuses_a_changed_stored_report(app, make, cli, tmp_path):
    _owner, _couple, therapy, stored = _signed(make)
    _flip_a_byte(stored.id)
    out = tmp_path / "session.pdf"
    result = cli.invoke(args=["clinic", "render-report", str(therapy.id), "--out", str(out)])
    assert result.exit_code == 1
    assert "failed its integrity check" in result.output
    assert not out.exists()
    batch = tmp_path / "batch"
    since = (date.today() - timedelta(days=1)).isoformat()  # noqa: DTZ011
    result = cli.invoke(args=["clinic", "render-reports", "--since", since, "--out", str(batch)])
    assert result.exit_code == 1
    assert "0 reports written" in result.output
    assert list(batch.glob("*.pdf")) == []
    assert [f.detail["via"] for f in _failures()] == ["render-report", "render-reports"]
    assert all(f.actor_kind == "system" for f in _failures())


def test_integrity_problem_compares_the_file_with_its_hash():
    pdf = b"%PDF-1.7 a signed report"
    assert service.integrity_problem(hashlib.sha256(pdf).hexdigest(), pdf) is None
    assert "does not match" in service.integrity_problem(
        hashlib.sha256(pdf).hexdigest(), pdf + b" "
    )
