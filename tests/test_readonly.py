"""Views marked read-only (reconnect_clinic/readonly.py): on PostgreSQL their queries run
in autocommit mode, without BEGIN and ROLLBACK; other views keep their transaction.
(On SQLite, tests/test_sqlite.py checks the snapshot read and the refused write.)"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from reconnect_clinic.state import get_state
from tests.helpers import SERVER_URL, login

postgresql_only = pytest.mark.skipif(not SERVER_URL, reason="PostgreSQL's transactions only")


def _autocommit_per_query(app, client, path: str) -> list[bool]:
    engine = get_state().db.engine
    seen: list[bool] = []

    def note(connection, cursor, statement, parameters, context, executemany) -> None:
        seen.append(connection.connection.dbapi_connection.autocommit)

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


@postgresql_only
def test_the_dashboard_reads_without_a_transaction_and_other_pages_keep_theirs(app, client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Read in autocommit")
    login(client, owner.email)
    # The therapist, the list (with its to-do counts), overdue homework (one grouped
    # statement: "overdue" is judged in Python by the homework's own rule), every case's
    # risk rows, and the measures facts (measures/queries.dashboard_measures: schedules,
    # results of repeated measures, administrations, session days, the cases concerned
    # with their partners and therapist in one statement, the last celebration sent).
    assert _autocommit_per_query(app, client, "/clinic/") == [True] * 10
    page = _autocommit_per_query(app, client, f"/clinic/couples/{couple.id}")
    assert page
    assert not any(page)  # the pooled connection is back in a transaction
    with get_state().db.engine.connect() as connection:
        assert connection.connection.dbapi_connection.autocommit is False
