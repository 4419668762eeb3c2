"""Secrets shown once, on a page of their own (post/redirect/get): a partner's private
link, and a set of recovery codes. The post that makes one answers 303; the page it leads
to shows it once and is never stored; a reload, or Back and Forward, shows it no more
and makes nothing again. While it waits, the secret is sealed in the signed session
cookie (which scripts cannot read), never in an address or a log."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urlsplit

import pyotp
import sqlalchemy as sa

from reconnect_clinic.models import ClientLink, RecoveryCode
from reconnect_clinic.security.links.tokens import find_link
from reconnect_clinic.state import db_session
from tests import factories
from tests.helpers import csrf_from, login, post_form
from tests.live_server import LiveTherapist

SETTINGS = "/clinic/account/two-factor"
CODES_PAGE = "/clinic/account/two-factor/recovery-codes"
_LINK_IN_PAGE = re.compile(r'id="client-link" type="text" readonly value="[^"]*/clinic/i/([^"]+)"')
_CODE_IN_LIST = re.compile(r"<li><code>([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</code></li>")


def _session_data(app, client) -> str:
    """What the browser's session cookie holds, decoded (signed, not encrypted), as JSON
    text: anything kept there in clear would be found in it."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"], domain="clinic.test")
    assert cookie is not None
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    return json.dumps(data)


def _post_new_link(client, couple):
    token = csrf_from(client.get(f"/clinic/couples/{couple.id}").text)
    return client.post(
        f"/clinic/couples/{couple.id}/partners/a/links/intake", data={"csrf_token": token}
    )


def _links() -> int:
    return db_session().scalar(sa.select(sa.func.count()).select_from(ClientLink))


# --- a partner's private link ---------------------------------------------------------------


