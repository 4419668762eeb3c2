"""The audit log: every clinical read and change is logged, chained and append-only."""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from reconnect_clinic.models import AuditEvent
from reconnect_clinic.security.audit import GENESIS, record_event, verify_chain
from reconnect_clinic.security.audit_sql import create_statements, drop_statements
from reconnect_clinic.state import db_session
from tests.conftest import login


def _events(n, make):
    owner = make.therapist()
    couple = make.couple(owner)
    for i in range(n):
        record_event("test.event", actor=owner, record=couple, couple_id=couple.id, detail={"n": i})
    db_session().commit()
    return owner, couple


def _tamper(statement, params=None):
    """Change the log behind the product's back, as an attacker with database access
    would: set the append-only triggers aside first."""
    db_session().commit()  # end the test's transaction: on SQLite it holds the write lock
    engine = db_session().get_bind()
    dialect = engine.dialect.name
    with engine.begin() as connection:
        for drop in drop_statements(dialect):
            connection.exec_driver_sql(drop)
        connection.execute(sa.text(statement), params or {})
        for create in create_statements(dialect):
            connection.exec_driver_sql(create)


def test_lines_are_chained(app, make):
    _events(3, make)
    rows = db_session().scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert rows[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.row_hash
    checked, breaks = verify_chain()
    assert checked == len(rows) and breaks == []


def test_an_edited_line_is_caught(app, make, cli):
    _events(4, make)
    target = db_session().scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)).all()[1]
    _tamper(
        "UPDATE clinic_audit_event SET action = 'nothing.to.see' WHERE id = :id", {"id": target}
    )
    db_session().expire_all()
    _, breaks = verify_chain()
    assert [b.event_id for b in breaks] == [target]
    result = cli.invoke(args=["clinic", "audit-verify"])
    assert result.exit_code == 1
    assert f"Line {target}" in result.output


def test_a_removed_line_is_caught(app, make, cli):
    _events(4, make)
    ids = db_session().scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)).all()
    _tamper("DELETE FROM clinic_audit_event WHERE id = :id", {"id": ids[2]})
    db_session().expire_all()
    _, breaks = verify_chain()
    assert [b.event_id for b in breaks] == [ids[3]]
    assert "Audit log intact" not in cli.invoke(args=["clinic", "audit-verify"]).output


def test_an_intact_log_verifies(app, make, cli):
    _events(2, make)
    lines = db_session().scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    result = cli.invoke(args=["clinic", "audit-verify"])
    assert result.exit_code == 0 and f"Audit log intact: {lines} lines" in result.output


def test_the_database_refuses_to_change_or_delete_lines(app, make):
    _events(1, make)
    session = db_session()
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    for statement in (
        "UPDATE clinic_audit_event SET action = 'x'",
        "DELETE FROM clinic_audit_event",
    ):
        try:
            session.execute(sa.text(statement))
            session.flush()
        except DBAPIError as error:
            assert "append-only" in str(error)
            session.rollback()
        else:  # pragma: no cover - the trigger failed to fire
            raise AssertionError(f"{statement!r} was allowed")
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before


def test_therapist_sees_their_couples_log_only(app, client, make):
    owner, couple = _events(2, make)
    other = make.therapist()
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}/audit")
    assert page.status_code == 200 and "test.event" in page.text
    client.post("/clinic/logout", data={})
    other_client = client.application.test_client()
    login(other_client, other.email)
    assert other_client.get(f"/clinic/couples/{couple.id}/audit").status_code == 404
