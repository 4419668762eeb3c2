"""Notes are never lost: a note posted after the idle limit is kept (sealed, server-side)
and back in the form once the same therapist has signed in again; never saved or signed
from the kept post."""

from __future__ import annotations

import html
import re
import time
import uuid
from datetime import timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from reconnect_clinic.models import KeptForm, SessionNote, utcnow
from reconnect_clinic.security.accounts import kept_posts as kept
from reconnect_clinic.security.accounts.kept_posts import (
    keepable_fields,
    kept_is_current,
    take_kept,
)
from reconnect_clinic.security.accounts.views import idle_seconds_left, kept_message
from reconnect_clinic.state import db_session
from tests import factories
from tests.helpers import csrf_from, login, post_form

TYPED = "They spoke about the move and the first weeks after it. " * 30  # ~1,700 chars
NOTE = {
    "template": "dap",
    "section_data": TYPED,
    "section_assessment": "Some warmth returning.",
    "section_plan": "Keep the check-in.",
    "interventions": ["improve_communication"],
    "risk_level": "none",
    "risk_notes": "",
    "version": "",
}
SIGNED_OUT = (
    "You were signed out after 30 minutes without activity. What you typed is kept and "
    "will be back after you sign in."
)
RESTORED = "What you typed before you were signed out is back in the form."


@pytest.fixture
def note_page(client, make):
    """A therapist signed in on ``client``, with a session whose note page is open."""
    owner = make.therapist()
    couple = make.couple(owner)
    therapy = make.therapy_session(owner, couple)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/sessions/{therapy.id}"
    token = csrf_from(client.get(url).text)
    return owner, url, token


def _go_idle(client, seconds: float = 31 * 60) -> None:
    """The clock moved on: the last activity the session saw was ``seconds`` ago."""
    with client.session_transaction() as session:
        session["reconnect_clinic_seen_at"] = time.time() - seconds


def _post_after_idle(client, url, token, **extra):
    _go_idle(client)
    return client.post(url, data={**NOTE, "action": "save", "csrf_token": token, **extra})


def _kept_rows():
    db_session().expire_all()
    return db_session().scalars(sa.select(KeptForm)).all()


def test_a_note_posted_after_the_idle_limit_comes_back_after_sign_in(client, note_page, make):
    owner, url, token = note_page
    response = _post_after_idle(client, url, token)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == f"/clinic/login?next={quote(url, safe='/')}"
    login_page = client.get(location).text
    assert SIGNED_OUT in html.unescape(login_page)
    assert db_session().scalars(sa.select(SessionNote)).all() == []  # nothing saved
    assert [row.therapist_id for row in _kept_rows()] == [owner.id]

    signed_in = post_form(client, location, {"email": owner.email, "password": factories.PASSWORD})
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == url
    page = client.get(url).text
    assert TYPED.strip() in html.unescape(page)
    assert RESTORED in page
    assert _kept_rows() == []  # restored once, then gone
    assert db_session().scalars(sa.select(SessionNote)).all() == []  # still only in the form
    assert TYPED.strip() not in html.unescape(client.get(url).text)


def test_the_kept_text_is_sealed_at_rest(client, note_page):
    _owner, url, token = note_page
    _post_after_idle(client, url, token)
    raw = db_session().execute(sa.text("SELECT fields FROM clinic_kept_form")).scalar_one()
    assert "move and the first weeks" not in raw


def test_the_kept_text_is_not_in_the_cookie(app, client, note_page):
    _owner, url, token = note_page
    _post_after_idle(client, url, token)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"], domain="clinic.test")
    assert cookie is not None
    assert len(cookie.value) < 1000  # the 1,700 typed characters are not in it


def test_a_sign_posted_after_the_idle_limit_never_signs(client, note_page):
    owner, url, token = note_page
    response = _post_after_idle(client, url, token, action="sign", confirm_sign="y")
    post_form(
        client,
        response.headers["Location"],
        {"email": owner.email, "password": factories.PASSWORD},
    )
    page = client.get(url).text
    assert TYPED.strip() in html.unescape(page)
    assert db_session().scalars(sa.select(SessionNote)).all() == []
    assert 'id="confirm_sign" name="confirm_sign"' in page
    assert "checked" not in page.split('id="confirm_sign"')[0].rsplit("<input", 1)[1]


def test_the_kept_text_waits_for_its_own_therapist(client, note_page, make):
    _owner, url, token = note_page
    _post_after_idle(client, url, token)
    other = make.therapist()
    assert take_kept(other.id, url) == (None, False)
    assert len(_kept_rows()) == 1
    # The expired session itself gets the sign-in page, not the text.
    again = client.get(url)
    assert again.status_code == 302
    assert len(_kept_rows()) == 1


def test_a_post_without_the_sessions_csrf_token_is_not_kept(client, note_page):
    _owner, url, _token = note_page
    response = _post_after_idle(client, url, "forged")
    # Refused as a bad CSRF token (Flask-WTF's check runs first in this app): never kept.
    assert response.status_code == 400
    assert _kept_rows() == []


