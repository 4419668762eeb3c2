"""The therapist's pages cost a fixed number of SQL statements, however much a case or a
caseload holds: the same count for a small case as for a large one, so an N+1 (a query
per session, assignment, check-in or intake) cannot come back unnoticed.

Statements are counted on the engine (``before_cursor_execute``) as sent, on
PostgreSQL with the advisory lock each audit line takes; transaction control and
connection settings (SQLite's ``BEGIN`` and ``PRAGMA``) are left out, since they depend
on the pooled connection a request is handed, not on the page. Counts are compared
between two cases of the same shape in the same test, never with a number written down
here, so they hold on either database.

The larger cases are built through the operations the views call (intakes submitted
through ``save_page``/``submit_intake``, check-ins through ``record_check_in``): the same
rows as the browser flows store, in a fraction of the time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from reconnect_clinic.demo import db as demo_db
from reconnect_clinic.models import Couple, Therapist, TherapySession
from reconnect_clinic.reports import service
from reconnect_clinic.state import db_session, get_state
from tests.helpers import login

TODAY = date.today()  # noqa: DTZ011 - the factories date things in the local day
NOT_COUNTED = ("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK")


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs, in order."""
    with app.app_context():
        engine = demo_db.engine
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        text = " ".join(statement.split())
        if not text.upper().startswith(NOT_COUNTED):
            statements.append(text)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements_for(app: Flask, client: FlaskClient, url: str) -> tuple[list[str], str]:
    """The statements one request to ``url`` sends, and the page it answers."""
    with counted(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return list(statements), response.text


def assert_same_count(small: list[str], large: list[str]) -> None:
    assert len(small) == len(large), (
        f"{len(small)} statements for the small case, {len(large)} for the large one:\n"
        + "\n".join(s[:160] for s in large)
    )


def submitted_intake(owner: Therapist, couple: Couple, role: str) -> None:
    """One more intake for a partner: a new link, every page saved, submitted."""
    from reconnect_clinic.intake.content import page_slugs
    from reconnect_clinic.intake.operations import response_for_link, save_page, submit_intake
    from reconnect_clinic.security.links.tokens import issue_link
    from tests.factories import intake_answers

    taxonomy = get_state().taxonomy
    partner = couple.partner(role)
    issued = issue_link(partner, "intake", created_by=owner, lifetime=timedelta(days=14))
    response = response_for_link(issued.link, taxonomy)
    answers = intake_answers(frequency="3" if role == "a" else "1", text="We drifted apart.")
    for slug in page_slugs(taxonomy):
        save_page(response, slug, answers[slug], complete=True, next_page=None, actor=issued.link)
    submit_intake(response, issued.link, taxonomy, consent_name=partner.full_name)
    db_session().commit()


def homework_with_check_ins(owner: Therapist, couple: Couple, number: int) -> None:
    """A daily exercise started a week ago, with a check-in (and a reflection) by each
    partner on three days."""
    from reconnect_clinic.homework.operations import CheckInDetails, record_check_in
    from reconnect_clinic.security.links.tokens import issue_link
    from tests import factories

    start = TODAY - timedelta(days=7 + number)
    assignment = factories.assignment(
        owner, couple, frequency="daily", starts_on=start, days=10 + number
    )
    for partner in couple.partners:
        link = issue_link(partner, "homework", created_by=owner, lifetime=timedelta(days=90))
        for day in range(3):
            record_check_in(
                assignment,
                partner,
                CheckInDetails(
                    client_key=f"{number}-{partner.role}-{day}",
                    completion="done",
                    helpfulness=4,
                    reflection=f"Day {day}: it helped." if day != 1 else None,
                    share_with_partner=day == 0,
                ),
                today=start + timedelta(days=day),
                actor=link.link,
            )
    db_session().commit()


def signed_session(owner: Therapist, couple: Couple, number: int) -> None:
    """A session with a signed note; every other one with an addendum."""
    from reconnect_clinic.notes.operations import add_addendum
    from tests import factories

    therapy = factories.therapy_session(owner, couple, held_on=TODAY - timedelta(weeks=number))
    note = factories.signed_note(owner, therapy, data=f"Session {number}: both attended.")
    if number % 2:
        add_addendum(note, owner, "The couple asked to move the next session.")
        db_session().commit()


def case_with(owner: Therapist, make: Any, *, size: int, label: str) -> Couple:
    """A couple with ``size`` sessions (signed notes), ``size`` assignments with their
    check-ins, and ``size`` submitted intakes spread over the two partners (at least one
    each)."""
    couple = make.couple(owner, label=label, opened_on=TODAY - timedelta(weeks=size + 4))
    for number in range(size):
        signed_session(owner, couple, number + 1)
        homework_with_check_ins(owner, couple, number)
    for number in range(max(size, 2)):
        submitted_intake(owner, couple, "a" if number % 2 == 0 else "b")
    return couple


@pytest.fixture
def cases(app: Flask, client: FlaskClient, make: Any) -> tuple[Couple, Couple]:
    """A small case (one of everything) and a large one (six), one therapist's, logged in."""
    owner = make.therapist()
    small = case_with(owner, make, size=1, label="Small case")
    large = case_with(owner, make, size=6, label="Large case")
    login(client, owner.email)
    # Anything done once per process or per login (nothing, today) is done now.
    client.get(f"/clinic/couples/{small.id}")
    return small, large


def test_the_dashboard_costs_the_same_for_two_couples_or_eight(
    app: Flask, client: FlaskClient, make: Any
) -> None:
    owner = make.therapist()
    # One open and one closed case to start with: every list shown has someone in it
    # (an empty list skips loading partners, which would be one statement fewer).
    # The dashboard is four statements: the therapist, the list with each case's to-do
    # counts (correlated subqueries), overdue homework (one grouped statement: "overdue"
    # is judged in Python by the homework's own rule, homework/schedule.py) and the risk
    # rows; the same four for two quiet cases as for eight with every kind of to-do.
    for n, status in enumerate(("active", "closed")):
        make.couple(owner, label=f"Couple {n}", a=f"A{n}", b=f"B{n}", status=status)
    login(client, owner.email)
    client.get("/clinic/")  # anything done once per process or per login is done now
    shows = ("open", "attention", "closed", "all")
    two = {show: statements_for(app, client, f"/clinic/?show={show}")[0] for show in shows}
    for n in range(2, 8):
        status = "closed" if n % 3 == 0 else "active"
        couple = make.couple(owner, label=f"Couple {n}", a=f"A{n}", b=f"B{n}", status=status)
        to_do(owner, couple, n)
    eight = {show: statements_for(app, client, f"/clinic/?show={show}") for show in shows}
    for show in shows:
        assert_same_count(two[show], eight[show][0])
    assert all(f"Couple {n}" in eight["all"][1] for n in range(8))
    # Every kind of to-do fact is there to count, in every case but the first two.
    page = eight["all"][1]
    assert page.count("1 intake submitted, not yet read") == 6
    assert page.count("1 session note not signed") == 6
    assert page.count("1 homework assignment overdue") == 4  # closed cases owe none
    assert page.count("1 new reflection") == 6
    assert page.count("Next session:") == 6


def to_do(owner: Therapist, couple: Couple, number: int) -> None:
    """One of each thing the dashboard lists as a to-do: an unread intake, an unsigned
    note, overdue homework with a reflection, and a session to come."""
    from reconnect_clinic.homework.operations import CheckInDetails, record_check_in
    from reconnect_clinic.notes.operations import save_note
    from tests import factories

    late = factories.assignment(
        owner, couple, exercise="three_feeling_notes", starts_on=TODAY - timedelta(days=9)
    )
    record_check_in(
        late,
        couple.partner("a"),
        CheckInDetails(f"todo-{number}", "done", 4, "Late, but done.", share_with_partner=False),
        today=TODAY,
        actor=None,
    )
    submitted_intake(owner, couple, "a")
    therapy = factories.therapy_session(owner, couple, held_on=TODAY - timedelta(days=1))
    save_note(therapy, owner, template="dap", content={}, based_on_version=None)
    factories.therapy_session(owner, couple, held_on=TODAY + timedelta(days=number))
    db_session().commit()


def test_the_couple_page_costs_the_same_for_one_session_or_six(
    app: Flask, client: FlaskClient, cases: tuple[Couple, Couple]
) -> None:
    small, large = cases
    small_statements, _ = statements_for(app, client, f"/clinic/couples/{small.id}")
    large_statements, page = statements_for(app, client, f"/clinic/couples/{large.id}")
    assert_same_count(small_statements, large_statements)
    # The page does show all of it: six sessions, six assignments, the reflections.
    assert page.count("report (PDF)") == 6
    assert page.count('<li class="assignment') == 6
    assert "Day 2: it helped." in page


def test_the_progress_report_costs_the_same_for_one_session_or_six(
    app: Flask, client: FlaskClient, cases: tuple[Couple, Couple]
) -> None:
    # The HTML preview only: the PDF is loaded by the same view with the same loader, and
    # rendering it (worker processes) would take longer than everything else here.
    small, large = cases
    small_statements, _ = statements_for(app, client, f"/clinic/couples/{small.id}/progress-report")
    large_statements, page = statements_for(
        app, client, f"/clinic/couples/{large.id}/progress-report"
    )
    assert_same_count(small_statements, large_statements)
    assert "6 sessions: 6 with both partners" in page
    assert page.count('class="homework-line') == 6


def test_the_progress_report_is_drawn_without_the_database(app: Flask, make: Any) -> None:
    """The view commits its audit line and then draws the report: by then every row is
    expired, so the report must hold plain data and draw without a single query."""
    couple = case_with(make.therapist(), make, size=3, label="Three sessions")
    with app.test_request_context():
        couple = db_session().get(Couple, couple.id)
        assert couple is not None
        report = service.load_progress_report(couple, TODAY)
        db_session().commit()  # as the view does before drawing
        with counted(app) as statements:
            html = service.progress_report_html(couple, report)
        assert statements == []
        assert "Three sessions" in html
        assert html.count("note signed") == 3
        assert html.count('class="homework-line') == 3


def reviewing_session(owner: Therapist, couple: Couple) -> TherapySession:
    """Today's session, its signed note reviewing every assignment of the case and
    assigning the latest, with an addendum per assignment."""
    from reconnect_clinic.homework.queries import couple_assignments
    from reconnect_clinic.notes.operations import add_addendum
    from tests import factories

    therapy = factories.therapy_session(owner, couple, held_on=TODAY)
    assignments = [str(a.id) for a in couple_assignments(couple)]
    note = factories.signed_note(
        owner,
        therapy,
        data="Reviewed the week.",
        homework_reviewed=tuple(assignments),
        homework_assigned=tuple(assignments[-1:]),
    )
    for number in range(len(assignments)):
        add_addendum(note, owner, f"Addendum {number + 1}.")
    db_session().commit()
    return therapy


@pytest.mark.parametrize("page", ["", "/report"], ids=["signed note", "report preview"])
def test_a_signed_sessions_pages_cost_the_same_for_one_assignment_or_six(
    app: Flask, client: FlaskClient, cases: tuple[Couple, Couple], page: str
) -> None:
    owner = db_session().get(Therapist, cases[0].therapist_id)
    urls = [
        f"/clinic/couples/{couple.id}/sessions/{reviewing_session(owner, couple).id}{page}"
        for couple in cases
    ]
    small_statements, _ = statements_for(app, client, urls[0])
    large_statements, html = statements_for(app, client, urls[1])
    assert_same_count(small_statements, large_statements)
    assert "Addendum 6." in html
    if page:
        assert html.count('class="homework-line') == 7  # six reviewed, one assigned
