"""SQLite's transaction handling (reconnect_clinic/sqlite.py): writers take the write lock
at once and wait their turn; views marked read-only read a snapshot beside them and may
not write. SQLite only: skipped on PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from datetime import date

import pytest
import sqlalchemy as sa

from reconnect_clinic.cases.listing import CaseLine, case_lines
from reconnect_clinic.models import Couple
from reconnect_clinic.readonly import request_is_read_only
from reconnect_clinic.state import db_session
from tests.helpers import SERVER_URL, login

sqlite_only = pytest.mark.skipif(bool(SERVER_URL), reason="SQLite's locking only")


@sqlite_only
def test_a_read_only_page_is_served_while_a_writer_holds_the_lock(app, client, make):
    owner = make.therapist()
    make.couple(owner, label="Reading beside a writer", a="Noor")
    login(client, owner.email)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process's write, in progress
    answers: list = []
    reader = threading.Thread(target=lambda: answers.append(client.get("/clinic/")))
    try:
        reader.start()
        # A page that took the write lock would wait here for the busy timeout (30 s).
        reader.join(timeout=15)
        assert not reader.is_alive(), "the dashboard waited for the writer's lock"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        reader.join()
    assert answers[0].status_code == 200
    assert "Reading beside a writer" in answers[0].text
    assert "Noor Morgan" in answers[0].text


@sqlite_only
def test_a_read_only_view_cannot_write(app, make):
    owner = make.therapist()
    with app.test_request_context("/clinic/"):
        assert request_is_read_only()
        session = db_session()
        session.add(Couple(therapist_id=owner.id, label="Sneaked in", opened_on=date(2026, 1, 5)))
        with pytest.raises(sa.exc.OperationalError, match="readonly"):
            session.flush()
        session.rollback()
    with app.test_request_context("/clinic/couples/new"):
        assert not request_is_read_only()  # the pooled connection writes again
        db_session().add(
            Couple(therapist_id=owner.id, label="Opened properly", opened_on=date(2026, 1, 5))
        )
        db_session().flush()
        db_session().rollback()


def test_case_lines_name_both_partners_in_order() -> None:
    from uuid import uuid4

    one, two = uuid4(), uuid4()
    opened = date(2026, 1, 5)
    rows = [
        (one, "Ahn", "active", opened, None, "Kim", "Ahn", "Lee", ""),
        (two, "Berg", "closed", opened, date(2026, 6, 1), None, None, "Sam", None),
    ]
    assert case_lines(rows) == [
        CaseLine(one, "Ahn", "active", opened, None, ("Kim Ahn", "Lee")),
        CaseLine(two, "Berg", "closed", opened, date(2026, 6, 1), ("Sam",)),
    ]
    assert case_lines([]) == []
