"""The dashboard as a to-do list (cases/attention.py, cases/listing.py): per couple what
needs the therapist now, open risks first, then unread intakes, unsigned notes, overdue
homework and new reflections, with counts, and the next session; each item appears and
goes away as the work is done, and nothing a partner wrote is ever shown."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from reconnect_clinic.cases.attention import (
    TODO_KINDS,
    ToDo,
    mark_seen,
    next_session_text,
    overdue_counts,
    todo_items,
)
from reconnect_clinic.cases.lifecycle import purge_case
from reconnect_clinic.cases.listing import (
    CaseLine,
    case_lines,
    needing_attention,
    order_by_attention,
    status_filter,
)
from reconnect_clinic.homework.operations import CheckInDetails, record_check_in
from reconnect_clinic.models import (
    CaseSeen,
    Couple,
    HomeworkAssignment,
    HomeworkCheckIn,
    Therapist,
    utcnow,
)
from reconnect_clinic.notes.operations import save_note, sign_note
from reconnect_clinic.risk import RiskLevel
from reconnect_clinic.state import db_session, get_state
from tests.helpers import login
from tests.test_risk_dashboard import disclose

TODAY = date.today()  # noqa: DTZ011 - the factories date things in the local day
PRIVATE_WORDS = "Secretly I keep a list of every slight"


# --- building cases --------------------------------------------------------------------


def submit_intake(owner: Therapist, couple: Couple, role: str, text: str = PRIVATE_WORDS) -> None:
    """One partner's intake, every page saved and submitted, through the operations."""
    from reconnect_clinic.intake.content import page_slugs
    from reconnect_clinic.intake.operations import response_for_link, save_page, submit_intake
    from reconnect_clinic.security.links.tokens import issue_link
    from tests.factories import intake_answers

    taxonomy = get_state().taxonomy
    partner = couple.partner(role)
    issued = issue_link(partner, "intake", created_by=owner, lifetime=timedelta(days=14))
    response = response_for_link(issued.link, taxonomy)
    answers = intake_answers(frequency="1")  # answers that raise no risk
    answers["about"]["reasons"] = text  # the partner's own words (not a safety note)
    for slug in page_slugs(taxonomy):
        save_page(response, slug, answers[slug], complete=True, next_page=None, actor=issued.link)
    submit_intake(response, issued.link, taxonomy, consent_name=partner.full_name)
    db_session().commit()


def draft_note(owner: Therapist, couple: Couple, make: Any, days_ago: int = 1) -> Any:
    therapy = make.therapy_session(owner, couple, held_on=TODAY - timedelta(days=days_ago))
    note = save_note(
        therapy,
        owner,
        template="dap",
        content={"sections": {"data": "Draft.", "assessment": "", "plan": ""}},
        based_on_version=None,
    )
    db_session().commit()
    return note


def give(owner: Therapist, couple: Couple, make: Any, **kwargs: Any) -> Any:
    """An exercise done alone, which no risk rules out (assign it before any risk is
    disclosed all the same), for both partners unless ``assignee`` says otherwise."""
    return make.assignment(owner, couple, exercise="three_feeling_notes", **kwargs)


def overdue_assignment(owner: Therapist, couple: Couple, make: Any, **kwargs: Any) -> Any:
    """A one-off exercise that fell due two days ago."""
    return give(owner, couple, make, starts_on=TODAY - timedelta(days=9), days=7, **kwargs)


def check_in(
    assignment: HomeworkAssignment,
    couple: Couple,
    role: str,
    *,
    reflection: str | None = None,
    share: bool = False,
) -> None:
    record_check_in(
        assignment,
        couple.partner(role),
        CheckInDetails(
            client_key=uuid.uuid4().hex,
            completion="done",
            helpfulness=4,
            reflection=reflection,
            share_with_partner=share,
        ),
        today=TODAY,
        actor=None,
    )
    db_session().commit()


def case_item(page: str, label: str) -> str:
    start = page.index(f">{label}</a>")
    begin = page.rindex('<li class="case', 0, start)
    following = page.find('<li class="case', start)
    end = following if following != -1 else page.index("</main>", start)
    return page[begin:end]


