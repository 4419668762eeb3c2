"""A partner answers the scheduled measures through their own measures link: asked only
the chosen measures, stored once with date, instrument version, items and link; refused
with a clear page for a closed case; read-only once done; never another partner's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from reconnect_clinic.measures import get
from reconnect_clinic.measures.operations import instrument_version
from reconnect_clinic.models import (
    ClientLink,
    MeasureAdministration,
    MeasureResult,
    RiskDisclosure,
    utcnow,
)
from reconnect_clinic.state import db_session
from tests.helpers import PartnerBrowser, link_ref_from


def answers(slugs: tuple[str, ...], pick: str = "first") -> dict[str, str]:
    values = {}
    for slug in slugs:
        for item in get(slug).items:
            option = item.options[0 if pick == "first" else -1]
            values[f"{slug}_{item.number}"] = str(option.points)
    return values


def _send(browser: PartnerBrowser, values: dict[str, str]) -> Any:
    page = browser.client.get(browser.start)
    return browser.client.post(browser.start, data={**values, "link_ref": link_ref_from(page.text)})


def test_the_form_asks_only_the_chosen_measures(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.measures_link(owner, couple.partner_a, instruments="csi4")
    browser = PartnerBrowser(app, token, "measures")
    page = browser.client.get(browser.start)
    assert page.status_code == 200
    assert "Couples Satisfaction Index (CSI-4)" in page.text
    assert "csi4_4" in page.text
    assert "phq9_1" not in page.text
    assert "csi16_1" not in page.text


def test_answers_are_stored_once_with_date_version_items_and_link(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.measures_link(owner, couple.partner_a, instruments="csi4,phq9")
    browser = PartnerBrowser(app, token, "measures")
    values = answers(("csi4", "phq9"), pick="last")
    ref = link_ref_from(browser.client.get(browser.start).text)
    sent = browser.client.post(browser.start, data={**values, "link_ref": ref})
    assert sent.status_code == 303
    assert "/done" in sent.headers["Location"]
    # The same page sent again (Back, a double click): nothing more is stored.
    again = browser.client.post(browser.start, data={**values, "link_ref": ref})
    assert again.status_code == 303
    assert "/done" in again.headers["Location"]
    rows = db_session().scalars(sa.select(MeasureResult).order_by(MeasureResult.instrument)).all()
    assert [r.instrument for r in rows] == ["csi4", "phq9"]
    csi4 = rows[0]
    assert csi4.total == 21  # the last option of each CSI-4 item is its highest
    assert csi4.item_points == [6, 5, 5, 5]
    assert csi4.instrument_version == instrument_version("csi4")
    assert csi4.link_id is not None
    assert csi4.administered_at is not None
    administration = db_session().scalar(sa.select(MeasureAdministration))
    assert administration.completed_at is not None
    link = db_session().get(ClientLink, administration.link_id)
    assert link.used_at is not None


def test_phq9_item_9_opens_a_risk_and_offers_support(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.measures_link(owner, couple.partner_a, instruments="phq9")
    browser = PartnerBrowser(app, token, "measures")
    values = answers(("phq9",))
    values["phq9_9"] = "2"
    sent = _send(browser, values)
    done = browser.client.get(sent.headers["Location"])
    assert "Support, if you would like it" in done.text
    assert db_session().scalar(sa.select(sa.func.count(RiskDisclosure.id))) == 1


def test_a_missing_answer_is_shown_beside_its_question_and_nothing_is_lost(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.measures_link(owner, couple.partner_a, instruments="csi4")
    browser = PartnerBrowser(app, token, "measures")
    values = answers(("csi4",), pick="last")
    del values["csi4_3"]
    sent = _send(browser, values)
    assert sent.status_code == 200
    assert 'id="csi4_3-error"' in sent.text
    last = len(get("csi4").item(1).options) - 1
    assert f'checked id="csi4_1-{last}"' in sent.text  # the answer given is still chosen
    assert db_session().scalar(sa.select(sa.func.count(MeasureResult.id))) == 0


def test_a_closed_case_refuses_the_link_with_a_clear_page(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.measures_link(owner, couple.partner_a)
    browser = PartnerBrowser(app, token, "measures")
    ref = link_ref_from(browser.client.get(browser.start).text)  # drawn while open
    couple.status = "closed"
    db_session().commit()
    page = browser.client.get(browser.start)
    assert page.status_code == 410
    assert "These questions are closed" in page.text
    sent = browser.client.post(browser.start, data={**answers(("csi4", "phq9")), "link_ref": ref})
    assert sent.status_code == 410
    assert db_session().scalar(sa.select(sa.func.count(MeasureResult.id))) == 0


def test_done_is_read_only_and_shows_no_answers(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.measures_link(owner, couple.partner_a, instruments="phq9")
    browser = PartnerBrowser(app, token, "measures")
    _send(browser, answers(("phq9",), pick="last"))
    page = browser.client.get(browser.start)  # the form again: sent on to "done"
    assert page.status_code == 303
    done = browser.client.get(page.headers["Location"])
    assert "Thank you" in done.text
    assert "phq9_1" not in done.text


def test_an_expired_link_is_refused(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.measures_link(owner, couple.partner_a)
    link = db_session().scalar(sa.select(ClientLink).where(ClientLink.purpose == "measures"))
    link.expires_at = utcnow() - timedelta(minutes=1)
    db_session().commit()
    opened = app.test_client().get(f"/clinic/m/{token}")
    assert opened.status_code == 410


def test_the_other_partners_browser_cannot_open_the_page(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    token_a = make.measures_link(owner, couple.partner_a)
    token_b = make.measures_link(owner, couple.partner_b)
    browser_a = PartnerBrowser(app, token_a, "measures")
    browser_b = PartnerBrowser(app, token_b, "measures")
    assert browser_b.client.get(browser_a.start).status_code == 404