def test_a_post_with_a_bad_csrf_token_is_not_kept_where_the_app_does_not_check(
    client, note_page, monkeypatch
):
    """Inside a host app without CSRFProtect, our own check decides."""
    _owner, url, _token = note_page
    monkeypatch.setitem(client.application.config, "WTF_CSRF_CHECK_DEFAULT", False)
    response = _post_after_idle(client, url, "forged")
    assert response.status_code == 302
    assert _kept_rows() == []
    assert SIGNED_OUT not in html.unescape(client.get(response.headers["Location"]).text)


def test_a_kept_post_past_its_lifetime_is_dropped_unread(client, note_page, monkeypatch):
    owner, url, token = note_page
    response = _post_after_idle(client, url, token)
    later = utcnow() + timedelta(hours=13)
    monkeypatch.setattr(kept, "utcnow", lambda: later)
    post_form(
        client, response.headers["Location"], {"email": owner.email, "password": factories.PASSWORD}
    )
    page = client.get(url).text
    assert TYPED.strip() not in html.unescape(page)
    assert _kept_rows() == []


def test_the_restored_form_keeps_the_draft_version_it_was_based_on(client, note_page):
    owner, url, _token = note_page
    post_form(client, url, {**NOTE, "section_data": "First draft.", "action": "save"})
    version = db_session().scalars(sa.select(SessionNote.version)).one()
    token = csrf_from(client.get(url).text)
    response = _post_after_idle(client, url, token, version=str(version))
    post_form(
        client, response.headers["Location"], {"email": owner.email, "password": factories.PASSWORD}
    )
    page = client.get(url).text
    assert f'name="version" type="hidden" value="{version}"' in page
    db_session().expire_all()
    saved = db_session().scalars(sa.select(SessionNote)).one()
    assert saved.content["sections"]["data"] == "First draft."  # the kept post saved nothing


def test_keepable_fields_drop_what_asks_for_an_action():
    fields = keepable_fields(
        {"csrf_token": ["t"], "action": ["sign"], "confirm_sign": ["y"], "section_data": ["x"]}
    )
    assert fields == {"section_data": ["x"]}


def test_a_post_too_big_to_keep_is_not_kept():
    assert keepable_fields({"section_data": ["x" * (kept.MAX_KEPT_CHARS + 1)]}) is None


def test_kept_is_current_within_its_lifetime():
    now = utcnow()
    assert kept_is_current(now - timedelta(seconds=100), now, 100)
    assert not kept_is_current(now - timedelta(seconds=101), now, 100)


def test_the_message_names_the_idle_minutes():
    assert kept_message(idle_expired=True, idle=1800, lifetime=43200) == SIGNED_OUT
    assert kept_message(idle_expired=False, idle=1800, lifetime=43200).startswith(
        "You were signed out: a sign-in lasts at most 12 hours."
    )


# --- typing counts as activity, and a warning before the idle limit ----------------------

_WARNING = re.compile(r"<div class=\"idle-warning\"[^>]*>")


def _warning_tag(page: str) -> str:
    match = _WARNING.search(page)
    assert match, "the page has no idle warning"
    return match.group(0)


