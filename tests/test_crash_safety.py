"""The server killed outright (SIGKILL to gunicorn's master and workers) in the middle of
a stream of check-ins: after a restart every check-in the server acknowledged is there,
exactly once, the ones in flight can be sent again without doubling, and the database
passes its integrity checks (SQLite's integrity and foreign-key checks, or PostgreSQL's
amcheck over every index) and the audit chain still verifies."""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

import requests
import sqlalchemy as sa
from flask import Flask

from reconnect_clinic.demo import db as demo_db
from reconnect_clinic.models import AuditEvent, HomeworkCheckIn
from reconnect_clinic.security.audit.log import verify_chain
from reconnect_clinic.state import db_session
from tests import factories
from tests.live_server import LivePartner

SENDERS = 4
KILL_AFTER = 40  # acknowledged check-ins before the kill


class Sender(threading.Thread):
    """Sends check-ins one after another until the server stops answering; keeps the
    keys the server acknowledged and the form that was in flight when it died."""

    def __init__(self, number: int, partner: LivePartner, assignment_id: Any) -> None:
        super().__init__(daemon=True)
        self.number = number
        self.partner = partner
        self.assignment_id = assignment_id
        self.link_ref = partner.check_in_form(assignment_id)["link_ref"]
        self.acknowledged: list[str] = []
        self.in_flight: dict[str, str] | None = None

    def form(self, n: int) -> dict[str, str]:
        return {
            "completion": "partly",
            "helpfulness": "3",
            "client_key": secrets.token_urlsafe(24),
            "link_ref": self.link_ref,
            "reflection": f"Sender {self.number}, check-in {n}.",
        }

    def run(self) -> None:
        for n in range(10_000):
            form = self.form(n)
            self.in_flight = form
            try:
                answer = self.partner.check_in(self.assignment_id, form)
            except requests.RequestException:
                return  # the server died with this one in flight
            assert answer.status_code == 302, answer.text[:300]
            self.acknowledged.append(form["client_key"])
            self.in_flight = None


def _integrity_problems(app: Flask) -> list[Any]:
    with app.app_context():
        engine = demo_db.engine
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                checked = connection.exec_driver_sql("PRAGMA integrity_check").scalars().all()
                problems = [] if checked == ["ok"] else list(checked)
                problems += connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                return problems
            # amcheck verifies each B-tree index against its table's pages.
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS amcheck")
            indexes = connection.exec_driver_sql(
                "SELECT c.oid::regclass::text FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am am ON am.oid = c.relam "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE am.amname = 'btree' AND n.nspname = 'public'"
            ).scalars()
            for index in list(indexes):
                connection.exec_driver_sql(
                    "SELECT bt_index_check(%(index)s::regclass, true)", {"index": index}
                )
            connection.commit()
            return []


def test_acknowledged_check_ins_survive_a_sigkill(live):
    server, app = live
    with app.app_context():
        owner = factories.therapist()
        couple = factories.couple(owner)
        assignment = factories.assignment(owner, couple, frequency="daily", days=6)
        token = factories.homework_link(owner, couple.partner_a)
        assignment_id = assignment.id
        db_session().remove()
    server.start()
    partner = LivePartner(server.url, token, "homework")
    senders = [Sender(n, partner, assignment_id) for n in range(SENDERS)]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + 60
    while sum(len(s.acknowledged) for s in senders) < KILL_AFTER:
        assert time.monotonic() < deadline, "the stream never got going"
        assert all(s.is_alive() for s in senders), "a sender stopped before the kill"
        time.sleep(0.01)
    server.kill()
    for sender in senders:
        sender.join(timeout=30)
        assert not sender.is_alive()

    server.start()  # the same database, opened again after the crash
    in_flight = [s.in_flight for s in senders if s.in_flight is not None]
    for form in in_flight:
        # The partner's browser sends what it never heard back about; the key makes it safe.
        assert partner.check_in(assignment_id, form).status_code == 302
    server.stop()

    assert _integrity_problems(app) == []
    with app.app_context():
        stored = db_session().scalars(sa.select(HomeworkCheckIn.client_key)).all()
        acknowledged = [key for s in senders for key in s.acknowledged]
        resent = [form["client_key"] for form in in_flight]
        assert len(acknowledged) >= KILL_AFTER
        assert sorted(stored) == sorted(acknowledged + resent)  # all there, none twice
        check_in_events = db_session().scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "homework.check_in")
        )
        assert check_in_events == len(stored)
        _, breaks = verify_chain()
        assert breaks == []
        db_session().rollback()
    assert server.problems_in_log() == []
