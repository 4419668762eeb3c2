"""Homework end to end: the therapist assigns, partners check in through their links,
the therapist sees adherence and reflections."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import icalendar
import sqlalchemy as sa
from markupsafe import escape

from reconnect_clinic.models import (
    AuditEvent,
    CustomExercise,
    HomeworkAssignment,
    HomeworkCheckIn,
    SuggestionDecision,
)
from reconnect_clinic.state import db_session
from tests.helpers import PartnerBrowser, csrf_from, link_ref_from, login, post_form

TODAY = date.today()  # noqa: DTZ011


def _count(model) -> int:
    return db_session().scalar(sa.select(sa.func.count()).select_from(model))


def _assign_form(**overrides):
    return {
        "exercise": "library:daily_check_in",
        "assignee": "both",
        "starts_on": TODAY.isoformat(),
        "due_on": (TODAY + timedelta(days=7)).isoformat(),
        "frequency": "once",
        "times_per_week": "",
        "note": "Start small.",
        **overrides,
    }


def test_assign_homework_from_the_couple_page(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/homework/new"
    assert "Ten-minute daily check-in" in client.get(url).text
    response = post_form(client, url, _assign_form())
    assert response.status_code == 302
    assignment = db_session().scalars(sa.select(HomeworkAssignment)).one()
    assert assignment.title == "Ten-minute daily check-in"
    assert assignment.content["instructions"]  # the exact text, kept with the assignment
    assert assignment.therapist_note == "Start small."
    page = client.get(f"/clinic/couples/{couple.id}").text
    assert "Ten-minute daily check-in" in page
    assert f"first check-in due {(TODAY + timedelta(days=7)).isoformat()}" in page
    assert "0 of 0" not in page
    assert "homework.assign" in set(db_session().scalars(sa.select(AuditEvent.action)))


def test_bad_assignments_get_clear_errors_and_save_nothing(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/homework/new"
    cases = [
        ({"due_on": (TODAY - timedelta(days=1)).isoformat()}, "cannot be before the start"),
        ({"frequency": "weekly"}, "how many times a week"),
        ({"frequency": "once", "times_per_week": "3"}, "Leave this empty"),
        ({"frequency": "weekly", "times_per_week": "9"}, "Between 1 and 7"),
        ({"frequency": "hourly"}, "Not a valid choice"),
        ({"exercise": "library:no_such_thing"}, "Not a valid choice"),
        ({"assignee": "a"}, "done together, so it is for both partners"),
        ({"starts_on": "soon"}, "Please give the date as YYYY-MM-DD."),
        ({"due_on": ""}, "Please give a due date."),
    ]
    for change, message in cases:
        response = post_form(client, url, _assign_form(**change))
        assert response.status_code == 200, change
        assert message in response.text, (change, message)
        assert "Start small." in response.text  # what was typed is kept
    assert _count(HomeworkAssignment) == 0


def test_another_therapists_couple_and_custom_exercise_are_404(client, make):
    owner, other = make.therapist(), make.therapist()
    couple = make.couple(owner)
    assignment = make.assignment(owner, couple)
    mine = CustomExercise(
        therapist_id=owner.id,
        step="improve_communication",
        title="Owner's own",
        purpose="p",
        mode="individual",
        frequency="once",
        times_per_week=0,
        duration_minutes=5,
        instructions=["x"],
        reflection_prompts=["y"],
        therapist_note="",
    )
    db_session().add(mine)
    db_session().commit()
    login(client, other.email)
    token = csrf_from(client.get("/clinic/").text)
    for url in (
        f"/clinic/couples/{couple.id}/homework/new",
        f"/clinic/couples/{couple.id}/homework.csv",
        f"/clinic/couples/{couple.id}/homework/{assignment.id}/handout.pdf",
        f"/clinic/exercises/{mine.id}/edit",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/clinic/couples/{couple.id}/homework/{assignment.id}/close",
        f"/clinic/exercises/{mine.id}/delete",
    ):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    # The other therapist cannot assign the owner's custom exercise to their own couple.
    theirs = make.couple(other)
    response = post_form(
        client,
        f"/clinic/couples/{theirs.id}/homework/new",
        _assign_form(exercise=f"custom:{mine.id}", assignee="a"),
    )
    assert response.status_code == 200
    assert "Not a valid choice" in response.text
    assert "Owner&#39;s own" not in client.get("/clinic/exercises").text


def test_partners_check_in_and_the_therapist_sees_adherence(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    joint = make.assignment(owner, couple, exercise="daily_check_in", frequency="daily", days=6)
    solo = make.assignment(owner, couple, exercise="three_feeling_notes", assignee="b")
    a = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    b = PartnerBrowser(app, make.homework_link(owner, couple.partner_b), "homework")

    page_a = a.get().text
    assert joint.title in page_a
    assert solo.title not in page_a  # B's exercise is B's
    assert solo.title in b.get().text

    def check_in(browser, assignment, **fields):
        page = browser.get().text
        key = re.search(
            rf'action="[^"]*/{assignment.id}/check-in".*?name="client_key" type="hidden" '
            rf'value="([^"]+)"',
            page,
            re.S,
        ).group(1)
        data = {
            "completion": "done",
            "helpfulness": "4",
            "client_key": key,
            "link_ref": link_ref_from(page),
            **fields,
        }
        return browser.client.post(f"{browser.base}/{assignment.id}/check-in", data=data), data

    sent, data = check_in(a, joint, reflection="A private thought")
    assert sent.status_code == 302
    again = a.client.post(f"{a.base}/{joint.id}/check-in", data=data)  # a double click
    assert again.status_code == 302
    assert _count(HomeworkCheckIn) == 1
    check_in(b, joint, reflection="B shares this", share_with_partner="y")

    # Each partner sees the other's shared reflection, never a private one.
    assert "B shares this" in a.get().text
    assert "A private thought" not in b.get().text
    # B cannot check in on A-only work or reach A's address.
    assert b.client.get(a.base + "/").status_code == 404

    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}").text
    assert "Both checked in" in page
    assert "A private thought" in page
    # Each reflection is labelled with who may see it ("A private thought" holds the word).
    assert re.search(r"·\s+private</p>", page), "no reflection is labelled private"
    assert "B shares this" in page
    assert "shared with partner" in page
    assert "1 of 1 due" in page

    exported = client.get(f"/clinic/couples/{couple.id}/homework.csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][0] == "case"
    assert len(rows) == 4  # header + joint (A, B) + solo (B)
    caseload = client.get("/clinic/homework").text
    assert str(escape(couple.label)) in caseload
    assert joint.title in caseload
    assert client.get("/clinic/homework.csv").status_code == 200


def test_check_in_errors_keep_the_reflection(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    assignment = make.assignment(owner, couple)
    a = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    page = a.get().text
    response = a.client.post(
        f"{a.base}/{assignment.id}/check-in",
        data={
            "reflection": "kept though I forgot a box",
            "link_ref": link_ref_from(page),
            "client_key": "k" * 20,
        },
    )
    assert response.status_code == 200
    assert "Please choose an answer." in response.text
    assert "kept though I forgot a box" in response.text
    assert _count(HomeworkCheckIn) == 0


def test_check_in_on_a_closed_assignment_is_kept_and_explained(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    assignment = make.assignment(owner, couple)
    a = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    page = a.get().text  # the page was open before the therapist closed the exercise
    login(client, owner.email)
    token = csrf_from(client.get(f"/clinic/couples/{couple.id}").text)
    client.post(
        f"/clinic/couples/{couple.id}/homework/{assignment.id}/close", data={"csrf_token": token}
    )
    sent = a.client.post(
        f"{a.base}/{assignment.id}/check-in",
        data={
            "completion": "partly",
            "reflection": "late but honest",
            "link_ref": link_ref_from(page),
            "client_key": "late-key-0123456789",
        },
        follow_redirects=True,
    )
    assert "was closed on" in sent.text
    assert "your therapist will see it" in sent.text
    check_in = db_session().scalars(sa.select(HomeworkCheckIn)).one()
    assert check_in.late
    assert check_in.reflection == "late but honest"


def test_check_in_for_someone_elses_assignment_is_404(make, app):
    owner = make.therapist()
    couple, other_couple = make.couple(owner), make.couple(owner)
    mine_only = make.assignment(owner, couple, exercise="three_feeling_notes", assignee="b")
    elsewhere = make.assignment(owner, other_couple)
    make.assignment(owner, couple)  # one of A's own, so A's page has a form
    a = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    ref = link_ref_from(a.get().text)
    for target in (mine_only, elsewhere):
        response = a.client.post(
            f"{a.base}/{target.id}/check-in",
            data={"completion": "done", "link_ref": ref, "client_key": "x" * 20},
        )
        assert response.status_code == 404
    assert a.client.get(f"{a.base}/{elsewhere.id}.ics").status_code == 404
    assert _count(HomeworkCheckIn) == 0


def test_calendar_download(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    assignment = make.assignment(owner, couple, frequency="weekly", times_per_week=2, days=13)
    a = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    response = a.get(f"{assignment.id}.ics")
    assert response.headers["Content-Type"].startswith("text/calendar")
    events = list(icalendar.Calendar.from_ical(response.data).walk("VEVENT"))
    assert len(events) == 1  # one repeating event (tests/test_homework_export.py)
    assert "RRULE" in events[0]
    assert couple.partner_a.first_name not in response.text
    assert assignment.title not in response.text


def test_suggestions_with_reasons_dismiss_and_accept(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    PartnerBrowser(app, make.intake_link(owner, couple.partner_a)).fill(
        make.intake_answers(frequency="4")
    )
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}").text
    assert "Suggested healing steps" in page
    assert "Suggested because partner A scored high on" in page
    step = re.search(r"/homework/suggestions/([a-z_]+)/dismiss", page).group(1)
    token = csrf_from(page)
    client.post(
        f"/clinic/couples/{couple.id}/homework/suggestions/{step}/dismiss",
        data={"csrf_token": token},
    )
    assert (
        f"/homework/suggestions/{step}/dismiss"
        not in client.get(f"/clinic/couples/{couple.id}").text
    )
    assert db_session().scalars(sa.select(SuggestionDecision)).one().decision == "dismissed"
    assert (
        client.post(
            f"/clinic/couples/{couple.id}/homework/suggestions/not_a_step/dismiss",
            data={"csrf_token": token},
        ).status_code
        == 404
    )
    # Accepting: the assign page carries the reason, and the assignment keeps it.
    accept = re.search(r'href="(/clinic/couples/[^"]+/homework/new\?[^"]+)"', page).group(1)
    accept = accept.replace("&amp;", "&")
    form_page = client.get(accept).text
    assert "Suggested because" in form_page
    reason = re.search(r'name="reason" value="([^"]+)"', form_page).group(1)
    exercise = re.search(r"exercise=library(?:%3A|:)([a-z_]+)", accept).group(1)
    response = post_form(
        client,
        accept,
        _assign_form(exercise=f"library:{exercise}", reason=reason.replace("&#39;", "'")),
    )
    assert response.status_code == 302, response.text
    assert db_session().scalars(sa.select(HomeworkAssignment)).one().suggestion_reason


def test_safety_flag_suggests_no_joint_exercise(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    PartnerBrowser(app, make.intake_link(owner, couple.partner_a)).fill(
        make.intake_answers(frequency="4", safety="yes")
    )
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}").text
    assert "Individual work first." in page
    assert "(together)" not in page.split("Suggested healing steps")[1].split("Assignments")[0]


def test_editing_an_exercise_never_changes_what_was_given(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    new = "/clinic/exercises/new?from=three_feeling_notes"
    assert "(my version)" in client.get(new).text
    form = {
        "step": "increase_emotional_awareness",
        "title": "My feeling notes",
        "purpose": "Notice feelings.",
        "mode": "individual",
        "frequency": "daily",
        "times_per_week": "",
        "duration_minutes": "5",
        "instructions": "Write one feeling.\nNote what set it off.",
        "reflection_prompts": "What did you notice?",
        "therapist_note": "",
    }
    assert post_form(client, new, form).status_code == 302
    custom = db_session().scalars(sa.select(CustomExercise)).one()
    assert custom.based_on == "three_feeling_notes"
    assert custom.instructions == ["Write one feeling.", "Note what set it off."]
    url = f"/clinic/couples/{couple.id}/homework/new"
    response = post_form(
        client, url, _assign_form(exercise=f"custom:{custom.id}", assignee="a", frequency="daily")
    )
    assert response.status_code == 302
    edit = f"/clinic/exercises/{custom.id}/edit"
    assert (
        post_form(client, edit, {**form, "instructions": "Something else entirely."}).status_code
        == 302
    )
    given = db_session().scalars(sa.select(HomeworkAssignment)).one()
    assert given.content["instructions"] == ["Write one feeling.", "Note what set it off."]
    # Bad input on the exercise form: clear messages, nothing saved.
    bad = post_form(
        client,
        "/clinic/exercises/new",
        {**form, "title": "", "instructions": "", "duration_minutes": "999"},
    )
    assert bad.status_code == 200
    assert "Please give a title." in bad.text
    assert "Please give at least one step." in bad.text
    assert _count(CustomExercise) == 1


def test_csv_cells_cannot_run_as_formulas(client, make):
    owner = make.therapist()
    couple = make.couple(owner, label='=HYPERLINK("http://x")')
    make.assignment(owner, couple)
    login(client, owner.email)
    rows = list(
        csv.reader(io.StringIO(client.get(f"/clinic/couples/{couple.id}/homework.csv").text))
    )
    assert rows[1][0].startswith("'=")


def test_homework_dates_out_of_bounds_are_refused_beside_the_field(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/homework/new"
    cases = [
        (
            {"starts_on": "1900-01-01", "due_on": (TODAY + timedelta(days=7)).isoformat()},
            "starts_on",
            "Homework can start at most a year back: please check the year.",
        ),
        (
            {"starts_on": "9999-01-01", "due_on": "9999-01-02"},
            "starts_on",
            "Homework can start at most a year ahead: please check the year.",
        ),
        (
            {"due_on": "9999-12-31"},
            "due_on",
            "Homework can run for at most a year: please choose an earlier due date.",
        ),
    ]
    for change, name, message in cases:
        response = post_form(client, url, _assign_form(**change))
        assert response.status_code == 200, change
        error = re.search(rf'<p class="error" id="{name}-error">([^<]*)</p>', response.text)
        assert error.group(1) == message
        assert f'value="{change[name]}"' in response.text
    assert _count(HomeworkAssignment) == 0


def test_an_over_long_reflection_is_refused_and_kept_whole(make, app):
    """20,000 characters pasted into a 4,000-character reflection: the page says so beside
    the field and shows all 20,000 again (no maxlength cuts them), and nothing is saved."""
    owner = make.therapist()
    couple = make.couple(owner)
    assignment = make.assignment(owner, couple)
    a = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    page = a.get().text
    textarea = re.search(r'<textarea[^>]*name="reflection"[^>]*>', page).group(0)
    assert " maxlength=" not in textarea
    assert 'data-maxlength="4000"' in textarea
    assert "Up to 4,000 characters." in page
    pasted = "".join(f"{n:05d} " for n in range(3334))[:20000]
    assert len(pasted) == 20000
    response = a.client.post(
        f"{a.base}/{assignment.id}/check-in",
        data={
            "completion": "done",
            "reflection": pasted,
            "link_ref": link_ref_from(page),
            "client_key": "k" * 20,
        },
    )
    assert response.status_code == 200
    error = re.search(r'<p class="error" id="([^"]*reflection)-error">([^<]*)</p>', response.text)
    assert error.group(2) == "Please keep this under 4000 characters."
    shown = re.search(r"<textarea[^>]*>\s*([^<]*)</textarea>", response.text).group(1)
    assert shown == pasted
    assert _count(HomeworkCheckIn) == 0