def _attribute(tag: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', tag)
    assert match, f"no {name} in {tag}"
    return match.group(1)


def test_a_ping_counts_as_activity(client, note_page):
    _owner, _url, token = note_page
    _go_idle(client, 20 * 60)
    response = client.post("/clinic/still-here", data={"csrf_token": token})
    assert response.status_code == 204
    assert response.data == b""
    with client.session_transaction() as session:
        assert time.time() - session["reconnect_clinic_seen_at"] < 5


def test_a_ping_after_the_idle_limit_does_not_sign_back_in(client, note_page):
    _owner, url, token = note_page
    _go_idle(client)
    response = client.post("/clinic/still-here", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/clinic/login")
    assert client.get(url).status_code == 302


def test_a_ping_needs_the_csrf_token(client, note_page):
    _go_idle(client, 20 * 60)
    assert client.post("/clinic/still-here", data={}).status_code == 400
    with client.session_transaction() as session:
        assert time.time() - session["reconnect_clinic_seen_at"] > 19 * 60


def test_a_ping_needs_a_signed_in_therapist(client):
    token = csrf_from(client.get("/clinic/login").text)
    response = client.post("/clinic/still-here", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/clinic/login")


def test_therapist_pages_carry_the_idle_warning(client, note_page):
    _owner, url, _token = note_page
    # Seen 20 s ago: within SEEN_AT_STEP, so this page load does not move the clock.
    _go_idle(client, 20)
    page = client.get(url).text
    tag = _warning_tag(page)
    assert _attribute(tag, "data-idle-timeout") == "1800"
    assert 1770 <= int(_attribute(tag, "data-idle-left")) <= 1780
    assert _attribute(tag, "data-idle-warn-before") == "120"
    assert _attribute(tag, "data-still-here") == "/clinic/still-here"
    assert _attribute(tag, "data-csrf-token")
    assert " hidden>" in tag  # shown by clinic.js only: no script, no warning
    assert "Stay signed in</button>" in page


def test_the_page_has_no_inline_script(client, note_page):
    _owner, url, _token = note_page
    page = client.get(url).text
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts
    assert all("src=" in tag for tag in scripts)


def test_the_sign_in_page_has_no_idle_warning(client):
    assert "data-idle-warning" not in client.get("/clinic/login").text


def test_seconds_left_before_the_idle_sign_out():
    assert idle_seconds_left(now=1000.0, seen_at=400.0, idle=1800) == 1200
    assert idle_seconds_left(now=5000.0, seen_at=400.0, idle=1800) == 0


def test_a_ping_resets_the_idle_clock_to_the_second(client, note_page):
    """Not rounded to SEEN_AT_STEP as page loads are: the page counts from the answer."""
    _owner, _url, token = note_page
    _go_idle(client, 25)
    assert client.post("/clinic/still-here", data={"csrf_token": token}).status_code == 204
    with client.session_transaction() as session:
        assert time.time() - session["reconnect_clinic_seen_at"] < 5


# --- the draft saves itself while the therapist types ------------------------------------


def _autosave(client, url, token, **extra):
    data = {**NOTE, "action": "autosave", "csrf_token": token, **extra}
    return client.post(url, data=data, headers={"X-Requested-With": "fetch"})


def _note():
    db_session().expire_all()
    return db_session().scalars(sa.select(SessionNote)).one()


def test_an_autosave_saves_the_draft_and_answers_its_version(client, note_page):
    _owner, url, token = note_page
    first = _autosave(client, url, token)
    assert first.status_code == 200
    assert first.json == {"saved": True, "version": 1}
    assert _note().content["sections"]["data"] == TYPED.strip()
    second = _autosave(client, url, token, version="1", section_data="More typed.")
    assert second.json == {"saved": True, "version": 2}
    assert _note().content["sections"]["data"] == "More typed."


def test_an_autosave_never_signs(client, note_page):
    _owner, url, token = note_page
    response = _autosave(client, url, token, confirm_sign="y")
    assert response.json["saved"] is True
    assert _note().status == "draft"


def test_an_autosave_on_a_draft_changed_elsewhere_is_a_conflict(client, note_page):
    _owner, url, token = note_page
    _autosave(client, url, token, section_data="From the other tab.")
    stale = _autosave(client, url, token, version="", section_data="From this tab.")
    assert stale.status_code == 409
    assert stale.json["conflict"] is True
    assert _note().content["sections"]["data"] == "From the other tab."
    also_stale = _autosave(client, url, token, version="7", section_data="From this tab.")
    assert also_stale.status_code == 409
    assert _note().version == 1


def test_save_draft_goes_on_from_the_autosaved_version(client, note_page):
    _owner, url, token = note_page
    version = _autosave(client, url, token).json["version"]
    saved = client.post(
        url,
        data={
            **NOTE,
            "section_data": "Saved by hand.",
            "action": "save",
            "csrf_token": token,
            "version": str(version),
        },
    )
    assert saved.status_code == 302
    assert _note().content["sections"]["data"] == "Saved by hand."


def test_an_autosave_of_a_signed_note_changes_nothing(client, note_page):
    _owner, url, token = note_page
    _autosave(client, url, token)
    signed = client.post(
        url,
        data={**NOTE, "action": "sign", "confirm_sign": "y", "csrf_token": token, "version": "1"},
    )
    assert signed.status_code == 302
    response = _autosave(client, url, token, version="2", section_data="Late change.")
    assert response.mimetype == "text/html"  # the signed note's page, not a save
    assert _note().content["sections"]["data"] == TYPED.strip()


def test_an_autosave_after_the_idle_limit_is_kept_not_saved(client, note_page):
    _owner, url, token = note_page
    _go_idle(client)
    response = _autosave(client, url, token)
    assert response.status_code == 302
    assert db_session().scalars(sa.select(SessionNote)).all() == []
    assert len(_kept_rows()) == 1


def test_the_note_form_asks_for_autosave(client, note_page):
    _owner, url, _token = note_page
    page = client.get(url).text
    assert f'class="note-form" data-note-autosave="{url}"' in page
    assert '<p class="note-autosave-status" role="status"></p>' in page


# --- nothing kept stays for long ----------------------------------------------------------


def test_keeping_a_post_drops_anyones_kept_posts_past_their_lifetime(client, note_page, make):
    _owner, url, token = note_page
    other = make.therapist()
    old = kept.keep_post(other.id, "/clinic/couples/x/sessions/y", {"section_data": ["old"]})
    old.created_at = utcnow() - timedelta(hours=13)
    db_session().commit()
    _post_after_idle(client, url, token)
    assert [row.path for row in _kept_rows()] == [url]


def test_purging_a_case_drops_what_was_kept_for_its_pages(client, note_page):
    from reconnect_clinic.cases.lifecycle import purge_case

    _owner, url, token = note_page
    _post_after_idle(client, url, token)
    couple_id = url.split("/couples/")[1].split("/")[0]
    purge_case(uuid.UUID(couple_id))
    db_session().commit()
    assert _kept_rows() == []
