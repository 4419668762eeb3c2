"""Session notes: drafts, optimistic locking, signing, immutability, addenda."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from reconnect_clinic.models import AuditEvent, NoteAddendum, SessionNote, StoredReport
from reconnect_clinic.notes.operations import NoteConflict, NoteLocked, save_note, update_session
from reconnect_clinic.notes.templates import note_templates
from reconnect_clinic.state import db_session
from tests.helpers import csrf_from, login, pdf_text, post_form

NOTE = {
    "section_data": "They talked about the week.",
    "section_assessment": "Some warmth returning.",
    "section_plan": "Keep the check-in.",
    "interventions": ["improve_communication", "practice_active_listening"],
    "risk_level": "none",
    "risk_notes": "",
}


def _open_session(client, couple):
    response = post_form(
        client,
        f"/clinic/couples/{couple.id}/sessions/new",
        {
            "held_on": "2026-11-20",
            "duration_minutes": "50",
            "format": "video",
            "attendance": "both",
        },
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def test_write_save_and_sign_a_note(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    url = _open_session(client, couple)
    page = client.get(url)
    assert "DAP (Data, Assessment, Plan)" in page.text
    saved = post_form(client, url, {**NOTE, "action": "save", "version": ""})
    assert saved.status_code == 302
    note = db_session().scalars(sa.select(SessionNote)).one()
    assert note.status == "draft"
    assert note.content["sections"]["data"] == "They talked about the week."
    form = client.get(url).text
    signed = client.post(
        url,
        data={
            **NOTE,
            "action": "sign",
            "confirm_sign": "y",
            "version": str(note.version),
            "csrf_token": csrf_from(form),
        },
    )
    assert signed.status_code == 302
    db_session().expire_all()
    note = db_session().scalars(sa.select(SessionNote)).one()
    assert note.is_signed
    assert note.signed_by_id == owner.id
    assert note.signed_at
    # Signing renders the session report once and keeps it with its fingerprints.
    stored = db_session().scalars(sa.select(StoredReport)).one()
    assert stored.revision == 1
    assert len(stored.pdf_sha256) == 64
    assert stored.pdf[:5] == b"%PDF-"
    view = client.get(url).text
    assert "Signed by" in view
    assert "Sign and add addendum" in view
    actions = set(db_session().scalars(sa.select(AuditEvent.action)))
    assert {"session.create", "note.save", "note.sign"} <= actions


def test_a_signed_note_refuses_edits_and_takes_addenda(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    therapy = make.therapy_session(owner, couple)
    note = make.signed_note(owner, therapy)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/sessions/{therapy.id}"
    token = csrf_from(client.get(url).text)
    refused = client.post(
        url,
        data={**NOTE, "action": "save", "version": str(note.version), "csrf_token": token},
        follow_redirects=True,
    )
    assert "signed" in refused.text
    db_session().expire_all()
    assert (
        db_session().get(SessionNote, note.id).content["sections"]["data"].startswith("Both spoke")
    )
    with pytest.raises(NoteLocked):
        save_note(therapy, owner, template="dap", content={}, based_on_version=note.version)
    db_session().rollback()
    with pytest.raises(NoteLocked):
        update_session(therapy, owner, None)  # type: ignore[arg-type]
    db_session().rollback()

    empty = client.post(f"{url}/addenda", data={"body": "", "csrf_token": token})
    assert "Please write the addendum." in empty.text
    added = client.post(
        f"{url}/addenda", data={"body": "Correction: it was Thursday.", "csrf_token": token}
    )
    assert added.status_code == 302
    addendum = db_session().scalars(sa.select(NoteAddendum)).one()
    assert addendum.signed_by_id == owner.id
    assert addendum.signed_at
    assert "Correction: it was Thursday." in client.get(url).text
    # The stored report is issued again with the addendum in it.
    stored = db_session().scalars(sa.select(StoredReport)).one()
    assert "Correction: it was Thursday." in pdf_text(stored.pdf)
    client.post(f"{url}/addenda", data={"body": "Second addendum.", "csrf_token": token})
    revisions = (
        db_session().scalars(sa.select(StoredReport.revision).order_by(StoredReport.revision)).all()
    )
    assert revisions == [1, 2]  # earlier revisions are kept as they were


def test_two_editors_never_overwrite_each_other(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    url = _open_session(client, couple)
    post_form(client, url, {**NOTE, "action": "save", "version": ""})
    first = client.get(url).text
    second = client.get(url).text
    version = db_session().scalars(sa.select(SessionNote.version)).one()
    client.post(
        url,
        data={
            **NOTE,
            "section_data": "Editor one",
            "action": "save",
            "version": str(version),
            "csrf_token": csrf_from(first),
        },
    )
    late = client.post(
        url,
        data={
            **NOTE,
            "section_data": "Editor two",
            "action": "save",
            "version": str(version),
            "csrf_token": csrf_from(second),
        },
    )
    assert late.status_code == 200
    assert "changed somewhere else" in late.text
    assert "Editor two" in late.text  # still in the form
    assert "Editor one" in late.text  # the saved version shown beside it
    db_session().expire_all()
    assert (
        db_session().scalars(sa.select(SessionNote)).one().content["sections"]["data"]
        == "Editor one"
    )
    with pytest.raises(NoteConflict):
        save_note(
            db_session().scalars(sa.select(SessionNote)).one().therapy_session,
            owner,
            template="dap",
            content={},
            based_on_version=version,
        )


def test_switching_template_keeps_earlier_sections(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    url = _open_session(client, couple)
    post_form(client, url, {**NOTE, "action": "save", "version": ""})
    version = db_session().scalars(sa.select(SessionNote.version)).one()
    soap = client.get(url + "?template=soap").text
    assert "Subjective" in soap
    client.post(
        url,
        data={
            "template": "soap",
            "section_subjective": "Felt closer.",
            "risk_level": "low",
            "action": "save",
            "version": str(version),
            "csrf_token": csrf_from(soap),
        },
    )
    db_session().expire_all()
    note = db_session().scalars(sa.select(SessionNote)).one()
    assert note.template == "soap"
    assert note.content["sections"]["data"] == "They talked about the week."
    assert note.content["sections"]["subjective"] == "Felt closer."


def test_several_sessions_on_one_date_and_bad_input(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    assert _open_session(client, couple) != _open_session(client, couple)
    bad = post_form(
        client,
        f"/clinic/couples/{couple.id}/sessions/new",
        {"held_on": "tomorrow", "duration_minutes": "0", "format": "phone", "attendance": "both"},
    )
    assert bad.status_code == 200
    assert "Please give the date as YYYY-MM-DD." in bad.text
    assert "Between 5 and 480 minutes" in bad.text
    assert "Not a valid choice" in bad.text


def test_notes_of_another_therapist_are_404(client, make):
    owner, other = make.therapist(), make.therapist()
    couple = make.couple(owner)
    therapy = make.therapy_session(owner, couple)
    make.signed_note(owner, therapy)
    login(client, other.email)
    base = f"/clinic/couples/{couple.id}/sessions/{therapy.id}"
    for url in (
        base,
        f"{base}/report",
        f"{base}/report.pdf",
        f"/clinic/couples/{couple.id}/progress-report",
        f"/clinic/couples/{couple.id}/intake-summary.pdf",
    ):
        assert client.get(url).status_code == 404, url
    token = csrf_from(client.get("/clinic/").text)
    assert (
        client.post(f"{base}/addenda", data={"body": "x", "csrf_token": token}).status_code == 404
    )


def test_practice_templates_from_config():
    templates = note_templates({"emdr": {"title": "EMDR", "sections": [["target", "Target", ""]]}})
    assert {"dap", "soap", "emdr"} <= set(templates)
    with pytest.raises(ValueError, match="malformed"):
        note_templates({"bad": {"title": "x"}})
    with pytest.raises(ValueError, match="distinct keys"):
        note_templates({"bad": {"title": "x", "sections": [["a", "A", ""], ["a", "B", ""]]}})


# --- risk on the note (issue #14): no default, open risks shown, no silent "no risk" ------


def _disclose(app, make, owner, partner, **values):
    from tests.helpers import PartnerBrowser

    browser = PartnerBrowser(app, make.intake_link(owner, partner))
    assert browser.post("safety", values, action="save").status_code == 302


def _risk_inputs(page: str) -> list[str]:
    import re

    return re.findall(r'<input[^>]*name="risk_level"[^>]*>', page)


def test_a_new_note_has_no_risk_level_chosen(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    page = client.get(_open_session(client, couple)).text
    inputs = _risk_inputs(page)
    assert len(inputs) == 4
    assert not any("checked" in tag for tag in inputs)


def test_a_draft_may_leave_the_risk_level_open(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    url = _open_session(client, couple)
    saved = post_form(client, url, {**NOTE, "risk_level": "", "action": "save", "version": ""})
    assert saved.status_code == 302
    note = db_session().scalars(sa.select(SessionNote)).one()
    assert note.content["risk"]["level"] == ""
    assert not any("checked" in tag for tag in _risk_inputs(client.get(url).text))


def _sign(client, url, **fields):
    note = db_session().scalars(sa.select(SessionNote)).one_or_none()
    data = {**NOTE, "action": "sign", "version": str(note.version) if note else "", **fields}
    return post_form(client, url, data)


def test_signing_needs_a_risk_level_and_a_confirmation(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    url = _open_session(client, couple)
    no_level = _sign(client, url, risk_level="", confirm_sign="y")
    assert no_level.status_code == 200
    assert "Please record the risk level before signing." in no_level.text
    unconfirmed = _sign(client, url)
    assert unconfirmed.status_code == 200
    assert "Please tick the box to confirm" in unconfirmed.text
    assert "They talked about the week." in unconfirmed.text  # nothing typed is lost
    assert db_session().scalars(sa.select(SessionNote)).one_or_none() is None
    signed = _sign(client, url, confirm_sign="y")
    assert signed.status_code == 302
    assert db_session().scalars(sa.select(SessionNote)).one().is_signed


def test_the_note_page_shows_the_couples_current_risks_beside_its_risk_section(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    _disclose(app, make, owner, couple.partner_a, safety_afraid="yes")
    login(client, owner.email)
    page = client.get(_open_session(client, couple)).text
    risk_section = page[page.index('id="note-risk-h"') : page.index('name="risk_notes"')]
    assert "Current risks for this couple" in risk_section
    assert "Safety concern</strong>: partner A, Alex" in risk_section
    assert "Open · level: concern" in risk_section
    assert 'name="risk_level"' in risk_section
    assert "Why no current risk, although a risk is open" in page


def test_no_current_risk_while_a_risk_is_open_needs_a_written_reason(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    _disclose(app, make, owner, couple.partner_b, safety_hurt="yes")
    login(client, owner.email)
    url = _open_session(client, couple)
    refused = _sign(client, url, risk_level="none", confirm_sign="y")
    assert refused.status_code == 200
    assert "write why you judge there is no current risk" in refused.text
    assert db_session().scalars(sa.select(SessionNote)).one_or_none() is None
    reason = "Seen alone today: the incident was two years ago, no contact since."
    signed = _sign(client, url, risk_level="none", risk_none_reason=reason, confirm_sign="y")
    assert signed.status_code == 302, signed.text
    note = db_session().scalars(sa.select(SessionNote)).one()
    assert note.is_signed
    assert note.content["risk"]["none_reason"] == reason
    assert reason in client.get(url).text
    pdf = db_session().scalars(sa.select(StoredReport)).one().pdf
    text = " ".join(pdf_text(pdf).split())
    assert "Why no current risk, although a risk was open" in text
    assert reason in text


def test_a_risk_level_other_than_none_needs_no_reason(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    _disclose(app, make, owner, couple.partner_b, safety_hurt="yes")
    login(client, owner.email)
    url = _open_session(client, couple)
    assert _sign(client, url, risk_level="moderate", confirm_sign="y").status_code == 302


def test_a_resolved_risk_lets_no_current_risk_be_signed_plainly(client, make, app):
    from reconnect_clinic.risk import RiskKind, RiskStatus
    from reconnect_clinic.risk.operations import AssessmentDetails, assess

    owner = make.therapist()
    couple = make.couple(owner)
    _disclose(app, make, owner, couple.partner_a, safety_afraid="yes")
    assess(couple.partner_a, owner, AssessmentDetails(RiskKind.SAFETY, RiskStatus.RESOLVED))
    db_session().commit()
    login(client, owner.email)
    url = _open_session(client, couple)
    assert "Current risks for this couple" not in client.get(url).text
    assert _sign(client, url, risk_level="none", confirm_sign="y").status_code == 302


@pytest.mark.parametrize(
    ("fields", "problems"),
    [
        ({"risk_level": None}, {"risk_level", "confirm_sign"}),
        ({"risk_level": "none", "current_risks": 1}, {"risk_none_reason", "confirm_sign"}),
        ({"risk_level": "none", "current_risks": 1, "none_reason": " "}, {"risk_none_reason"}),
        ({"risk_level": "none", "current_risks": 1, "none_reason": "Why."}, set()),
        ({"risk_level": "none"}, set()),
        ({"risk_level": "high", "current_risks": 2}, set()),
    ],
)
def test_signing_problems(fields, problems):
    from reconnect_clinic.notes.rules import signing_problems

    arguments = {"none_reason": "", "confirmed": True, "current_risks": 0, **fields}
    if "confirm_sign" in problems:
        arguments["confirmed"] = False
    assert set(signing_problems(**arguments)) == problems


@pytest.mark.parametrize(
    ("held_on", "message"),
    [
        ("2099-01-01", "A session can be at most a year ahead: please check the year."),
        ("0001-01-01", "A session can be at most 10 years back"),
    ],
)
def test_a_session_date_out_of_bounds_is_refused_beside_the_field(client, make, held_on, message):
    from reconnect_clinic.models import TherapySession

    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/sessions/new"
    data = {"held_on": held_on, "duration_minutes": "50", "format": "video", "attendance": "both"}
    response = post_form(client, url, data)
    assert response.status_code == 200
    error = re.search(r'<p class="error" id="held_on-error">([^<]*)</p>', response.text)
    assert error.group(1).startswith(message)
    assert f'value="{held_on}"' in response.text
    assert db_session().scalar(sa.select(sa.func.count()).select_from(TherapySession)) == 0
    # Changing an existing session's date is held to the same bounds.
    therapy = make.therapy_session(owner, couple)
    kept = therapy.held_on
    changed = post_form(client, url, data | {"held_on": held_on}, follow_redirects=False)
    assert changed.status_code == 200
    details = client.post(
        f"/clinic/couples/{couple.id}/sessions/{therapy.id}/details",
        data=data | {"csrf_token": csrf_from(changed.text)},
    )
    assert details.status_code == 200
    assert 'id="held_on-error"' in details.text
    db_session().expire_all()
    assert db_session().get(TherapySession, therapy.id).held_on == kept


def test_an_over_long_addendum_is_refused_and_kept_whole(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    therapy = make.therapy_session(owner, couple)
    make.signed_note(owner, therapy)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/sessions/{therapy.id}"
    page = client.get(url).text
    textarea = re.search(r'<textarea[^>]*name="body"[^>]*>', page).group(0)
    assert " maxlength=" not in textarea
    assert 'aria-describedby="body-hint body-limit"' in textarea
    assert '<p class="hint char-count" id="body-limit">Up to 20,000 characters.</p>' in page
    written = "Correction. " * 1700 + "The end."
    assert len(written) > 20000
    response = client.post(f"{url}/addenda", data={"csrf_token": csrf_from(page), "body": written})
    assert response.status_code == 200
    error = re.search(r'<p class="error" id="body-error">([^<]*)</p>', response.text)
    assert error.group(1) == "Field cannot be longer than 20000 characters."
    assert written in response.text
    assert db_session().scalar(sa.select(sa.func.count()).select_from(NoteAddendum)) == 0


def test_an_over_long_note_section_is_refused_and_kept_whole(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    url = _open_session(client, couple)
    page = client.get(url).text
    assert "Up to 50,000 characters." in page
    written = "They spoke at length. " * 2300
    assert len(written) > 50000
    data = {**NOTE, "section_data": written, "csrf_token": csrf_from(page), "action": "save"}
    response = client.post(url, data=data)
    assert response.status_code == 200
    error = re.search(r'<p class="error" id="section_data-error">([^<]*)</p>', response.text)
    assert error.group(1) == "Field cannot be longer than 50000 characters."
    shown = re.search(
        r'<textarea[^>]*name="section_data"[^>]*>\s*([^<]*)</textarea>', response.text
    )
    assert shown.group(1) == written.strip()
    assert db_session().scalar(sa.select(sa.func.count()).select_from(SessionNote)) == 0
