"""A partner's intake through their private link, end to end with the test client."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from reconnect_clinic.models import (
    AuditEvent,
    ClientLink,
    IntakePage,
    IntakeResponse,
    MeasureResult,
    utcnow,
)
from reconnect_clinic.state import db_session
from tests.conftest import csrf_from, login

XSS = "<script>alert(1)</script>"


def _open(client, token):
    response = client.get(f"/clinic/i/{token}")
    assert response.status_code == 302, response.text
    assert "/clinic/intake/" in response.headers["Location"]
    return client.get(response.headers["Location"])


def _post_page(client, page, values, action="next"):
    form = client.get(f"/clinic/intake/{page}")
    assert form.status_code == 200, form.status_code
    data = {**values, "csrf_token": csrf_from(form.text), "action": action}
    return client.post(f"/clinic/intake/{page}", data=data)


def _fill_all(client, answers):
    last = None
    for page, values in answers.items():
        last = _post_page(client, page, values)
        assert last.status_code == 302, (page, last.text[:3000])
    return last


def test_whole_intake_for_both_partners(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    token_a = make.intake_link(owner, couple.partner_a)
    token_b = make.intake_link(owner, couple.partner_b)

    partner_a = app.test_client()
    start = _open(partner_a, token_a)
    assert start.status_code == 302  # resume sends to the first page
    assert start.headers["Location"].endswith("/clinic/intake/about")
    page = partner_a.get("/clinic/intake/about")
    assert "Step 1 of 7" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    answers_a = make.intake_answers(frequency="4", text="We drifted apart.")
    done = _fill_all(partner_a, answers_a)
    assert done.headers["Location"].endswith("/clinic/intake/done")
    thanks = partner_a.get("/clinic/intake/done")
    assert "Thank you" in thanks.text
    assert "We drifted apart." in thanks.text

    partner_b = app.test_client()
    _open(partner_b, token_b)
    _fill_all(partner_b, make.intake_answers(frequency="0", measure_pick="last"))

    responses = db_session().scalars(sa.select(IntakeResponse)).all()
    assert len(responses) == 2
    assert all(r.status == "submitted" and r.scores for r in responses)
    assert all(r.consent_name == "Alex Morgan" and r.consent_at for r in responses)
    assert db_session().scalar(sa.select(sa.func.count()).select_from(MeasureResult)) == 6
    links = db_session().scalars(sa.select(ClientLink)).all()
    assert all(link.used_at is not None for link in links)

    therapist = app.test_client()
    login(therapist, owner.email)
    page = therapist.get(f"/clinic/couples/{couple.id}")
    assert page.status_code == 200
    assert "Signs and causes, side by side" in page.text
    assert "Where you see things most differently" in page.text
    assert "Submitted" in page.text
    assert "We drifted apart." in page.text
    for measure in ("CSI-16", "PHQ-9", "GAD-7"):
        assert measure in page.text
    actions = set(db_session().scalars(sa.select(AuditEvent.action)))
    assert {"link.open", "intake.submit", "intake.view"} <= actions


def test_resume_after_lost_session_keeps_everything(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    answers = make.intake_answers(text="Saved before the tab closed")
    first = app.test_client()
    _open(first, token)
    _post_page(first, "about", answers["about"])
    _post_page(first, "signs", answers["signs"])
    # Half a page typed, then "save and finish later".
    partial = dict(list(answers["background"].items())[:4])
    assert _post_page(first, "background", partial, action="save").status_code == 302

    # A new browser (the tab closed, the session lost) opens the same link again.
    second = app.test_client()
    resumed = _open(second, token)
    assert resumed.headers["Location"].endswith("/clinic/intake/background")
    page = second.get("/clinic/intake/background")
    for name, value in partial.items():
        assert re.search(
            rf'<input checked id="{name}-\d+" name="{name}" (required )?type="radio" '
            rf'value="{value}">',
            page.text,
        ), name
    untouched = list(answers["background"])[4]
    assert f'checked id="{untouched}-' not in page.text
    about = second.get("/clinic/intake/about")
    assert "Saved before the tab closed" in about.text


def test_invalid_page_keeps_what_was_typed(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    _open(client, token)
    values = {"reasons": "Kept even though the page has errors", "hopes": ""}
    response = _post_page(client, "about", values)
    assert response.status_code == 200
    assert "Please choose an answer." in response.text
    assert "Kept even though the page has errors" in response.text
    saved = db_session().scalars(sa.select(IntakePage)).one()
    assert saved.values["reasons"] == "Kept even though the page has errors"
    assert saved.complete is False


def test_autosave_and_back_save_a_draft(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    _open(client, token)
    response = _post_page(client, "about", {"hopes": "autosaved words"}, action="autosave")
    assert response.status_code == 204
    assert db_session().scalars(sa.select(IntakePage)).one().values["hopes"] == "autosaved words"
    response = _post_page(client, "signs", {}, action="back")
    assert response.headers["Location"].endswith("/clinic/intake/about")


def test_submitting_twice_stores_one_response(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    _open(client, token)
    answers = make.intake_answers()
    consent = answers.pop("consent")
    _fill_all(client, answers)
    csrf = csrf_from(client.get("/clinic/intake/consent").text)
    # A double click: the same consent page sent twice.
    for _ in range(2):
        sent = client.post(
            "/clinic/intake/consent", data={**consent, "csrf_token": csrf, "action": "next"}
        )
        assert sent.status_code == 302
        assert sent.headers["Location"].endswith("/clinic/intake/done")
    assert db_session().scalar(sa.select(sa.func.count()).select_from(IntakeResponse)) == 1
    assert db_session().scalar(sa.select(sa.func.count()).select_from(MeasureResult)) == 3
    assert "already sent" in client.get("/clinic/intake/done").text
    # A submitted intake is read-only: pages redirect to the thank-you page, and a post
    # changes nothing.
    page = client.get("/clinic/intake/about")
    assert page.status_code == 302 and page.headers["Location"].endswith("/intake/done")
    client.post("/clinic/intake/about", data={"csrf_token": csrf, "hopes": "changed later"})
    response = db_session().scalars(sa.select(IntakeResponse)).one()
    assert "changed later" not in str(response.page_values())


def test_submit_with_a_page_missing_goes_back_to_it(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    _open(client, token)
    answers = make.intake_answers()
    del answers["wellbeing"]
    for page, values in answers.items():
        response = _post_page(client, page, values)
    assert response.headers["Location"].endswith("/clinic/intake/wellbeing")
    assert db_session().scalars(sa.select(IntakeResponse)).one().status == "draft"


def test_used_expired_and_revoked_links(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    _open(client, token)
    _fill_all(client, make.intake_answers())
    # Used: still opens, read-only.
    used = app.test_client()
    assert _open(used, token).headers["Location"].endswith("/clinic/intake/done")

    expired_token = make.intake_link(owner, couple.partner_b)
    link = (
        db_session()
        .scalars(sa.select(ClientLink).where(ClientLink.partner_id == couple.partner_b.id))
        .one()
    )
    link.expires_at = utcnow() - timedelta(minutes=1)
    db_session().commit()
    response = app.test_client().get(f"/clinic/i/{expired_token}")
    assert response.status_code == 410
    assert "expired" in response.text
    assert couple.partner_b.first_name not in response.text

    revoked_token = make.intake_link(owner, couple.partner_b)
    fresh = app.test_client()
    _open(fresh, revoked_token)
    newest = (
        db_session()
        .scalars(
            sa.select(ClientLink)
            .where(ClientLink.partner_id == couple.partner_b.id)
            .order_by(ClientLink.created_at.desc())
        )
        .first()
    )
    newest.revoked_at = utcnow()
    db_session().commit()
    # Revoking takes effect at once, even for a browser already inside the intake.
    assert fresh.get("/clinic/intake/about").status_code == 410
    assert app.test_client().get(f"/clinic/i/{revoked_token}").status_code == 410


def test_unknown_token_is_a_plain_404_and_bad_tries_are_limited(client, make, app):
    response = client.get("/clinic/i/not-a-real-token-0123456789abcdef")
    assert response.status_code == 404
    assert "This link does not work" in response.text
    assert response.headers["Referrer-Policy"] == "no-referrer"
    app.extensions["reconnect_clinic"].bad_link_limiter.reset()
    limit = 20
    try:
        for _ in range(limit):
            client.get("/clinic/i/not-a-real-token-0123456789abcdef")
        assert client.get("/clinic/i/another-wrong-token-0123456789").status_code == 429
        # A good link from the same address is refused too while the limit holds.
        owner = make.therapist()
        couple = make.couple(owner)
        token = make.intake_link(owner, couple.partner_a)
        assert client.get(f"/clinic/i/{token}").status_code == 429
    finally:
        app.extensions["reconnect_clinic"].bad_link_limiter.reset()


def test_no_link_session_gets_the_plain_page(client):
    response = client.get("/clinic/intake/about")
    assert response.status_code == 404
    assert "open the link your therapist sent you again" in response.text


def test_one_partner_cannot_reach_the_other_partners_answers(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    token_a = make.intake_link(owner, couple.partner_a)
    token_b = make.intake_link(owner, couple.partner_b)
    partner_b = app.test_client()
    _open(partner_b, token_b)
    _fill_all(partner_b, make.intake_answers(safety="yes", text="B private words"))

    partner_a = app.test_client()
    _open(partner_a, token_a)
    for page in ("about", "safety", "signs"):
        text = partner_a.get(f"/clinic/intake/{page}").text
        assert "B private words" not in text
    # A's link gives no way into therapist pages or B's answers.
    for url in (
        f"/clinic/couples/{couple.id}",
        f"/clinic/couples/{couple.id}/partners/b/intake",
    ):
        assert partner_a.get(url).status_code == 302  # to the therapist login
    # A's answers go to A's own response, never B's.
    _post_page(partner_a, "about", {"hopes": "A words"}, action="save")
    rows = db_session().scalars(sa.select(IntakeResponse)).all()
    b_response = next(r for r in rows if r.partner_id == couple.partner_b.id)
    assert "A words" not in str(b_response.page_values())


def test_safety_flag_is_prominent_for_the_therapist_only(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    partner = app.test_client()
    _open(partner, token)
    answers = make.intake_answers(safety="yes", measure_pick="last")
    answers["safety"]["safety_note"] = "Only for the therapist"
    _fill_all(partner, answers)

    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}").text
    assert "Needs your attention" in page
    assert "Safety concern" in page
    assert "Thoughts of self-harm reported" in page
    assert "Only for the therapist" in page


def test_free_text_is_escaped_everywhere(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    partner = app.test_client()
    _open(partner, token)
    answers = make.intake_answers(text=XSS, safety="yes")
    answers["safety"]["safety_note"] = XSS
    answers["consent"]["signature"] = XSS
    _post_page(partner, "about", answers["about"], action="save")
    assert XSS not in partner.get("/clinic/intake/about").text
    _fill_all(partner, answers)
    assert XSS not in partner.get("/clinic/intake/done").text
    login(client, owner.email)
    for url in (
        f"/clinic/couples/{couple.id}",
        f"/clinic/couples/{couple.id}/partners/a/intake",
    ):
        html = client.get(url).text
        assert XSS not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_stale_form_token_loses_nothing(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    _open(client, token)
    client.get("/clinic/intake/about")
    response = client.post(
        "/clinic/intake/about",
        data={"csrf_token": "stale", "action": "next", "reasons": "typed for an hour"},
    )
    assert response.status_code == 200
    assert "typed for an hour" in response.text
    assert "press the button again" in response.text
    assert db_session().scalar(sa.select(sa.func.count()).select_from(IntakePage)) == 0


def test_therapist_makes_and_revokes_links(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}")
    token = csrf_from(page.text)
    made = client.post(
        f"/clinic/couples/{couple.id}/partners/a/links/intake", data={"csrf_token": token}
    )
    assert made.status_code == 200
    assert "This is the only time the full link is shown" in made.text
    assert "/clinic/i/" in made.text
    link = db_session().scalars(sa.select(ClientLink)).one()
    url_token = made.text.split("/clinic/i/")[1].split('"')[0]
    assert link.token_hash != url_token and url_token not in link.token_hash
    # A second link replaces the first.
    client.post(f"/clinic/couples/{couple.id}/partners/a/links/intake", data={"csrf_token": token})
    db_session().expire_all()
    links = db_session().scalars(sa.select(ClientLink).order_by(ClientLink.created_at)).all()
    assert len(links) == 2 and links[0].revoked_at is not None and links[1].revoked_at is None
    revoke = client.post(
        f"/clinic/couples/{couple.id}/links/{links[1].id}/revoke", data={"csrf_token": token}
    )
    assert revoke.status_code == 302
    db_session().expire_all()
    assert db_session().get(ClientLink, links[1].id).revoked_at is not None


def test_other_therapist_cannot_make_or_revoke_links(client, make, app):
    owner, other = make.therapist(), make.therapist()
    couple = make.couple(owner)
    make.intake_link(owner, couple.partner_a)
    link = db_session().scalars(sa.select(ClientLink)).one()
    login(client, other.email)
    token = csrf_from(client.get("/clinic/").text)
    assert (
        client.post(
            f"/clinic/couples/{couple.id}/partners/a/links/intake", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/clinic/couples/{couple.id}/links/{link.id}/revoke", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert client.get(f"/clinic/couples/{couple.id}/partners/a/intake").status_code == 404
    assert db_session().scalar(sa.select(sa.func.count()).select_from(ClientLink)) == 1
