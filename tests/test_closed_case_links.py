"""A closed case's intake and homework links: refused with a clear page, nothing taken.

(Measures and rating links refuse a closed case on their own pages:
tests/test_measure_links.py, tests/test_ratings.py.)"""

from __future__ import annotations

import sqlalchemy as sa

from reconnect_clinic.models import ClientLink, HomeworkCheckIn, IntakePage
from reconnect_clinic.state import db_session
from tests.helpers import PartnerBrowser, csrf_from, link_ref_from, login

CLOSED_TITLE = "Your therapist has closed this work"


def _close(couple) -> None:
    couple.status = "closed"
    db_session().commit()


def _count(model) -> int:
    return db_session().scalar(sa.select(sa.func.count()).select_from(model))


def test_an_intake_link_of_a_closed_case_does_not_open(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    _close(couple)
    opened = app.test_client().get(f"/clinic/i/{token}")
    assert opened.status_code == 410
    assert CLOSED_TITLE in opened.text
    assert "was not kept" not in opened.text  # nothing was sent
    assert "call your local emergency number" in opened.text
    assert couple.partner_a.first_name not in opened.text
    link = db_session().scalars(sa.select(ClientLink)).one()
    assert link.last_opened_at is None  # not counted as opened


def test_an_open_intake_is_refused_once_the_case_closes_and_keeps_nothing_new(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    page = partner.get("about")
    assert page.status_code == 200
    ref = link_ref_from(page.text)
    _close(couple)
    assert partner.get("about").status_code == 410
    sent = partner.client.post(
        f"{partner.base}/about",
        data={"hopes": "typed after the case closed", "link_ref": ref, "action": "save"},
    )
    assert sent.status_code == 410
    assert CLOSED_TITLE in sent.text
    # What they had just typed is gone: the page says so, rather than "nothing is lost".
    assert "was not sent to your therapist and was not kept" in sent.text
    assert _count(IntakePage) == 0  # the draft opened before the close holds nothing
    # A draft saved on its own is refused as gone (410: clinic.js says nothing is kept),
    # not as "could not save, press a button" (409).
    autosaved = partner.client.post(
        f"{partner.base}/about",
        data={"hopes": "typed after the case closed", "link_ref": ref, "action": "autosave"},
    )
    assert autosaved.status_code == 410
    assert _count(IntakePage) == 0


def test_a_homework_link_of_a_closed_case_takes_no_check_in(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    assignment = make.assignment(owner, couple)
    browser = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    page = browser.get().text
    _close(couple)
    assert browser.get().status_code == 410
    sent = browser.client.post(
        f"{browser.base}/{assignment.id}/check-in",
        data={
            "completion": "done",
            "reflection": "after the close",
            "link_ref": link_ref_from(page),
            "client_key": "closed-case-key-0123",
        },
    )
    assert sent.status_code == 410
    assert CLOSED_TITLE in sent.text
    assert _count(HomeworkCheckIn) == 0


def test_a_reopened_case_opens_its_links_again(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.homework_link(owner, couple.partner_a)
    _close(couple)
    assert app.test_client().get(f"/clinic/h/{token}").status_code == 410
    couple.status = "active"
    db_session().commit()
    assert app.test_client().get(f"/clinic/h/{token}").status_code == 302


def test_the_therapist_cannot_make_a_link_for_a_closed_case(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    _close(couple)
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}")
    assert "Make a homework link" not in page.text
    assert "Make an intake link" not in page.text
    made = client.post(
        f"/clinic/couples/{couple.id}/partners/a/links/intake",
        data={"csrf_token": csrf_from(page.text)},
        follow_redirects=True,
    )
    assert "This case is closed: reopen it to send a new link." in made.text
    assert _count(ClientLink) == 0