def todo_texts(page: str, label: str) -> list[str]:
    return re.findall(r'<li class="todo-item todo-\w+">([^<]+)</li>', case_item(page, label))


def case_names(page: str) -> list[str]:
    return re.findall(r'class="case-name" href="[^"]+">([^<]+)</a>', page)


def dashboard(client: FlaskClient, show: str | None = None) -> str:
    response = client.get("/clinic/" if show is None else f"/clinic/?show={show}")
    assert response.status_code == 200
    return response.text


# --- each kind of item appears and goes ------------------------------------------------


def test_an_intake_submitted_is_unread_until_the_couple_page_shows_it(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    submit_intake(owner, couple, "a")
    submit_intake(owner, couple, "b")
    login(client, owner.email)
    assert todo_texts(dashboard(client), "Heron") == ["2 intakes submitted, not yet read"]
    assert client.get(f"/clinic/couples/{couple.id}").status_code == 200
    assert todo_texts(dashboard(client), "Heron") == []


def test_reading_one_partners_answers_leaves_the_others_unread(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    submit_intake(owner, couple, "a")
    submit_intake(owner, couple, "b")
    login(client, owner.email)
    assert client.get(f"/clinic/couples/{couple.id}/partners/a/intake").status_code == 200
    assert todo_texts(dashboard(client), "Heron") == ["1 intake submitted, not yet read"]
    assert client.get(f"/clinic/couples/{couple.id}/partners/b/intake").status_code == 200
    assert todo_texts(dashboard(client), "Heron") == []


def test_an_intake_in_progress_is_not_a_to_do(client, app, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    disclose(app, make, owner, couple.partner_a, page="about", reasons="Drafting.")
    login(client, owner.email)
    assert todo_texts(dashboard(client), "Heron") == []


def test_a_new_intake_after_the_last_reading_is_unread_again(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    submit_intake(owner, couple, "a")
    login(client, owner.email)
    client.get(f"/clinic/couples/{couple.id}")
    submit_intake(owner, couple, "a", text="Three months on.")
    assert todo_texts(dashboard(client), "Heron") == ["1 intake submitted, not yet read"]


def test_an_unsigned_note_is_listed_until_it_is_signed(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    note = draft_note(owner, couple, make)
    draft_note(owner, couple, make, days_ago=8)
    login(client, owner.email)
    assert todo_texts(dashboard(client), "Heron") == ["2 session notes not signed"]
    sign_note(note, owner, based_on_version=note.version)
    db_session().commit()
    assert todo_texts(dashboard(client), "Heron") == ["1 session note not signed"]


def test_opening_the_couple_page_does_not_clear_an_unsigned_note(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    draft_note(owner, couple, make)
    login(client, owner.email)
    client.get(f"/clinic/couples/{couple.id}")
    assert todo_texts(dashboard(client), "Heron") == ["1 session note not signed"]


def test_homework_past_its_due_date_without_check_ins_is_overdue(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    overdue_assignment(owner, couple, make)
    overdue_assignment(owner, couple, make, assignee="a")
    login(client, owner.email)
    assert todo_texts(dashboard(client), "Heron") == ["2 homework assignments overdue"]


def test_overdue_homework_goes_once_every_partner_it_is_for_has_checked_in(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    joint = overdue_assignment(owner, couple, make)
    login(client, owner.email)
    check_in(joint, couple, "a")
    assert todo_texts(dashboard(client), "Heron") == ["1 homework assignment overdue"]
    check_in(joint, couple, "b")
    assert todo_texts(dashboard(client), "Heron") == []


def test_homework_for_one_partner_needs_only_their_check_in(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    theirs = overdue_assignment(owner, couple, make, assignee="b")
    check_in(theirs, couple, "b")
    login(client, owner.email)
    assert todo_texts(dashboard(client), "Heron") == []


def test_homework_not_yet_due_or_closed_is_not_overdue(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    give(owner, couple, make, starts_on=TODAY - timedelta(days=3), days=7)
    closed = overdue_assignment(owner, couple, make)
    closed.closed_on = TODAY
    db_session().commit()
    login(client, owner.email)
    assert todo_texts(dashboard(client), "Heron") == []


def test_overdue_daily_homework_counts_as_the_couple_page_counts_it(client, make):
    """A daily exercise of four days, three of them checked in by each partner: the
    homework's own rule (adherence) says overdue, and so does the dashboard."""
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    daily = give(
        owner, couple, make, frequency="daily", starts_on=TODAY - timedelta(days=5), days=3
    )
    for _ in range(3):
        check_in(daily, couple, "a")
        check_in(daily, couple, "b")
    login(client, owner.email)
    assert todo_texts(dashboard(client), "Heron") == ["1 homework assignment overdue"]
    check_in(daily, couple, "a")
    check_in(daily, couple, "b")
    assert todo_texts(dashboard(client), "Heron") == []


def test_reflections_are_new_until_the_therapist_opens_the_couple_page(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    exercise = give(owner, couple, make, starts_on=TODAY, days=7)
    check_in(exercise, couple, "a", reflection="We talked.", share=True)
    check_in(exercise, couple, "b", reflection="Just for my therapist.")
    check_in(exercise, couple, "b")  # no reflection: nothing to read
    login(client, owner.email)
    assert todo_texts(dashboard(client), "Heron") == ["2 new reflections"]
    client.get(f"/clinic/couples/{couple.id}")
    assert todo_texts(dashboard(client), "Heron") == []
    check_in(exercise, couple, "a", reflection="A second evening.")
    assert todo_texts(dashboard(client), "Heron") == ["1 new reflection"]


def test_what_one_therapist_has_seen_is_theirs_alone(client, make, app):
    admin = make.therapist(admin=True)
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    exercise = give(owner, couple, make, starts_on=TODAY, days=7)
    check_in(exercise, couple, "a", reflection="We talked.")
    with app.test_request_context():
        mark_seen(db_session().get(Therapist, admin.id), couple, utcnow(), page=True)
        db_session().commit()
    login(client, owner.email)
    assert todo_texts(dashboard(client), "Heron") == ["1 new reflection"]


def test_the_next_session_is_the_earliest_from_today_on(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    make.therapy_session(owner, couple, held_on=TODAY - timedelta(days=1))
    make.therapy_session(owner, couple, held_on=TODAY + timedelta(days=14))
    make.therapy_session(owner, couple, held_on=TODAY + timedelta(days=7))
    login(client, owner.email)
    item = case_item(dashboard(client), "Heron")
    when = (TODAY + timedelta(days=7)).isoformat()
    assert f'Next session: <time datetime="{when}">{when}</time>' in item


def test_no_next_session_is_shown_when_none_is_set(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    make.therapy_session(owner, couple, held_on=TODAY - timedelta(days=7))
    login(client, owner.email)
    assert "Next session" not in case_item(dashboard(client), "Heron")


def test_a_case_that_needs_nothing_says_so(client, make):
    owner = make.therapist()
    make.couple(owner, label="Heron")
    login(client, owner.email)
    item = case_item(dashboard(client), "Heron")
    assert "Nothing needs you now." in item
    assert "case-needs-attention" not in item


def test_every_kind_of_item_at_once_in_the_order_of_urgency(client, app, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    late = overdue_assignment(owner, couple, make)
    check_in(late, couple, "a", reflection="Late but here.")
    disclose(app, make, owner, couple.partner_b, safety_afraid="yes")
    submit_intake(owner, couple, "a")
    draft_note(owner, couple, make)
    login(client, owner.email)
    page = dashboard(client)
    item = case_item(page, "Heron")
    assert todo_texts(page, "Heron") == [
        "1 intake submitted, not yet read",
        "1 session note not signed",
        "1 homework assignment overdue",
        "1 new reflection",
    ]
    assert item.index("Open risk: concern") < item.index("1 intake submitted")
    assert "Nothing needs you now." not in item


# --- ordering, filters, who sees what -------------------------------------------------


def test_cases_are_ordered_by_their_most_urgent_item(client, app, make):
    owner = make.therapist()
    quiet = make.couple(owner, label="Albatross")
    reflected = make.couple(owner, label="Bittern")
    overdue = make.couple(owner, label="Crane")
    noted = make.couple(owner, label="Dunlin")
    unread = make.couple(owner, label="Egret")
    flagged = make.couple(owner, label="Fulmar")
    exercise = give(owner, reflected, make, starts_on=TODAY, days=7)
    check_in(exercise, reflected, "a", reflection="We talked.")
    overdue_assignment(owner, overdue, make)
    draft_note(owner, noted, make)
    submit_intake(owner, unread, "b")
    disclose(app, make, owner, flagged.partner_a, safety_afraid="yes")
    login(client, owner.email)
    assert case_names(dashboard(client)) == [
        flagged.label,
        unread.label,
        noted.label,
        overdue.label,
        reflected.label,
        quiet.label,
    ]


def test_order_by_attention_puts_risk_then_the_most_urgent_kind_first() -> None:
    def line(label: str, **todo: int) -> CaseLine:
        return CaseLine(
            uuid.uuid4(), label, "active", date(2026, 1, 1), None, (), todo=ToDo(**todo)
        )

    lines = [
        line("quiet"),
        line("reflection", new_reflections=3),
        line("homework", overdue_homework=1, new_reflections=5),
        line("note", draft_notes=1),
        line("intake", unread_intakes=1),
        line("risk"),
        line("risk and note", draft_notes=2),
    ]
    levels = {lines[5].id: RiskLevel.CONCERN, lines[6].id: RiskLevel.CONCERN}
    ordered = [item.label for item in order_by_attention(lines, levels)]
    assert ordered == ["risk and note", "risk", "intake", "note", "homework", "reflection", "quiet"]


def test_the_attention_filter_shows_the_open_cases_that_need_something(client, make):
    owner = make.therapist()
    make.couple(owner, label="Quiet")
    busy = make.couple(owner, label="Busy")
    closed = make.couple(owner, label="Closed busy", status="closed")
    draft_note(owner, busy, make)
    draft_note(owner, closed, make)
    login(client, owner.email)
    page = dashboard(client, "attention")
    assert case_names(page) == ["Busy"]
    assert "1 open case needs you." in page
    assert 'href="/clinic/?show=attention" aria-current="page">Needs attention</a>' in page


def test_the_attention_filter_says_when_nothing_is_waiting(client, make):
    owner = make.therapist()
    make.couple(owner, label="Quiet")
    login(client, owner.email)
    page = dashboard(client, "attention")
    assert case_names(page) == []
    assert "Nothing needs you in your open cases now." in page


def test_the_status_filters_still_choose_by_status(client, make):
    owner = make.therapist()
    busy = make.couple(owner, label="Open busy")
    closed = make.couple(owner, label="Closed busy", status="closed")
    draft_note(owner, busy, make)
    draft_note(owner, closed, make)
    login(client, owner.email)
    assert case_names(dashboard(client)) == ["Open busy"]
    assert case_names(dashboard(client, "closed")) == ["Closed busy"]
    assert sorted(case_names(dashboard(client, "all"))) == ["Closed busy", "Open busy"]
    # A closed case's unsigned note still needs signing.
    assert todo_texts(dashboard(client, "closed"), "Closed busy") == ["1 session note not signed"]


def test_a_closed_case_owes_no_homework(client, make):
    owner = make.therapist()
    closed = make.couple(owner, label="Closed", status="closed")
    overdue_assignment(owner, closed, make)
    login(client, owner.email)
    assert todo_texts(dashboard(client, "closed"), "Closed") == []


def test_another_therapists_cases_are_never_listed_or_counted(client, make):
    owner, other = make.therapist(), make.therapist()
    mine = make.couple(owner, label="Mine")
    theirs = make.couple(other, label="Theirs")
    overdue_assignment(other, theirs, make)
    submit_intake(other, theirs, "a")
    draft_note(other, theirs, make)
    make.therapy_session(other, theirs, held_on=TODAY + timedelta(days=3))
    login(client, owner.email)
    for show in ("open", "attention", "closed", "all"):
        page = dashboard(client, show)
        assert "Theirs" not in page, show
        assert "not signed" not in page, show
        assert "Next session" not in page, show
    assert case_names(dashboard(client)) == [mine.label]


def test_no_word_a_partner_wrote_reaches_the_dashboard(client, app, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    exercise = give(owner, couple, make, starts_on=TODAY, days=7)
    submit_intake(owner, couple, "a")
    check_in(exercise, couple, "b", reflection="My private reflection, not shared.")
    check_in(exercise, couple, "a", reflection="A shared one.", share=True)
    disclose(app, make, owner, couple.partner_b, safety_afraid="yes", safety_note="Call first.")
    login(client, owner.email)
    page = dashboard(client)
    assert PRIVATE_WORDS not in page
    assert "My private reflection" not in page
    assert "A shared one." not in page
    assert "Call first." not in page
    # They were stored (and are the therapist's to read elsewhere): the test is not empty.
    answers = client.get(f"/clinic/couples/{couple.id}/partners/a/intake").text
    assert PRIVATE_WORDS in answers
    stored = db_session().scalars(sa.select(HomeworkCheckIn)).all()
    assert sorted(c.reflection for c in stored) == [
        "A shared one.",
        "My private reflection, not shared.",
    ]


def test_the_dashboard_renders_no_attribute_as_none(client, app, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    disclose(app, make, owner, couple.partner_b, safety_afraid="yes")
    draft_note(owner, couple, make)
    make.couple(owner, label="Quiet")
    login(client, owner.email)
    assert '="None"' not in dashboard(client)


def test_the_dashboard_itself_marks_nothing_seen(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    submit_intake(owner, couple, "a")
    login(client, owner.email)
    dashboard(client)
    dashboard(client, "attention")
    assert db_session().scalar(sa.select(sa.func.count(CaseSeen.id))) == 0
    assert todo_texts(dashboard(client), "Heron") == ["1 intake submitted, not yet read"]


# --- marking seen: one row per therapist and couple -----------------------------------


def test_opening_the_couple_page_twice_keeps_one_row_with_the_later_time(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    login(client, owner.email)
    client.get(f"/clinic/couples/{couple.id}")
    first = db_session().scalars(sa.select(CaseSeen)).one().seen_at
    db_session().rollback()
    client.get(f"/clinic/couples/{couple.id}")
    rows = db_session().scalars(sa.select(CaseSeen)).all()
    assert len(rows) == 1
    assert rows[0].seen_at > first
    assert rows[0].intake_a_read_at is None  # no intake was shown


def test_the_intake_page_marks_the_intake_read_but_not_the_couple_seen(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron")
    submit_intake(owner, couple, "b")
    login(client, owner.email)
    client.get(f"/clinic/couples/{couple.id}/partners/b/intake")
    row = db_session().scalars(sa.select(CaseSeen)).one()
    assert row.seen_at is None
    assert row.intake_a_read_at is None
    assert row.intake_b_read_at is not None


def test_an_unknown_role_is_refused(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    with app.test_request_context(), pytest.raises(ValueError, match="role"):
        mark_seen(owner, couple, utcnow(), intakes=["c"])


def test_a_purged_case_takes_its_seen_rows_with_it(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Heron", status="closed")
    login(client, owner.email)
    client.get(f"/clinic/couples/{couple.id}")
    assert db_session().scalar(sa.select(sa.func.count(CaseSeen.id))) == 1
    purge_case(couple.id)
    db_session().commit()
    assert db_session().scalar(sa.select(sa.func.count(CaseSeen.id))) == 0


# --- the pure parts -------------------------------------------------------------------


def test_items_say_their_counts_in_words_most_urgent_first() -> None:
    todo = ToDo(unread_intakes=2, draft_notes=1, overdue_homework=3, new_reflections=1)
    assert [(item.kind, item.count, item.text) for item in todo_items(todo)] == [
        ("intake", 2, "2 intakes submitted, not yet read"),
        ("note", 1, "1 session note not signed"),
        ("homework", 3, "3 homework assignments overdue"),
        ("reflection", 1, "1 new reflection"),
    ]


def test_a_case_with_only_a_next_session_needs_nothing() -> None:
    todo = ToDo(next_session=TODAY)
    assert todo.items == ()
    assert todo.needs_attention is False
    assert todo.urgency == len(TODO_KINDS)


def test_urgency_is_the_rank_of_the_most_urgent_item() -> None:
    assert ToDo(new_reflections=4, draft_notes=1).urgency == TODO_KINDS.index("note")


def test_the_next_session_in_words() -> None:
    day = date(2026, 12, 2)
    assert next_session_text(day, day) == "today"
    assert next_session_text(day + timedelta(days=1), day) == "tomorrow, 2026-12-03"
    assert next_session_text(day + timedelta(days=9), day) == "2026-12-11"


def test_overdue_counts_follow_the_homework_rule() -> None:
    couple, other = uuid.uuid4(), uuid.uuid4()
    once, daily, weekly = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    start, due, today = date(2026, 11, 1), date(2026, 11, 7), date(2026, 11, 10)
    rows = [
        (couple, once, "once", None, start, due, 0),  # partner a: none made
        (couple, once, "once", None, start, due, 1),  # partner b: made
        (couple, daily, "daily", None, start, due, 7),  # seven days, seven made
        (other, weekly, "weekly", 2, start, due, 1),  # twice a week for a week: one short
    ]
    assert overdue_counts(rows, today) == {couple: 1, other: 1}


def test_case_lines_carry_the_to_do_columns() -> None:
    case_id = uuid.uuid4()
    row = (case_id, "Heron", "active", date(2026, 1, 1), None, "Ana", "Ruiz", None, None)
    (line,) = case_lines([(*row, 1, None, 3, date(2026, 2, 1))], {case_id: 2})
    assert line.partner_names == ("Ana Ruiz",)
    assert line.todo == ToDo(
        unread_intakes=1,
        draft_notes=0,
        overdue_homework=2,
        new_reflections=3,
        next_session=date(2026, 2, 1),
    )


def test_needing_attention_keeps_risks_and_items() -> None:
    def line(label: str, risk: RiskLevel | None = None, **todo: int) -> CaseLine:
        return CaseLine(
            uuid.uuid4(), label, "active", date(2026, 1, 1), None, (), risk, ToDo(**todo)
        )

    lines = [line("quiet"), line("risk", RiskLevel.HIGH), line("note", draft_notes=1)]
    assert [item.label for item in needing_attention(lines)] == ["risk", "note"]


def test_the_attention_filter_selects_from_the_open_cases() -> None:
    assert status_filter("attention") == "open"
    assert status_filter("closed") == "closed"
    with pytest.raises(ValueError, match="unknown filter"):
        status_filter("nonsense")


def test_an_unknown_filter_shows_the_open_cases(client: FlaskClient, app: Flask, make) -> None:
    owner = make.therapist()
    make.couple(owner, label="Open one")
    make.couple(owner, label="Closed one", status="closed")
    login(client, owner.email)
    assert case_names(dashboard(client, "nonsense")) == ["Open one"]


def test_a_case_measured_twice_without_a_schedule_shows_its_improvement(
    client: FlaskClient, app: Flask, make
) -> None:
    """Only cases with a schedule or a repeated measure are loaded for the measures facts
    (measures/queries.dashboard_measures): one with results and no schedule is among them."""
    from datetime import UTC, datetime

    from reconnect_clinic.measures.operations import store_measure_result
    from reconnect_clinic.models import MeasureResult

    owner = make.therapist()
    couple = make.couple(owner, label="Measured twice", a="Sam", b="Alex")
    make.couple(owner, label="Not measured")
    first = datetime.now(UTC) - timedelta(days=60)
    for points, band, at in (
        ([2] * 7 + [1, 0], "moderately severe", first),
        ([1] * 7 + [0, 0], "mild", first + timedelta(days=56)),
    ):
        store_measure_result(
            MeasureResult(
                partner_id=couple.partner_a.id,
                instrument="phq9",
                total=sum(points),
                band=band,
                flags=[],
                item_points=points,
                administered_at=at,
            )
        )
    db_session().commit()
    login(client, owner.email)
    page = client.get("/clinic/").text
    line = re.search(rf"/couples/{couple.id}.*?</li>\s*</ul>", page, re.S)
    assert line is not None
    assert "Sam: PHQ-9" in line.group(0)
    assert "missed" not in line.group(0)
