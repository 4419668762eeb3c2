"""The partner's side of risk (issue #14): support offered on the page right after a
disclosure, safe use of a shared device (quick exit, a neutral title, saved safety answers
never shown back, the thank-you page without the safety and wellbeing pages), and the
safety questions themselves."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from reconnect_clinic.intake import summary
from reconnect_clinic.intake.content import SAFETY_CHOICES, page_spec, pages_for
from reconnect_clinic.intake.scoring import FLAG_SAFETY, FLAG_SAFETY_DISCUSS, safety_flags
from reconnect_clinic.models import IntakePage
from reconnect_clinic.risk import DisclosureSource, RiskKind, RiskLevel, intake_disclosures
from reconnect_clinic.risk.resources import configured
from reconnect_clinic.state import db_session, get_state
from reconnect_clinic.taxonomy import load
from tests.helpers import PartnerBrowser, link_ref_from, login

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SUPPORT = 'id="support-title"'
HOTLINE = "National Domestic Violence Hotline"
LIFELINE = "988 Suicide &amp; Crisis Lifeline"
NOTE = "He reads my messages every night"
NEW_QUESTIONS = (
    "safety_insulted",
    "safety_strangled",
    "safety_sexual",
    "safety_weapon",
    "safety_own_force",
)
EXIT_LINK = '<a class="button quick-exit-button" href="/clinic/leave" data-quick-exit'
CHECKED_SAFETY = re.compile(r'<input checked id="safety_')


def _safety_spec():
    return page_spec(load(), "safety")


def _all_no() -> dict[str, str]:
    return {q.name: "no" for q in _safety_spec().questions if q.kind == "radio"}


def _wellbeing(item_9: str) -> dict[str, str]:
    values = {q.name: "0" for q in page_spec(load(), "wellbeing").questions}
    values["phq9_9"] = item_9
    return values


def _stored(page: str) -> IntakePage:
    db_session().expire_all()
    return db_session().scalars(sa.select(IntakePage).where(IntakePage.page == page)).one()


@pytest.fixture
def partner(app, make) -> PartnerBrowser:
    owner = make.therapist()
    couple = make.couple(owner)
    return PartnerBrowser(app, make.intake_link(owner, couple.partner_a))


# --- support on the page right after a disclosure ----------------------------------------


def test_a_draft_yes_shows_abuse_services_on_the_next_page_once(partner):
    saved = partner.post("safety", {"safety_afraid": "yes"}, action="save")
    assert saved.headers["Location"].endswith("/safety")
    page = partner.get("safety").text
    assert SUPPORT in page
    assert HOTLINE in page
    assert 'href="tel:18007997233"' in page
    assert LIFELINE not in page
    assert 'call <a href="tel:911">911</a>' in page
    assert SUPPORT not in partner.get("safety").text  # offered once, not on every page


def test_a_yes_then_continue_shows_support_on_the_following_page(partner):
    sent = partner.post("safety", {**_all_no(), "safety_hurt": "yes"})
    assert sent.headers["Location"].endswith("/consent")
    page = partner.get("consent").text
    assert SUPPORT in page
    assert HOTLINE in page


def test_talking_in_person_counts_as_a_disclosure(partner):
    partner.post("safety", {**_all_no(), "safety_weapon": "discuss"})
    assert HOTLINE in partner.get("consent").text


def test_a_safety_note_with_every_answer_no_shows_support(partner):
    partner.post("safety", {**_all_no(), "safety_note": NOTE})
    page = partner.get("consent").text
    assert SUPPORT in page
    assert HOTLINE in page
    assert NOTE not in page


def test_item_9_in_a_draft_shows_self_harm_services(partner):
    sent = partner.post("wellbeing", _wellbeing("1"))
    assert sent.headers["Location"].endswith("/safety")
    page = partner.get("safety").text
    assert SUPPORT in page
    assert LIFELINE in page
    assert HOTLINE not in page


def test_both_kinds_show_both(partner):
    partner.post("wellbeing", _wellbeing("2"))
    partner.post("safety", {**_all_no(), "safety_strangled": "yes"})
    page = partner.get("consent").text
    assert LIFELINE in page
    assert HOTLINE in page


def test_pages_after_pages_without_a_disclosure_show_no_support(partner, make):
    answers = make.intake_answers()
    partner.post("about", answers["about"])
    assert SUPPORT not in partner.get("signs").text
    partner.post("wellbeing", _wellbeing("0"))
    assert SUPPORT not in partner.get("safety").text
    partner.post("safety", _all_no())
    assert SUPPORT not in partner.get("consent").text


def test_an_earlier_disclosure_is_not_offered_again_after_another_page(partner, make):
    partner.post("safety", {"safety_afraid": "yes"}, action="save")
    assert SUPPORT in partner.get("safety").text
    partner.post("about", make.intake_answers()["about"])
    assert SUPPORT not in partner.get("signs").text
    # Sending the safety page again, unchanged, discloses nothing new either.
    partner.post("safety", {"safety_afraid": "yes"}, action="save")
    assert SUPPORT not in partner.get("safety").text


def test_an_autosaved_yes_shows_support_on_the_next_page(partner):
    ref = link_ref_from(partner.get("safety").text)
    url = f"{partner.base}/safety"
    answers = {**_all_no(), "safety_controlled": "yes", "link_ref": ref}
    assert partner.client.post(url, data={**answers, "action": "autosave"}).status_code == 204
    # The page is then sent as it is: nothing new reaches the server, but the disclosure
    # the draft saved is still offered support on the page that follows.
    sent = partner.client.post(url, data={**answers, "action": "next"})
    assert sent.headers["Location"].endswith("/consent")
    assert HOTLINE in partner.get("consent").text


def test_a_page_with_an_error_after_a_disclosure_shows_support_itself(partner):
    sent = partner.post("safety", {"safety_afraid": "yes"})  # the other questions missing
    assert sent.status_code == 200
    assert "Please choose an answer." in sent.text
    assert HOTLINE in sent.text


def test_the_thank_you_page_offers_support_after_submission_once(partner, make):
    answers = make.intake_answers(measure_pick="first")
    answers["wellbeing"]["phq9_9"] = "1"
    done = partner.fill(answers)
    assert done.headers["Location"].endswith("/done")
    page = partner.get("done").text
    assert SUPPORT in page
    assert LIFELINE in page
    assert HOTLINE not in page
    # Opened again later (perhaps by someone else): nothing hints at what was answered.
    assert SUPPORT not in partner.get("done").text


def test_the_thank_you_page_after_no_disclosure_offers_nothing(partner, make):
    partner.fill(make.intake_answers(safety="no", measure_pick="first"))
    assert SUPPORT not in partner.get("done").text


def test_the_practices_country_decides_the_services(partner, app, monkeypatch):
    monkeypatch.setattr(get_state(app), "crisis_support", configured("GB"))
    partner.post("safety", {"safety_afraid": "yes"}, action="save")
    page = partner.get("safety").text
    assert "0808 2000 247" in page
    assert HOTLINE not in page
    assert 'call <a href="tel:999">999</a>' in page
    assert "press 55" in page


def test_own_force_shows_services_for_changing_it(partner, app, monkeypatch):
    monkeypatch.setattr(get_state(app), "crisis_support", configured("GB"))
    partner.post("safety", {**_all_no(), "safety_own_force": "yes"})
    page = partner.get("consent").text
    assert "Respect Phoneline" in page
    assert "0808 2000 247" not in page


def test_a_practices_own_list_is_shown(partner, app, monkeypatch):
    own = [
        {
            "name": "Harbour Crisis Line",
            "kinds": ["safety"],
            "about": "Our town's own line.",
            "call": "0800 123 456",
        }
    ]
    monkeypatch.setattr(get_state(app), "crisis_support", configured("generic", own))
    partner.post("safety", {"safety_afraid": "yes"}, action="save")
    page = partner.get("safety").text
    assert "Harbour Crisis Line" in page
    assert 'href="tel:0800123456"' in page
    assert HOTLINE not in page
    assert "call your local emergency number or go to the nearest emergency department" in page


# --- saved safety answers are never shown back ------------------------------------------


def _save_every_yes(partner) -> dict[str, str]:
    values = {**{name: "yes" for name in _all_no()}, "safety_note": NOTE}
    assert partner.post("safety", values, action="save").status_code == 302
    return values


def test_revisiting_the_safety_page_shows_it_unanswered(partner):
    _save_every_yes(partner)
    page = partner.get("safety").text
    assert not CHECKED_SAFETY.search(page)
    assert NOTE not in page
    assert "your answers were saved" in page
    # Saved, all the same.
    assert _stored("safety").values["safety_afraid"] == "yes"


def test_a_first_visit_says_nothing_about_earlier_answers(partner):
    assert "your answers were saved" not in partner.get("safety").text


def test_sending_the_untouched_page_loses_nothing(partner):
    values = _save_every_yes(partner)
    sent = partner.post("safety", {})  # every question left as shown: blank
    assert sent.headers["Location"].endswith("/consent")
    stored = _stored("safety")
    assert stored.values == values
    assert stored.complete is True


def test_a_new_answer_replaces_the_saved_one_and_a_blank_keeps_it(partner):
    _save_every_yes(partner)
    partner.post("safety", {"safety_afraid": "no", "safety_note": "Written later"}, "save")
    stored = _stored("safety").values
    assert stored["safety_afraid"] == "no"
    assert stored["safety_hurt"] == "yes"
    assert stored["safety_weapon"] == "yes"
    assert stored["safety_note"] == "Written later"


@pytest.mark.parametrize("posted", ["maybe", " ", ""])
def test_an_answer_outside_the_options_keeps_the_saved_one(partner, posted):
    _save_every_yes(partner)
    partner.post("safety", {"safety_afraid": posted, "safety_note": "   "}, "save")
    stored = _stored("safety").values
    assert stored["safety_afraid"] == "yes"
    assert stored["safety_note"] == NOTE


def test_a_page_sent_back_with_an_error_shows_only_what_was_just_chosen(partner):
    _save_every_yes(partner)
    sent = partner.post("safety", {"safety_hurt": "no", "safety_note": "x" * 9000})
    assert sent.status_code == 200
    assert "Please keep this under" in sent.text
    assert CHECKED_SAFETY.findall(sent.text) == ['<input checked id="safety_']
    assert '<input checked id="safety_hurt-0"' in sent.text
    assert NOTE not in sent.text
    assert "your answers were saved" in sent.text


def test_a_first_visit_with_an_error_keeps_what_was_chosen(partner):
    sent = partner.post("safety", {"safety_afraid": "yes"})
    assert sent.status_code == 200
    assert '<input checked id="safety_afraid-1"' in sent.text


def test_no_partner_page_shows_saved_safety_answers_or_the_note(partner, make, app):
    answers = make.intake_answers(safety="yes", measure_pick="last")
    answers["safety"]["safety_note"] = NOTE
    consent = answers.pop("consent")
    seen = []
    for page, values in answers.items():
        partner.post(page, values, action="save")
        seen += [partner.get(p).text for p in [*answers, "consent"]]  # all, after each save
    partner.fill({"consent": consent})
    seen += [partner.get("done").text, partner.get("done").text]
    for html in seen:
        assert NOTE not in html
        assert not CHECKED_SAFETY.search(html)
    item_9 = page_spec(load(), "wellbeing").question("phq9_9").label
    done = partner.get("done").text
    for label in [*(q.label for q in _safety_spec().questions), item_9]:
        assert label not in done


def test_the_thank_you_page_leaves_out_the_safety_and_wellbeing_pages(partner, make):
    partner.fill(make.intake_answers(safety="yes", measure_pick="last", text="our words"))
    done = partner.get("done").text
    taxonomy = load()
    assert "our words" in done
    assert "About you and your relationship" in done
    for slug in ("safety", "wellbeing"):
        spec = page_spec(taxonomy, slug)
        assert f"<h2>{spec.title}</h2>" not in done
        for question in spec.questions:
            assert question.label not in done, question.name


# --- safe on a shared device ------------------------------------------------------------


def test_every_partner_page_has_a_quick_exit_that_works_without_script(partner, make, app):
    answers = make.intake_answers()
    for page in answers:
        assert EXIT_LINK in partner.get(page).text, page
    partner.fill(answers)
    assert EXIT_LINK in partner.get("done").text
    owner = make.therapist()
    couple = make.couple(owner)
    make.assignment(owner, couple)
    homework = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    assert EXIT_LINK in homework.get().text
    problem = app.test_client().get("/clinic/i/not-a-real-token-0123456789abcdef")
    assert EXIT_LINK in problem.text


def test_therapist_pages_have_no_quick_exit(make, client):
    owner = make.therapist()
    make.couple(owner)
    login(client, owner.email)
    assert "data-quick-exit" not in client.get("/clinic/").text


def test_quick_exit_leaves_for_a_neutral_site_and_forgets_the_links(partner, app, make):
    assert partner.get("about").status_code == 200
    owner = make.therapist()
    other = make.couple(owner)
    opened = partner.client.get(f"/clinic/i/{make.intake_link(owner, other.partner_b)}")
    second = opened.headers["Location"].rstrip("/")
    left = partner.client.get("/clinic/leave")
    assert left.status_code == 302
    assert left.headers["Location"] == "https://www.google.com/"
    # Going back to any partner page in this browser finds only the plain page.
    for url in (f"{partner.base}/about", f"{partner.base}/safety", f"{second}/about"):
        back = partner.client.get(url)
        assert back.status_code == 404
        assert "This link does not work" in back.text


def test_the_quick_exit_address_is_the_practices_choice(partner, app, monkeypatch):
    monkeypatch.setitem(app.config, "RECONNECT_CLINIC_QUICK_EXIT_URL", "https://weather.example/")
    assert partner.client.get("/clinic/leave").headers["Location"] == "https://weather.example/"


def test_quick_exit_also_drops_support_waiting_to_be_shown(partner):
    partner.post("safety", {"safety_afraid": "yes"}, action="save")
    partner.client.get("/clinic/leave")
    with partner.client.session_transaction() as session:
        assert "reconnect_clinic_support_due" not in session


def test_the_support_due_in_the_session_names_nothing_disclosed(partner):
    partner.post("wellbeing", _wellbeing("3"))
    with partner.client.session_transaction() as session:
        due = session["reconnect_clinic_support_due"]
    assert list(due.values()) == [True]
    assert "self_harm" not in str(due)


def test_the_safety_page_has_a_neutral_title(partner, make):
    page = partner.get("safety").text
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert title.startswith("A few more questions ·")
    assert "safety" not in title.lower()
    assert "<h1>A few more questions</h1>" in page
    for slug in make.intake_answers():
        html = partner.get(slug).text
        assert "Your safety" not in html
        assert ">A few more questions<" in html  # in the step list of every page


def test_the_safety_page_form_is_not_restored_by_the_browser(partner):
    page = partner.get("safety").text
    assert re.search(r'<form method="post" novalidate class="intake-form" autocomplete="off"', page)


# --- the questions ------------------------------------------------------------------------


def test_the_safety_page_asks_what_matters_most():
    spec = _safety_spec()
    names = [q.name for q in spec.questions]
    for name in (
        "safety_afraid",
        "safety_hurt",
        "safety_controlled",
        "safety_threatened",
        "safety_note",
        *NEW_QUESTIONS,
    ):
        assert name in names
    assert names[-1] == "safety_note"
    assert spec.private
    assert spec.write_only
    assert not spec.recap
    for question in spec.questions[:-1]:
        assert question.kind == "radio", question.name
        assert question.choices == SAFETY_CHOICES, question.name
        assert question.label.startswith("In the past 12 months"), question.name
    hurt = spec.question("safety_hurt").label.lower()
    assert "chok" not in hurt
    assert "strangl" not in hurt
    assert "strangled" in spec.question("safety_strangled").label
    assert "weapon" in spec.question("safety_weapon").label
    assert "sexual" in spec.question("safety_sexual").label
    assert "insulted" in spec.question("safety_insulted").label
    assert "have you" in spec.question("safety_own_force").label
    assert "12 months" in spec.intro


def test_the_wellbeing_page_is_left_out_of_the_recap_only():
    spec = page_spec(load(), "wellbeing")
    assert not spec.recap
    assert not spec.write_only
    assert [p.slug for p in pages_for(load()) if not p.recap] == [
        "wellbeing",
        "safety",
    ]


@pytest.mark.parametrize("name", NEW_QUESTIONS)
def test_each_new_question_answered_yes_is_a_safety_disclosure(name):
    (found,) = intake_disclosures({"safety": {**_all_no(), name: "yes"}}, at=T0)
    assert found.kind is RiskKind.SAFETY
    assert found.item == name
    assert found.source is DisclosureSource.SAFETY_ANSWER
    high = name in ("safety_strangled", "safety_weapon")
    assert found.level is (RiskLevel.HIGH if high else RiskLevel.CONCERN)


@pytest.mark.parametrize("name", NEW_QUESTIONS)
def test_each_new_question_raises_the_intake_flags(name):
    assert safety_flags({"safety": {**_all_no(), name: "yes"}}) == {FLAG_SAFETY}
    assert safety_flags({"safety": {**_all_no(), name: "discuss"}}) == {FLAG_SAFETY_DISCUSS}


def test_the_summary_names_the_new_questions_behind_a_flag():
    taxonomy = load()
    spec = _safety_spec()
    values = {"safety": {**_all_no(), "safety_strangled": "yes", "safety_sexual": "discuss"}}
    (detail,) = summary._flag_details(taxonomy, [FLAG_SAFETY], values)
    assert dict(detail.answers) == {
        spec.question("safety_strangled").label: "Yes",
        spec.question("safety_sexual").label: "I would rather talk about this in person",
    }
