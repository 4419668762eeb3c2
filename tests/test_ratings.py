"""Session ratings end to end: the therapist sends rating links from the session page,
each partner who attended rates privately, and split-alliance sessions are flagged."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta

import sqlalchemy as sa

from reconnect_clinic.models import (
    AllianceFlag,
    AuditEvent,
    ClientLink,
    SessionRating,
    TherapySession,
)
from reconnect_clinic.state import db_session
from tests.helpers import PartnerBrowser, csrf_from, link_ref_from, login, pdf_text
from tests.test_email import smtp  # noqa: F401 - the SMTP server fixture

TODAY = date.today()  # noqa: DTZ011


def _answers(heard, matters, approach, overall):
    return {
        "item_heard": str(heard),
        "item_what_matters": str(matters),
        "item_approach": str(approach),
        "item_overall": str(overall),
    }


def _count(model) -> int:
    return db_session().scalar(sa.select(sa.func.count()).select_from(model))


def _ratings() -> list[SessionRating]:
    return list(db_session().scalars(sa.select(SessionRating)))


def _session_url(couple, therapy_session) -> str:
    return f"/clinic/couples/{couple.id}/sessions/{therapy_session.id}"


def test_therapist_sends_each_partner_a_link_shown_once(app, client, make):
    owner = make.therapist()
    couple = make.couple(owner, a="Rowan", b="Sasha")
    held = make.therapy_session(owner, couple, held_on=TODAY - timedelta(days=1))
    login(client, owner.email)
    page = client.get(_session_url(couple, held))
    assert "Send rating links" in page.text
    sent = client.post(
        f"{_session_url(couple, held)}/rating-links", data={"csrf_token": csrf_from(page.text)}
    )
    assert sent.status_code == 303
    shown = client.get(sent.headers["Location"])
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    assert shown.text.count("/clinic/r/") == 2
    assert "Rowan Morgan" in shown.text
    assert "Sasha Morgan" in shown.text
    again = client.get(sent.headers["Location"])
    assert again.status_code == 303  # shown once only
    assert _count(ClientLink) == 2
    events = (
        db_session()
        .scalars(sa.select(AuditEvent.action).where(AuditEvent.action == "link.create"))
        .all()
    )
    assert len(events) == 2


def test_no_link_for_a_partner_who_was_not_there(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    held = make.therapy_session(owner, couple)
    held.attendance = "a"
    db_session().commit()
    tokens = make.rating_links(owner, held)
    assert set(tokens) == {"a"}


def test_a_partner_rates_once_and_it_is_sealed_and_audited(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    held = make.therapy_session(owner, couple)
    tokens = make.rating_links(owner, held)
    browser = PartnerBrowser(app, tokens["a"], "rating")
    form = browser.get("")
    assert form.status_code == 200
    assert "I felt heard and understood" in form.text
    ref = link_ref_from(form.text)
    sent = browser.client.post(browser.start, data={**_answers(9, 8, 7, 8), "link_ref": ref})
    assert sent.status_code == 303
    # The same page sent again (Back, then send): stored once.
    again = browser.client.post(browser.start, data={**_answers(2, 2, 2, 2), "link_ref": ref})
    assert again.status_code == 303
    ratings = _ratings()
    assert len(ratings) == 1
    rating = ratings[0]
    assert rating.answers == {"heard": 9, "what_matters": 8, "approach": 7, "overall": 8}
    assert rating.score == 8.0
    assert rating.measure == "session_check"
    raw = db_session().execute(sa.text("SELECT answers, score FROM clinic_session_rating")).one()
    assert "heard" not in raw[0]
    assert "8.0" not in raw[1]
    actions = db_session().scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("rating.submit") == 1
    done = browser.get("")
    assert "Thank you" in done.text
    assert 'name="item_heard"' not in done.text


def test_the_form_keeps_answers_and_shows_errors_beside_the_field(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    held = make.therapy_session(owner, couple)
    browser = PartnerBrowser(app, make.rating_links(owner, held)["a"], "rating")
    ref = link_ref_from(browser.get("").text)
    answers = _answers(6, 6, 6, 6)
    del answers["item_overall"]
    shown = browser.client.post(browser.start, data={**answers, "link_ref": ref})
    assert shown.status_code == 200
    assert "Please choose a number." in shown.text
    assert 'checked id="item_heard-6"' in shown.text
    assert _ratings() == []


def test_the_other_partner_never_sees_a_rating(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    held = make.therapy_session(owner, couple)
    tokens = make.rating_links(owner, held)
    homework_b = make.homework_link(owner, couple.partner_b)
    a = PartnerBrowser(app, tokens["a"], "rating")
    ref = link_ref_from(a.get("").text)
    a.client.post(a.start, data={**_answers(3, 3, 3, 3), "link_ref": ref})
    b = PartnerBrowser(app, tokens["b"], "rating")
    page_b = b.get("").text
    assert "checked" not in page_b  # a fresh form, nothing of A's
    assert "already" not in page_b
    assert "Alex" not in page_b  # the other partner is not named
    homework = PartnerBrowser(app, homework_b, "homework").get("").text
    assert "rating" not in homework.lower()
    # Partner A's browser cannot open B's page, nor B's browser A's.
    assert a.client.get(b.start).status_code == 404
    assert b.client.get(a.start).status_code == 404


def test_a_closed_case_refuses_its_links_with_a_clear_page(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    held = make.therapy_session(owner, couple)
    tokens = make.rating_links(owner, held)
    browser = PartnerBrowser(app, tokens["a"], "rating")
    ref = link_ref_from(browser.get("").text)
    couple.status = "closed"
    couple.closed_on = TODAY
    db_session().commit()
    page = browser.get("")
    assert page.status_code == 410
    assert "has been closed" in page.text
    posted = browser.client.post(browser.start, data={**_answers(5, 5, 5, 5), "link_ref": ref})
    assert posted.status_code == 410
    assert _ratings() == []


def test_no_links_are_made_for_a_closed_case(app, client, make):
    owner = make.therapist()
    couple = make.couple(owner, status="closed")
    held = make.therapy_session(owner, couple)
    login(client, owner.email)
    page = client.get(_session_url(couple, held))
    assert "Send rating links" not in page.text
    csrf = csrf_from(page.text)
    sent = client.post(f"{_session_url(couple, held)}/rating-links", data={"csrf_token": csrf})
    assert sent.status_code == 303
    assert _count(ClientLink) == 0


def test_a_partner_who_was_not_there_cannot_rate_it(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    held = make.therapy_session(owner, couple)
    tokens = make.rating_links(owner, held)
    browser = PartnerBrowser(app, tokens["b"], "rating")
    ref = link_ref_from(browser.get("").text)
    # The therapist corrects the attendance after the links went out: B was not there.
    db_session().get(TherapySession, held.id).attendance = "a"
    db_session().commit()
    forged = browser.client.post(browser.start, data={**_answers(9, 9, 9, 9), "link_ref": ref})
    assert forged.status_code == 403
    assert "Only a partner who was at a session can rate it" in forged.text
    assert _ratings() == []


def test_a_post_without_a_valid_link_reference_is_refused(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    held = make.therapy_session(owner, couple)
    browser = PartnerBrowser(app, make.rating_links(owner, held)["a"], "rating")
    browser.get("")
    forged = browser.client.post(browser.start, data={**_answers(9, 9, 9, 9), "link_ref": "x"})
    assert forged.status_code == 404
    assert _ratings() == []


def test_the_generic_link_route_makes_no_rating_link(app, client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}")
    made = client.post(
        f"/clinic/couples/{couple.id}/partners/a/links/rating",
        data={"csrf_token": csrf_from(page.text)},
    )
    assert made.status_code == 404


def _rate(app, token, *values):
    browser = PartnerBrowser(app, token, "rating")
    ref = link_ref_from(browser.get("").text)
    sent = browser.client.post(browser.start, data={**_answers(*values), "link_ref": ref})
    assert sent.status_code == 303, sent.text[:2000]


def test_split_alliance_is_flagged_and_shown_to_the_therapist(app, client, make):
    owner = make.therapist()
    couple = make.couple(owner, a="Rowan", b="Sasha")
    first = make.therapy_session(owner, couple, held_on=TODAY - timedelta(days=14))
    second = make.therapy_session(owner, couple, held_on=TODAY - timedelta(days=7))
    tokens = make.rating_links(owner, first)
    _rate(app, tokens["a"], 8, 8, 8, 8)
    _rate(app, tokens["b"], 8, 7, 8, 7)
    assert _count(AllianceFlag) == 0
    tokens = make.rating_links(owner, second)
    _rate(app, tokens["a"], 9, 9, 9, 9)
    _rate(app, tokens["b"], 4, 5, 4, 5)  # 4.5 against 9.0, and down 3 from 7.5
    kinds = sorted((f.kind, f.role) for f in db_session().scalars(sa.select(AllianceFlag)))
    assert kinds == [("drop", "b"), ("split", "")]
    assert all(
        f.therapy_session_id == second.id for f in db_session().scalars(sa.select(AllianceFlag))
    )
    actions = db_session().scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("alliance.flag") == 2
    login(client, owner.email)
    session_page = client.get(_session_url(couple, second)).text
    assert "Split-alliance alert" in session_page
    assert "Sasha's rating fell by 2 or more" in session_page
    assert "4.5" in session_page
    first_page = client.get(_session_url(couple, first)).text
    assert "Split-alliance alert" not in first_page
    couple_page = client.get(f"/clinic/couples/{couple.id}").text
    assert "Session ratings" in couple_page
    assert "⚠ split alliance" in couple_page
    assert couple_page.count("⚠ split alliance") == 1


def test_the_dashboard_raises_a_split_alliance_alert_until_the_couple_is_seen(app, client, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Harbour Case")
    held = make.therapy_session(owner, couple, held_on=TODAY - timedelta(days=2))
    login(client, owner.email)
    assert "split-alliance" not in client.get("/clinic/").text
    tokens = make.rating_links(owner, held)
    _rate(app, tokens["a"], 9, 9, 9, 9)
    _rate(app, tokens["b"], 3, 4, 3, 4)
    dashboard = client.get("/clinic/").text
    assert "1 split-alliance alert in session ratings" in dashboard
    client.get(f"/clinic/couples/{couple.id}")
    assert "split-alliance" not in client.get("/clinic/").text


def _split_case(app, make):
    owner = make.therapist()
    couple = make.couple(owner, a="Rowan", b="Sasha")
    held = make.therapy_session(owner, couple, held_on=TODAY - timedelta(days=3))
    tokens = make.rating_links(owner, held)
    _rate(app, tokens["a"], 9, 9, 9, 9)
    _rate(app, tokens["b"], 4, 4, 4, 4)
    return owner, couple


def test_the_progress_report_shows_ratings_with_split_alliance_marked(app, client, make):
    owner, couple = _split_case(app, make)
    login(client, owner.email)
    preview = client.get(f"/clinic/couples/{couple.id}/progress-report")
    assert preview.status_code == 200
    assert "Session ratings" in preview.text
    assert "<strong>Split alliance</strong>" in preview.text
    assert "9.0" in preview.text
    pdf = client.get(f"/clinic/couples/{couple.id}/progress-report.pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.data)
    assert "Session ratings" in text
    assert "Split alliance" in text


def test_each_partners_ratings_are_only_in_their_own_private_folder(app, client, make):
    owner, couple = _split_case(app, make)
    ids = {p.role: str(p.id) for p in couple.partners}
    login(client, owner.email)
    for audience in ("a", "b", None):
        query = f"?for={audience}" if audience else ""
        exported = client.get(f"/clinic/couples/{couple.id}/export.zip{query}")
        assert exported.status_code == 200
        archive = zipfile.ZipFile(io.BytesIO(exported.data))
        for role in ("a", "b") if audience is None else (audience,):
            private = f"private-to-partner-{role}/private-record.json"
            (rating,) = json.loads(archive.read(private))["session_ratings"]
            assert rating["partner_id"] == ids[role]
            assert rating["score"] == (9.0 if role == "a" else 4.0)
            assert rating["answers"]["overall"] == (9 if role == "a" else 4)
        record = json.loads(archive.read("record.json"))
        # The split this case has is flagged (and audited) in the clinic, never exported.
        assert not [e for e in record["audit"] if e["action"].startswith("alliance.")]
        for name in archive.namelist():
            if name.endswith("/private-record.json"):
                continue
            body = archive.read(name)
            text = pdf_text(body) if name.endswith(".pdf") else body.decode("utf-8")
            # Nothing of either partner's rating outside their own private record.
            assert "session_check" not in text, (audience, name)
            assert "Session ratings" not in text, (audience, name)
            assert "Split alliance" not in text, (audience, name)


def test_rating_links_are_emailed_each_to_its_own_partner(app, client, make, smtp):  # noqa: F811
    owner = make.therapist()
    couple = make.couple(owner, a="Rowan", b="Sasha")
    held = make.therapy_session(owner, couple)
    login(client, owner.email)
    page = client.get(_session_url(couple, held)).text
    assert "Also email each partner their link" in page
    sent = client.post(
        f"{_session_url(couple, held)}/rating-links",
        data={"csrf_token": csrf_from(page), "send_email": "y"},
    )
    shown = client.get(sent.headers["Location"]).text
    assert "Emailed to rowan@example.org." in shown
    assert "Emailed to sasha@example.org." in shown
    by_recipient = {tuple(to): body for to, body in smtp.messages}
    assert set(by_recipient) == {("rowan@example.org",), ("sasha@example.org",)}
    assert "Hello Rowan" in by_recipient[("rowan@example.org",)]
    assert "Sasha" not in by_recipient[("rowan@example.org",)]
    assert "/clinic/r/" in by_recipient[("sasha@example.org",)]
