"""Consent as signed: each intake keeps the exact text its partner signed (sealed) and its
SHA-256, whatever the practice's settings become; the practice may put consent first and
add a "no-secrets" policy, which is then part of what is signed."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import sqlalchemy as sa

from reconnect_clinic.intake.consent import NO_SECRETS_HEADING, consent_document
from reconnect_clinic.intake.content import page_slugs
from reconnect_clinic.models import IntakePage, IntakeResponse
from reconnect_clinic.state import db_session, get_state
from tests.helpers import PartnerBrowser, login

OLD_TEXT = "Wombat consent, first edition: I agree to couples therapy."
NEW_TEXT = "Wombat consent, second edition: I agree to something else entirely."
POLICY = "Tapir policy: what one of you tells me alone, I may bring to joint sessions."


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _response() -> IntakeResponse:
    db_session().expire_all()
    return db_session().scalars(sa.select(IntakeResponse)).one()


def _consent_text(app: Any, monkeypatch: Any, text: str) -> None:
    monkeypatch.setitem(app.config, "RECONNECT_CLINIC_CONSENT_TEXT", text)


# --- the document (pure) ---------------------------------------------------------------


def test_the_signed_text_is_the_consent_then_the_policy_under_its_heading():
    plain = consent_document(OLD_TEXT, None)
    assert plain.signed_text == OLD_TEXT
    assert plain.sha256 == _sha(OLD_TEXT)
    with_policy = consent_document(OLD_TEXT, POLICY)
    assert with_policy.signed_text == f"{OLD_TEXT}\n\n{NO_SECRETS_HEADING}\n{POLICY}"
    assert with_policy.sha256 != plain.sha256
    assert consent_document(OLD_TEXT, "  ").no_secrets_policy is None


# --- through the intake ----------------------------------------------------------------


def test_the_text_signed_and_its_hash_are_kept_and_survive_a_new_text(
    client, make, app, monkeypatch
):
    _consent_text(app, monkeypatch, OLD_TEXT)
    owner = make.therapist()
    couple = make.couple(owner)
    PartnerBrowser(app, make.intake_link(owner, couple.partner_a)).fill(make.intake_answers())
    response = _response()
    assert response.consent_text == OLD_TEXT
    assert response.consent_sha256 == _sha(OLD_TEXT)
    assert response.consent_name == "Alex Morgan"
    raw = db_session().execute(sa.text("SELECT consent_text FROM clinic_intake_response"))
    assert "Wombat" not in raw.scalar_one()  # sealed at rest

    _consent_text(app, monkeypatch, NEW_TEXT)
    response = _response()
    assert response.consent_text == OLD_TEXT
    assert response.consent_sha256 == _sha(OLD_TEXT)
    login(client, owner.email)
    record = client.get(f"/clinic/couples/{couple.id}/partners/a/intake").text
    assert "Consent as signed" in record
    assert OLD_TEXT in record
    assert NEW_TEXT not in record
    assert _sha(OLD_TEXT) in record


def test_the_no_secrets_policy_is_shown_with_the_consent_and_signed(make, app, monkeypatch):
    _consent_text(app, monkeypatch, OLD_TEXT)
    monkeypatch.setitem(app.config, "RECONNECT_CLINIC_NO_SECRETS_POLICY", POLICY)
    owner = make.therapist()
    couple = make.couple(owner)
    browser = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    page = browser.get("consent").text
    assert NO_SECRETS_HEADING in page
    assert POLICY in page
    assert page.index(OLD_TEXT) < page.index(POLICY)
    browser.fill(make.intake_answers())
    signed = consent_document(OLD_TEXT, POLICY).signed_text
    assert _response().consent_text == signed
    assert POLICY in _response().consent_text
    assert _response().consent_sha256 == _sha(signed)


def test_without_a_policy_the_consent_page_names_none(make, app, monkeypatch):
    owner = make.therapist()
    couple = make.couple(owner)
    page = PartnerBrowser(app, make.intake_link(owner, couple.partner_a)).get("consent").text
    assert NO_SECRETS_HEADING not in page


def test_consent_first_is_the_first_page_and_nothing_is_saved_before_it(make, app, monkeypatch):
    monkeypatch.setitem(app.config, "RECONNECT_CLINIC_CONSENT_FIRST", True)
    _consent_text(app, monkeypatch, OLD_TEXT)
    slugs = page_slugs(get_state().taxonomy)
    assert slugs[0] == "consent"
    assert slugs.count("consent") == 1
    owner = make.therapist()
    couple = make.couple(owner)
    browser = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    resumed = browser.get()
    assert resumed.headers["Location"].endswith("/consent")
    first = browser.get("consent").text
    assert "Step 1 of" in first
    assert "Before you begin" in first
    # Another page, asked for or sent before signing, leads back to the consent page.
    answers = make.intake_answers()
    assert next(iter(answers)) == "consent"
    ref_page = browser.get("about")
    assert ref_page.status_code == 302
    assert ref_page.headers["Location"].endswith("/consent")
    link_ref = re.search(r'name="link_ref" value="([^"]+)"', first).group(1)
    sent = browser.client.post(
        f"{browser.base}/about", data={**answers["about"], "link_ref": link_ref}
    )
    assert sent.headers["Location"].endswith("/consent")
    assert db_session().scalar(sa.select(sa.func.count()).select_from(IntakePage)) == 0

    # Signed first under one text; the practice changes it before the partner submits.
    signed = browser.post("consent", answers["consent"])
    assert signed.headers["Location"].endswith("/about")
    _consent_text(app, monkeypatch, NEW_TEXT)
    browser.fill({slug: values for slug, values in answers.items() if slug != "consent"})
    response = _response()
    assert response.status == "submitted"
    assert response.consent_name == "Alex Morgan"
    assert response.consent_text == OLD_TEXT  # what they read when they signed


def test_consent_last_is_the_default(app):
    assert page_slugs(get_state().taxonomy)[-1] == "consent"
    assert app.config["RECONNECT_CLINIC_CONSENT_FIRST"] is False
    assert app.config["RECONNECT_CLINIC_NO_SECRETS_POLICY"] is None
