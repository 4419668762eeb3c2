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
from tests.helpers import PartnerBrowser, csrf_from, link_ref_from, login

XSS = "<script>alert(1)</script>"


def _count(model) -> int:
    return db_session().scalar(sa.select(sa.func.count()).select_from(model))


def _responses() -> list[IntakeResponse]:
    db_session().expire_all()
    return list(db_session().scalars(sa.select(IntakeResponse)))


def test_whole_intake_for_both_partners(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner_a = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    start = partner_a.get()
    assert start.status_code == 302  # resume sends to the first page
    assert start.headers["Location"].endswith("/about")
    page = partner_a.get("about")
    assert "Step 1 of 7" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Frame-Options"] == "DENY"
    done = partner_a.fill(make.intake_answers(frequency="4", text="We drifted apart."))
    assert done.headers["Location"].endswith("/done")
    thanks = partner_a.get("done")
    assert "Thank you" in thanks.text
    assert "We drifted apart." in thanks.text

    partner_b = PartnerBrowser(app, make.intake_link(owner, couple.partner_b))
    partner_b.fill(make.intake_answers(frequency="0", measure_pick="last"))

    responses = _responses()
    assert len(responses) == 2
    assert [r.status for r in responses] == ["submitted", "submitted"]
    assert all(r.scores for r in responses)
    assert [r.consent_name for r in responses] == ["Alex Morgan", "Alex Morgan"]
    assert all(r.consent_at for r in responses)
    assert _count(MeasureResult) == 6
    assert all(link.used_at is not None for link in db_session().scalars(sa.select(ClientLink)))

    therapist = app.test_client()
    login(therapist, owner.email)
    page = therapist.get(f"/clinic/couples/{couple.id}")
    assert page.status_code == 200
    assert "Signs and causes, side by side" in page.text
    assert "Where you see things most differently" in page.text
    assert "We drifted apart." in page.text
    for measure in ("CSI-16", "PHQ-9", "GAD-7"):
        assert measure in page.text
    actions = set(db_session().scalars(sa.select(AuditEvent.action)))
    assert {"link.open", "intake.save", "intake.submit", "intake.view"} <= actions


def test_resume_in_a_new_browser_keeps_everything(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    answers = make.intake_answers(text="Saved before the tab closed")
    first = PartnerBrowser(app, token)
    first.post("about", answers["about"])
    first.post("signs", answers["signs"])
    partial = dict(list(answers["background"].items())[:4])
    assert first.post("background", partial, action="save").status_code == 302

    second = PartnerBrowser(app, token)  # the tab closed, the session lost
    assert second.get().headers["Location"].endswith("/background")
    page = second.get("background").text
    for name, value in partial.items():
        pattern = rf'<input checked id="{name}-\d+" name="{name}" (required )?type="radio" '
        assert re.search(pattern + rf'value="{value}">', page), name
    untouched = list(answers["background"])[4]
    assert f'checked id="{untouched}-' not in page
    assert "Saved before the tab closed" in second.get("about").text


def test_a_new_link_carries_on_with_the_unfinished_intake(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    answers = make.intake_answers(text="Typed under the first link")
    first = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    first.post("about", answers["about"])
    first.post("signs", answers["signs"])
    # The therapist makes a new link (the first one expired or was lost).
    second = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    assert second.get().headers["Location"].endswith("/background")
    assert "Typed under the first link" in second.get("about").text
    assert len(_responses()) == 1
    second.fill({k: v for k, v in answers.items() if k not in ("about", "signs")})
    assert _responses()[0].status == "submitted"


def test_invalid_page_keeps_what_was_typed(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    sent = partner.post("about", {"reasons": "Kept even though the page has errors"})
    assert sent.status_code == 303  # drawn again by a GET (tests/test_prg.py)
    response = partner.client.get(sent.headers["Location"])
    assert "Please choose an answer." in response.text
    assert "Kept even though the page has errors" in response.text
    saved = db_session().scalars(sa.select(IntakePage)).one()
    assert saved.values["reasons"] == "Kept even though the page has errors"
    assert saved.complete is False


def test_answers_outside_the_options_are_not_stored(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    partner.post("about", {"living_together": "x" * 5000, "hopes": "y" * 20000}, "save")
    saved = db_session().scalars(sa.select(IntakePage)).one().values
    assert saved["living_together"] == ""
    assert len(saved["hopes"]) == 8000


def test_autosave_and_back_save_a_draft(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    assert partner.post("about", {"hopes": "autosaved words"}, action="autosave").status_code == 204
    assert db_session().scalars(sa.select(IntakePage)).one().values["hopes"] == "autosaved words"
    assert partner.post("signs", {}, action="back").headers["Location"].endswith("/about")


def test_a_post_needs_its_link_reference(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    for ref in (None, "forged", link_ref_from(partner.get("about").text)[:-2] + "xx"):
        data = {"hopes": "from another site", "action": "save"}
        if ref:
            data["link_ref"] = ref
        assert partner.client.post(f"{partner.base}/about", data=data).status_code == 404
    assert _count(IntakePage) == 0


def test_an_open_page_is_not_kept_once_the_browser_dropped_its_link(make, app):
    # Idle pages that can be kept are in tests/test_partner_timeout.py; here the browser
    # no longer holds the link at all, so nothing proves the post is the partner's.
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    ref = link_ref_from(partner.get("about").text)
    with partner.client.session_transaction() as session:
        session.clear()  # the browser dropped its cookie
    assert partner.get("about").status_code == 404  # reading needs the link again
    sent = partner.client.post(
        f"{partner.base}/about",
        data={"hopes": "typed over lunch", "link_ref": ref, "action": "save"},
    )
    assert sent.status_code == 303
    assert _count(IntakePage) == 0
    assert "could not be kept this time" in partner.get("about").text


def test_two_partners_in_one_browser_never_cross(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    a = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    ref_a = link_ref_from(a.get("safety").text)
    # Partner B opens their own link in another tab of the same browser.
    opened = a.client.get(f"/clinic/i/{make.intake_link(owner, couple.partner_b)}")
    b_base = opened.headers["Location"].rstrip("/")
    assert b_base != a.base
    # A's open page still saves to A, never to B.
    a.client.post(
        f"{a.base}/safety",
        data={"safety_note": "A's private note", "link_ref": ref_a, "action": "autosave"},
    )
    b_page = a.client.get(f"{b_base}/safety").text
    assert "A&#39;s private note" not in b_page
    assert "A's private note" not in b_page
    (a_response,) = (r for r in _responses() if r.partner_id == couple.partner_a.id)
    assert a_response.page_values()["safety"]["safety_note"] == "A's private note"
    # A's reference does not work at B's address.
    sent = a.client.post(f"{b_base}/about", data={"hopes": "x", "link_ref": ref_a})
    assert sent.status_code == 404


def test_submitting_twice_stores_one_response(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    answers = make.intake_answers()
    consent = answers.pop("consent")
    partner.fill(answers)
    ref = link_ref_from(partner.get("consent").text)
    for _ in range(2):  # a double click: the same page sent twice
        sent = partner.client.post(
            f"{partner.base}/consent", data={**consent, "link_ref": ref, "action": "next"}
        )
        assert sent.status_code == 302
        assert sent.headers["Location"].endswith("/done")
    assert _count(IntakeResponse) == 1
    assert _count(MeasureResult) == 3
    assert "already sent" in partner.get("done").text
    # Submitted is read-only: pages lead to the thank-you page; a late autosave is refused.
    assert partner.get("about").headers["Location"].endswith("/done")
    partner.client.post(
        f"{partner.base}/about",
        data={"hopes": "changed later", "link_ref": ref, "action": "autosave"},
    )
    assert "changed later" not in str(_responses()[0].page_values())


def test_done_page_leaves_out_the_private_pages(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    answers = make.intake_answers(safety="yes", text="visible words")
    answers["safety"]["safety_note"] = "never shown on the done page"
    partner.fill(answers)
    done = partner.get("done").text
    assert "visible words" in done
    assert "never shown on the done page" not in done
    assert "Are you ever afraid of your partner?" not in done


def test_submit_with_a_page_missing_goes_back_to_it(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    answers = make.intake_answers()
    del answers["wellbeing"]
    for page, values in answers.items():
        response = partner.post(page, values)
    assert response.headers["Location"].endswith("/wellbeing")
    assert _responses()[0].status == "draft"
    assert db_session().scalars(sa.select(IntakePage).where(IntakePage.page == "consent")).one()


def test_used_expired_and_revoked_links(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    PartnerBrowser(app, token).fill(make.intake_answers())
    assert PartnerBrowser(app, token).get().headers["Location"].endswith("/done")  # used

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

    fresh = PartnerBrowser(app, make.intake_link(owner, couple.partner_b))
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
    assert fresh.get("about").status_code == 410


def test_links_die_with_their_case(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    couple.deleted_at = utcnow()
    db_session().commit()
    assert partner.get("about").status_code == 410


def test_unknown_token_is_a_plain_404_and_bad_tries_are_limited(client, make, app):
    response = client.get("/clinic/i/not-a-real-token-0123456789abcdef")
    assert response.status_code == 404
    assert "This link does not work" in response.text
    assert response.headers["Referrer-Policy"] == "no-referrer"
    limiter = app.extensions["reconnect_clinic"].bad_link_limiter
    limiter.reset()
    try:
        for _ in range(20):
            client.get("/clinic/i/not-a-real-token-0123456789abcdef")
        assert client.get("/clinic/i/another-wrong-token-0123456789").status_code == 429
        owner = make.therapist()
        couple = make.couple(owner)
        token = make.intake_link(owner, couple.partner_a)
        assert client.get(f"/clinic/i/{token}").status_code == 429
    finally:
        limiter.reset()


def test_no_link_in_this_browser_gets_the_plain_page(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    make.intake_link(owner, couple.partner_a)
    link = db_session().scalars(sa.select(ClientLink)).one()
    response = client.get(f"/clinic/intake/{link.id}/about")
    assert response.status_code == 404
    assert "open the link your therapist sent you again" in response.text


def test_one_partner_cannot_reach_the_other_partners_answers(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    b = PartnerBrowser(app, make.intake_link(owner, couple.partner_b))
    b.fill(make.intake_answers(safety="yes", text="B private words"))
    a = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    for page in ("about", "safety", "signs"):
        assert "B private words" not in a.get(page).text
    assert a.client.get(b.base + "/done").status_code == 404
    for url in (
        f"/clinic/couples/{couple.id}",
        f"/clinic/couples/{couple.id}/partners/b/intake",
    ):
        assert a.client.get(url).status_code == 302  # to the therapist login
    a.post("about", {"hopes": "A words"}, action="save")
    b_response = next(r for r in _responses() if r.partner_id == couple.partner_b.id)
    assert "A words" not in str(b_response.page_values())


def test_safety_flag_is_prominent_for_the_therapist(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    answers = make.intake_answers(safety="yes", measure_pick="last")
    answers["safety"]["safety_note"] = "Only for the therapist"
    partner.fill(answers)
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}").text
    assert "Needs your attention" in page
    assert "Safety concern" in page
    assert "Thoughts of self-harm reported" in page
    assert "Only for the therapist" in page


def test_a_saved_safety_answer_flags_before_submission(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    partner.post("safety", {"safety_afraid": "yes"}, action="save")
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}").text
    assert "Needs your attention" in page
    assert "not yet submitted" in page


def test_free_text_is_escaped_everywhere(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    answers = make.intake_answers(text=XSS, safety="yes")
    answers["safety"]["safety_note"] = XSS
    answers["consent"]["signature"] = XSS
    partner.post("about", answers["about"], action="save")
    assert XSS not in partner.get("about").text
    partner.fill(answers)
    assert XSS not in partner.get("done").text
    login(client, owner.email)
    for url in (f"/clinic/couples/{couple.id}", f"/clinic/couples/{couple.id}/partners/a/intake"):
        html = client.get(url).text
        assert XSS not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_nul_characters_are_dropped_not_a_500(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    assert partner.post("about", {"hopes": "a\x00b"}, action="save").status_code == 302
    assert db_session().scalars(sa.select(IntakePage)).one().values["hopes"] == "ab"


def test_therapist_makes_and_revokes_links(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    token = csrf_from(client.get(f"/clinic/couples/{couple.id}").text)
    made = client.post(
        f"/clinic/couples/{couple.id}/partners/a/links/intake", data={"csrf_token": token}
    )
    assert made.status_code == 303
    shown = client.get(made.headers["Location"])
    assert "This is the only time the full link is shown" in shown.text
    url_token = shown.text.split("/clinic/i/")[1].split('"')[0]
    link = db_session().scalars(sa.select(ClientLink)).one()
    assert url_token not in link.token_hash
    client.post(f"/clinic/couples/{couple.id}/partners/a/links/intake", data={"csrf_token": token})
    db_session().expire_all()
    links = db_session().scalars(sa.select(ClientLink).order_by(ClientLink.created_at)).all()
    assert len(links) == 2
    assert links[0].revoked_at is not None
    assert links[1].revoked_at is None
    revoke = client.post(
        f"/clinic/couples/{couple.id}/links/{links[1].id}/revoke", data={"csrf_token": token}
    )
    assert revoke.status_code == 302
    db_session().expire_all()
    assert db_session().get(ClientLink, links[1].id).revoked_at is not None


def test_link_address_uses_the_public_url_when_set(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    token = csrf_from(client.get(f"/clinic/couples/{couple.id}").text)
    app.config["RECONNECT_CLINIC_PUBLIC_URL"] = "https://clinic.example.org/"
    try:
        made = client.post(
            f"/clinic/couples/{couple.id}/partners/a/links/intake",
            data={"csrf_token": token},
            follow_redirects=True,
        )
    finally:
        app.config["RECONNECT_CLINIC_PUBLIC_URL"] = None
    assert 'value="https://clinic.example.org/clinic/i/' in made.text


def test_other_therapist_cannot_make_or_revoke_links(client, make, app):
    owner, other = make.therapist(), make.therapist()
    couple = make.couple(owner)
    make.intake_link(owner, couple.partner_a)
    link = db_session().scalars(sa.select(ClientLink)).one()
    login(client, other.email)
    token = csrf_from(client.get("/clinic/").text)
    made = client.post(
        f"/clinic/couples/{couple.id}/partners/a/links/intake", data={"csrf_token": token}
    )
    assert made.status_code == 404
    revoked = client.post(
        f"/clinic/couples/{couple.id}/links/{link.id}/revoke", data={"csrf_token": token}
    )
    assert revoked.status_code == 404
    assert client.get(f"/clinic/couples/{couple.id}/partners/a/intake").status_code == 404
    assert _count(ClientLink) == 1