def test_a_new_link_answers_with_a_redirect_to_its_page(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    made = _post_new_link(client, couple)
    assert made.status_code == 303
    assert urlsplit(made.headers["Location"]).path == f"/clinic/couples/{couple.id}/links/created"


def test_the_link_is_shown_once_and_never_stored(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    made = _post_new_link(client, couple)
    shown = client.get(made.headers["Location"])
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    (token,) = _LINK_IN_PAGE.findall(shown.text)
    link = db_session().scalars(sa.select(ClientLink)).one()
    assert find_link(token, "intake").id == link.id  # the link shown is the one made


def test_a_reload_shows_the_link_no_more_and_makes_no_new_one(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    made = _post_new_link(client, couple)
    first = client.get(made.headers["Location"])
    (token,) = _LINK_IN_PAGE.findall(first.text)
    again = client.get(made.headers["Location"])
    assert again.status_code == 303
    assert urlsplit(again.headers["Location"]).path == f"/clinic/couples/{couple.id}"
    assert token not in again.text
    couple_page = client.get(again.headers["Location"]).text
    assert "That link was shown once, when it was made, and is not shown again." in couple_page
    assert token not in couple_page
    assert _links() == 1
    db_session().expire_all()
    assert db_session().scalars(sa.select(ClientLink)).one().revoked_at is None


def test_the_token_is_sealed_in_the_session_and_in_no_address(app, client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    made = _post_new_link(client, couple)
    waiting = _session_data(app, client)  # before the page that shows it
    shown = client.get(made.headers["Location"])
    (token,) = _LINK_IN_PAGE.findall(shown.text)
    assert "reconnect_clinic_shown_once_link" in waiting
    assert token not in waiting
    assert token not in made.headers["Location"]


def test_the_session_cookie_is_not_readable_by_scripts(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    made = _post_new_link(client, couple)
    cookie = made.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie


def test_the_token_is_in_no_log_line(live):
    """Gunicorn's real access log (tests/live_server.py) of making and showing a link."""
    server, app = live
    with app.app_context():
        owner = factories.therapist()
        couple = factories.couple(owner)
        email, couple_id = owner.email, couple.id
        db_session().remove()
    server.start()
    desk = LiveTherapist(server.url, email, factories.PASSWORD)
    page = desk.get(f"/clinic/couples/{couple_id}")
    made = desk.post(
        f"/clinic/couples/{couple_id}/partners/a/links/intake",
        {"csrf_token": csrf_from(page.text)},
    )
    assert made.status_code == 303
    shown = desk.get(urlsplit(made.headers["Location"]).path)
    (token,) = _LINK_IN_PAGE.findall(shown.text)
    server.stop()  # every worker has written its lines
    log = server.log_text()
    assert f"/clinic/couples/{couple_id}/links/created" in log  # the requests are logged
    assert token not in log


def test_a_link_revoked_before_its_page_opens_is_not_shown(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    made = _post_new_link(client, couple)
    link = db_session().scalars(sa.select(ClientLink)).one()
    token = csrf_from(client.get(f"/clinic/couples/{couple.id}").text)
    client.post(f"/clinic/couples/{couple.id}/links/{link.id}/revoke", data={"csrf_token": token})
    shown = client.get(made.headers["Location"])
    assert shown.status_code == 303
    assert urlsplit(shown.headers["Location"]).path == f"/clinic/couples/{couple.id}"


def test_another_couples_page_leaves_the_link_waiting(client, make):
    owner = make.therapist()
    couple, other_couple = make.couple(owner), make.couple(owner)
    login(client, owner.email)
    made = _post_new_link(client, couple)
    elsewhere = client.get(f"/clinic/couples/{other_couple.id}/links/created")
    assert elsewhere.status_code == 303
    assert not _LINK_IN_PAGE.findall(elsewhere.text)
    shown = client.get(made.headers["Location"])
    assert len(_LINK_IN_PAGE.findall(shown.text)) == 1


def test_another_therapist_gets_nothing(app, make):
    owner, other = make.therapist(), make.therapist()
    couple = make.couple(owner)
    browser = app.test_client()
    login(browser, other.email)
    assert browser.get(f"/clinic/couples/{couple.id}/links/created").status_code == 404


# --- recovery codes -------------------------------------------------------------------------


def _turn_on(client):
    """Post the enrolment form with a right code: the answer, and the secret."""
    page = client.get(SETTINGS).text
    secret = re.search(r'id="totp-secret" type="text" readonly value="([A-Z2-7]+)"', page).group(1)
    posted = post_form(client, SETTINGS, {"action": "enable", "code": pyotp.TOTP(secret).now()})
    return posted, secret


def _signed_in(app, make):
    me = make.therapist()
    browser = app.test_client()
    login(browser, me.email)
    return me, browser


def test_turning_two_factor_on_redirects_to_the_codes(app, make):
    _me, browser = _signed_in(app, make)
    posted, _ = _turn_on(browser)
    assert posted.status_code == 303
    assert urlsplit(posted.headers["Location"]).path == CODES_PAGE


def test_the_codes_are_shown_once(app, make):
    _me, browser = _signed_in(app, make)
    posted, _ = _turn_on(browser)
    shown = browser.get(posted.headers["Location"])
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    assert "Two-factor sign-in is on." in shown.text
    codes = _CODE_IN_LIST.findall(shown.text)
    assert len(codes) == db_session().scalar(sa.select(sa.func.count()).select_from(RecoveryCode))
    again = browser.get(posted.headers["Location"])
    assert again.status_code == 303
    assert urlsplit(again.headers["Location"]).path == SETTINGS
    settings = browser.get(SETTINGS).text
    assert "Recovery codes are shown once, when they are made" in settings
    assert not set(codes) & set(_CODE_IN_LIST.findall(settings))


def test_the_codes_wait_sealed_in_the_session(app, make):
    _me, browser = _signed_in(app, make)
    posted, _ = _turn_on(browser)
    waiting = _session_data(app, browser)
    codes = _CODE_IN_LIST.findall(browser.get(posted.headers["Location"]).text)
    assert "reconnect_clinic_shown_once_recovery_codes" in waiting
    assert not [code for code in codes if code in waiting]


def test_new_codes_are_shown_once_too(app, make):
    _me, browser = _signed_in(app, make)
    first, secret = _turn_on(browser)
    old = _CODE_IN_LIST.findall(browser.get(first.headers["Location"]).text)
    page = browser.get(SETTINGS).text
    token = re.search(r'name="new-codes-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    made = browser.post(
        SETTINGS,
        data={
            "new-codes-csrf_token": token,
            "action": "new-codes",
            "new-codes-code": pyotp.TOTP(secret).at(time.time() + 30),
        },
    )
    assert made.status_code == 303
    shown = browser.get(made.headers["Location"])
    new = _CODE_IN_LIST.findall(shown.text)
    assert "The codes you had before no longer work." in shown.text
    assert len(new) == len(old)
    assert not set(new) & set(old)
    assert browser.get(made.headers["Location"]).status_code == 303


def test_codes_wait_only_for_the_therapist_they_were_made_for(app, make):
    """Signing in as another therapist in the same browser starts a fresh session: the
    codes waiting are gone."""
    _me, browser = _signed_in(app, make)
    posted, _ = _turn_on(browser)
    other = make.therapist()
    browser.post("/clinic/logout", data={"csrf_token": csrf_from(browser.get(SETTINGS).text)})
    login(browser, other.email)
    after = browser.get(posted.headers["Location"])
    assert after.status_code == 303
    assert urlsplit(after.headers["Location"]).path == SETTINGS
