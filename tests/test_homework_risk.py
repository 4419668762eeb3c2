"""Homework respects risk: the library's contraindications, enforced on suggestions and on
the assign form, overridable only with a written reason (sealed, audited without it); no
exercise preselected; wording that cannot feed control; calendars that name nothing."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
import sqlalchemy as sa

from reconnect_clinic import taxonomy as taxonomy_module
from reconnect_clinic.homework import library as library_module
from reconnect_clinic.homework.library import CONTRAINDICATIONS, LibraryError, load
from reconnect_clinic.homework.recommend import SELF_HARM_NOTE, suggest
from reconnect_clinic.models import AuditEvent, CustomExercise, HomeworkAssignment
from reconnect_clinic.risk import CONTRAINDICATION_TAGS, RiskKind, RiskStatus
from reconnect_clinic.risk.operations import AssessmentDetails, assess
from reconnect_clinic.state import db_session
from tests.helpers import PartnerBrowser, login, pdf_text, post_form
from tests.test_homework_library import find, write_variant

TODAY = date.today()  # noqa: DTZ011
TAXONOMY = taxonomy_module.load()
LIBRARY = library_module.load()
REASON = "Kestrel-override-reason 5521: seen both alone, fear is of her brother"
NOTE = "Pangolin-therapist-note 3390"

# Individual exercises that presume shared responsibility or reconciliation, which the
# issue names: forgiveness, seeing it from the other's side, owning your part.
IPV_INDIVIDUAL = {
    "unsent_letter_about_an_old_hurt",
    "seeing_it_from_their_side",
    "speaking_to_yourself_kindly",
}
# Exercises where a partner writes about themselves or the relationship.
WRITING = re.compile(r"\b(write|writes|writing|jot|letter|notes?)\b", re.IGNORECASE)


def _assign_form(**overrides: str) -> dict[str, str]:
    return {
        "exercise": "library:daily_check_in",
        "assignee": "both",
        "starts_on": TODAY.isoformat(),
        "due_on": (TODAY + timedelta(days=7)).isoformat(),
        "frequency": "once",
        "times_per_week": "",
        "note": "",
        **overrides,
    }


def _count(model: Any) -> int:
    return db_session().scalar(sa.select(sa.func.count()).select_from(model))


def _flagged_couple(app: Any, make: Any, *, safety: str = "yes") -> tuple[Any, Any]:
    """A couple whose partner A answered the safety questions ``safety`` (submitted)."""
    owner = make.therapist()
    couple = make.couple(owner)
    PartnerBrowser(app, make.intake_link(owner, couple.partner_a)).fill(
        make.intake_answers(frequency="4", safety=safety)
    )
    return owner, couple


def _error_beside(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    assert match, f"no error beside {field}"
    return match.group(1)


# --- the library's data -----------------------------------------------------------------


def test_every_tag_is_known_and_every_exercise_decided() -> None:
    assert set(CONTRAINDICATION_TAGS.values()) == CONTRAINDICATIONS
    for exercise in LIBRARY.exercises:
        assert set(exercise.contraindications) <= CONTRAINDICATIONS, exercise.slug


def test_joint_work_and_shared_responsibility_are_ruled_out_during_abuse() -> None:
    for exercise in LIBRARY.exercises:
        if exercise.mode == "together":
            assert "ipv" in exercise.contraindications, exercise.slug
    for slug in IPV_INDIVIDUAL:
        assert "ipv" in LIBRARY.get(slug).contraindications, slug
    # The forgiveness letter's own therapist note says so, and it holds for betrayal too.
    letter = LIBRARY.get("unsent_letter_about_an_old_hurt")
    assert "abuse" in letter.therapist_note
    assert set(letter.contraindications) == {"ipv", "self_harm", "active_affair"}
    # Trust rebuilt while an affair goes on is not trust: the trust ritual waits.
    assert "active_affair" in LIBRARY.get("small_promises_kept").contraindications


def test_some_individual_work_stays_open_during_abuse() -> None:
    # Self-care, emotional awareness and help-seeking are what a partner at risk needs.
    open_steps = {e.step for e in LIBRARY.exercises if "ipv" not in e.contraindications}
    assert {"practice_self_care", "seek_individual_therapy"} <= open_steps


def test_self_harm_rules_out_lonely_rumination_but_not_support() -> None:
    ruled = {e.slug for e in LIBRARY.exercises if "self_harm" in e.contraindications}
    assert {"unsent_letter_about_an_old_hurt", "noticing_my_own_patterns"} <= ruled
    assert "three_things_that_refill_you" not in ruled
    assert "thinking_about_a_therapist_of_my_own" not in ruled
    assert all(LIBRARY.get(slug).mode == "individual" for slug in ruled)


def test_every_writing_exercise_says_how_to_keep_it_private() -> None:
    writing = [
        e
        for e in LIBRARY.exercises
        if e.mode == "individual" and any(WRITING.search(line) for line in e.instructions)
    ]
    assert len(writing) >= 8
    for exercise in writing:
        assert "only you" in exercise.privacy, exercise.slug  # where to keep it
        assert "never have to show" in exercise.privacy, exercise.slug  # need not share


def test_no_partner_facing_line_asks_to_report_time_or_whereabouts() -> None:
    control = re.compile(
        r"text you when|let your partner know|home for dinner|when i leave|"
        r"tell (?:your partner|them) (?:where|when)|so they can help you keep",
        re.IGNORECASE,
    )
    for e in LIBRARY.exercises:
        for line in (e.title, e.purpose, *e.instructions, *e.reflection_prompts, e.privacy):
            assert not control.search(line), (e.slug, line)


# --- the loader's checks ----------------------------------------------------------------


def _set(slug: str, key: str, value: Any) -> Any:
    def mutate(data: dict[str, Any]) -> None:
        find(data, slug)[key] = value

    return mutate


def _drop(slug: str, key: str) -> Any:
    def mutate(data: dict[str, Any]) -> None:
        del find(data, slug)[key]

    return mutate


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(
            _set("three_feeling_notes", "contraindications", ["abuse"]),
            r"'three_feeling_notes'.*unknown tag 'abuse'",
            id="unknown tag",
        ),
        pytest.param(
            _drop("three_feeling_notes", "contraindications"),
            r"'contraindications' is missing",
            id="missing",
        ),
        pytest.param(
            _set("three_feeling_notes", "contraindications", "ipv"),
            r"'contraindications' is missing or not a list",
            id="not a list",
        ),
        pytest.param(
            _set("three_feeling_notes", "contraindications", ["ipv", "ipv"]),
            r"names a tag twice",
            id="twice",
        ),
        pytest.param(
            _set("daily_check_in", "contraindications", []),
            r"'daily_check_in'.*joint exercise must carry the 'ipv'",
            id="joint without ipv",
        ),
        pytest.param(
            _set("three_feeling_notes", "privacy", " "),
            r"'privacy' must be text",
            id="blank privacy",
        ),
    ],
)
def test_the_loader_checks_the_tags(tmp_path: Path, mutate: Any, message: str) -> None:
    with pytest.raises(LibraryError, match=message):
        load(write_variant(tmp_path, mutate))


def test_a_snapshot_from_before_contraindications_still_reads() -> None:
    snapshot = LIBRARY.get("daily_check_in").as_snapshot()
    del snapshot["contraindications"], snapshot["privacy"]
    old = library_module.Exercise.from_snapshot(snapshot)
    assert old.contraindications == ()


# --- suggestions (pure) -----------------------------------------------------------------


def _everything_high() -> dict[str, Any]:
    return {"concerns": {c.slug: {"score": 100} for c in TAXONOMY.concerns}}


@pytest.mark.parametrize("tag", sorted(CONTRAINDICATIONS))
def test_suggestions_leave_out_every_exercise_a_risk_rules_out(tag: str) -> None:
    high = _everything_high()
    # Every step is suggested: each concern high, and a measured improvement (the only
    # thing that proposes celebrating progress).
    improved = ("partner A's PHQ-9 15 → 7",)
    result = suggest(
        TAXONOMY,
        LIBRARY,
        high,
        high,
        ruled_out=frozenset({tag}),
        limit=15,
        improvements=improved,
    )
    offered = {e.slug for item in result.items for e in item.exercises}
    assert offered
    assert all(tag not in LIBRARY.get(slug).contraindications for slug in offered)
    assert result.notes
    unconstrained = suggest(TAXONOMY, LIBRARY, high, high, limit=15, improvements=improved)
    held = {e.slug for item in unconstrained.items for e in item.exercises} - offered
    assert held == {e.slug for e in LIBRARY.exercises if tag in e.contraindications}


def test_during_abuse_the_forgiveness_letter_and_perspective_taking_are_not_suggested() -> None:
    high = _everything_high()
    result = suggest(TAXONOMY, LIBRARY, high, high, ruled_out=frozenset({"ipv"}), limit=15)
    offered = {e.slug for item in result.items for e in item.exercises}
    assert not offered & IPV_INDIVIDUAL
    assert all(not item.joint_allowed for item in result.items)


def test_self_harm_changes_the_suggestions_but_keeps_joint_work() -> None:
    high = _everything_high()
    result = suggest(TAXONOMY, LIBRARY, high, high, ruled_out=frozenset({"self_harm"}), limit=15)
    offered = {e.slug for item in result.items for e in item.exercises}
    assert "unsent_letter_about_an_old_hurt" not in offered
    assert "daily_check_in" in offered
    assert result.notes == (SELF_HARM_NOTE,)


# --- suggestions and the assign form, through the views --------------------------------


def test_the_couple_page_suggests_nothing_a_safety_answer_rules_out(client, make, app):
    owner, couple = _flagged_couple(app, make)
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}").text
    suggested = set(re.findall(r"exercise=library(?:%3A|:)([a-z_]+)", page))
    assert suggested
    assert all("ipv" not in LIBRARY.get(slug).contraindications for slug in suggested)
    assert "Individual work first." in page


def test_the_assign_form_preselects_nothing(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/homework/new"
    page = client.get(url).text
    select = re.search(r'<select[^>]* id="exercise"[^>]*>(.*?)</select>', page).group(1)
    assert "selected" not in select
    assert select.startswith('<option value="">')
    untouched = post_form(client, url, _assign_form(exercise=""))
    assert untouched.status_code == 200
    assert _error_beside(untouched.text, "exercise") == "Please choose an exercise."
    assert _count(HomeworkAssignment) == 0


@pytest.mark.parametrize(
    ("exercise", "assignee"),
    [("library:daily_check_in", "both"), ("library:unsent_letter_about_an_old_hurt", "a")],
)
def test_a_contraindicated_exercise_is_refused_beside_the_field(
    client, make, app, exercise, assignee
):
    owner, couple = _flagged_couple(app, make)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/homework/new"
    form_page = client.get(url).text
    assert "on hold: safety" in form_page
    response = post_form(client, url, _assign_form(exercise=exercise, assignee=assignee))
    assert response.status_code == 200
    assert _error_beside(response.text, "exercise").startswith("On hold for this couple")
    assert _count(HomeworkAssignment) == 0


def test_an_override_with_a_reason_assigns_it_and_audits_without_the_reason(client, make, app):
    owner, couple = _flagged_couple(app, make)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/homework/new"
    response = post_form(
        client,
        url,
        _assign_form(exercise="library:daily_check_in", override_reason=REASON, note=NOTE),
    )
    assert response.status_code == 302, response.text
    assignment = db_session().scalars(sa.select(HomeworkAssignment)).one()
    assert assignment.contraindication_override == {"tags": ["ipv"], "reason": REASON}
    assert assignment.content["contraindications"] == ["ipv"]
    override = (
        db_session()
        .scalars(sa.select(AuditEvent).where(AuditEvent.action == "homework.override"))
        .one()
    )
    # The audit log is readable without the keys: no tag naming a risk, no reason.
    assert override.detail == {"exercise": "library:daily_check_in"}
    assert override.record_id == str(assignment.id)
    for event in db_session().scalars(sa.select(AuditEvent)):
        assert "Kestrel" not in json.dumps(event.detail), event.action
    # Stored sealed: the reason is not in the row as written.
    raw = (
        db_session()
        .execute(sa.text("SELECT contraindication_override FROM clinic_homework_assignment"))
        .scalar_one()
    )
    assert "Kestrel" not in raw
    # The therapist sees it with the assignment; the partners never do.
    assert REASON in client.get(f"/clinic/couples/{couple.id}").text
    homework = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    mine = homework.get().text
    assert "Ten-minute daily check-in" in mine
    assert "Kestrel" not in mine
    handout = client.get(f"/clinic/couples/{couple.id}/homework/{assignment.id}/handout.pdf")
    assert "Kestrel" not in pdf_text(handout.data)


def test_a_reason_made_of_spaces_is_no_override(client, make, app):
    owner, couple = _flagged_couple(app, make)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/homework/new"
    response = post_form(client, url, _assign_form(override_reason="   "))
    assert response.status_code == 200
    assert _error_beside(response.text, "exercise").startswith("On hold for this couple")
    assert _count(HomeworkAssignment) == 0


def test_open_work_needs_no_override_and_stores_none(client, make, app):
    owner, couple = _flagged_couple(app, make)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/homework/new"
    response = post_form(
        client,
        url,
        _assign_form(exercise="library:three_feeling_notes", assignee="a", override_reason="x"),
    )
    assert response.status_code == 302, response.text
    assignment = db_session().scalars(sa.select(HomeworkAssignment)).one()
    assert assignment.contraindication_override is None
    actions = set(db_session().scalars(sa.select(AuditEvent.action)))
    assert "homework.override" not in actions


def test_acknowledged_still_holds_and_resolved_lifts_it(client, make, app):
    owner, couple = _flagged_couple(app, make)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/homework/new"
    partner = couple.partner_a
    assess(
        partner,
        owner,
        AssessmentDetails(RiskKind.SAFETY, RiskStatus.ACKNOWLEDGED, plan="Seen alone."),
    )
    db_session().commit()
    assert post_form(client, url, _assign_form()).status_code == 200
    assess(partner, owner, AssessmentDetails(RiskKind.SAFETY, RiskStatus.RESOLVED, plan="Safe."))
    db_session().commit()
    assert post_form(client, url, _assign_form()).status_code == 302
    assert _count(HomeworkAssignment) == 1


def test_self_harm_in_an_unsubmitted_intake_holds_the_letter_back(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    answers = make.intake_answers()["wellbeing"]
    answers["phq9_9"] = "2"
    sent = PartnerBrowser(app, make.intake_link(owner, couple.partner_b)).post("wellbeing", answers)
    assert sent.status_code == 302
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/homework/new"
    letter = _assign_form(exercise="library:unsent_letter_about_an_old_hurt", assignee="b")
    refused = post_form(client, url, letter)
    assert "thoughts of self-harm" in _error_beside(refused.text, "exercise")
    assert post_form(client, url, _assign_form()).status_code == 302  # joint work is open


def test_an_affair_the_therapist_records_holds_the_trust_ritual(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    assess(
        couple.partner_b,
        owner,
        AssessmentDetails(RiskKind.ACTIVE_AFFAIR, RiskStatus.OPEN, plan="Still in contact."),
    )
    db_session().commit()
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/homework/new"
    promises = _assign_form(
        exercise="library:small_promises_kept", frequency="weekly", times_per_week="1"
    )
    refused = post_form(client, url, promises)
    assert "an affair still going on" in _error_beside(refused.text, "exercise")
    assert post_form(client, url, _assign_form()).status_code == 302


def test_a_therapists_copy_keeps_the_originals_contraindications(client, make, app):
    owner, couple = _flagged_couple(app, make)
    copy = CustomExercise(
        therapist_id=owner.id,
        step="practice_forgiveness",
        based_on="unsent_letter_about_an_old_hurt",
        title="My letter",
        purpose="p",
        mode="individual",
        frequency="once",
        times_per_week=0,
        duration_minutes=20,
        instructions=["Write."],
        reflection_prompts=["How?"],
        therapist_note="",
    )
    db_session().add(copy)
    db_session().commit()
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/homework/new"
    response = post_form(client, url, _assign_form(exercise=f"custom:{copy.id}", assignee="a"))
    assert _error_beside(response.text, "exercise").startswith("On hold for this couple")


def test_the_letter_tells_the_partner_how_to_keep_it_private(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    make.assignment(owner, couple, exercise="unsent_letter_about_an_old_hurt", assignee="a")
    page = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework").get().text
    assert "Keeping it private:" in page
    assert "never have to show or send it to your partner" in page


# --- calendars --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exercise", "assignee", "summary"),
    [
        ("unsent_letter_about_an_old_hurt", "a", "Time for yourself"),
        ("daily_check_in", "both", "Time together"),
    ],
)
def test_a_calendar_file_names_nothing_clinical(client, make, app, exercise, assignee, summary):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    response = post_form(
        client,
        f"/clinic/couples/{couple.id}/homework/new",
        _assign_form(exercise=f"library:{exercise}", assignee=assignee, note=NOTE),
    )
    assert response.status_code == 302, response.text
    assignment = db_session().scalars(sa.select(HomeworkAssignment)).one()
    a = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    ics = a.get(f"{assignment.id}.ics")
    events = list(icalendar.Calendar.from_ical(ics.data).walk("VEVENT"))
    assert events
    assert {str(e["summary"]) for e in events} == {summary}
    text = ics.data.decode()
    unfolded = text.replace("\r\n ", "")
    assert assignment.title not in unfolded
    assert NOTE not in unfolded
    for word in ("therapist", "therapy", "homework", "clinic", "exercise", "letter", "hurt"):
        assert word not in unfolded.lower(), word
    assert couple.partner_a.first_name not in unfolded
    assert "homework" not in ics.headers["Content-Disposition"]
