"""The therapist's dashboard and case pages, through the test client."""

from __future__ import annotations

import re

import sqlalchemy as sa

from reconnect_clinic.models import AuditEvent, Couple
from reconnect_clinic.state import db_session
from tests.helpers import csrf_from, login, post_form

NEW_CASE = {
    "label": "",
    "status": "active",
    "opened_on": "2026-10-01",
    "partner_a-first_name": "Robin",
    "partner_a-last_name": "Ng",
    "partner_a-email": "robin@example.org",
    "partner_a-pronouns": "she/her",
    "partner_b-first_name": "Sasha",
    "partner_b-last_name": "Ng",
    "partner_b-email": "",
    "partner_b-pronouns": "",
}


def test_dashboard_lists_only_own_couples(client, make):
    me, other = make.therapist(), make.therapist()
    make.couple(me, label="Mine", a="Ines", b="Tomas")
    make.couple(other, label="Theirs")
    login(client, me.email)
    page = client.get("/clinic/")
    assert page.status_code == 200
    assert "Mine" in page.text
    assert "Ines Morgan · Tomas Morgan" in page.text  # partner A, then B
    assert "Theirs" not in page.text


def test_dashboard_filters_by_status(client, make):
    me = make.therapist()
    make.couple(me, label="Open one")
    make.couple(me, label="Closed one", status="closed")
    login(client, me.email)
    assert "Closed one" not in client.get("/clinic/").text
    closed = client.get("/clinic/?show=closed").text
    assert "Closed one" in closed
    assert "Open one" not in closed
    everything = client.get("/clinic/?show=all").text
    assert "Closed one" in everything
    assert "Open one" in everything
    assert client.get("/clinic/?show=nonsense").status_code == 200


def test_open_a_case_with_two_partners(client, make):
    me = make.therapist()
    login(client, me.email)
    response = post_form(client, "/clinic/couples/new", NEW_CASE)
    assert response.status_code == 302
    couple = db_session().scalars(sa.select(Couple)).one()
    assert couple.label == "Robin & Sasha"
    assert [p.role for p in couple.partners] == ["a", "b"]
    assert couple.partner_a.email == "robin@example.org"
    assert couple.partner_b.email is None
    page = client.get(response.headers["Location"])
    assert "Robin Ng" in page.text
    assert "Sasha Ng" in page.text
    actions = set(db_session().scalars(sa.select(AuditEvent.action)))
    assert {"couple.create", "couple.view"} <= actions


def test_validation_errors_sit_beside_fields_and_keep_input(client, make):
    me = make.therapist()
    login(client, me.email)
    bad = {
        **NEW_CASE,
        "partner_a-first_name": "",
        "partner_b-email": "not-an-email",
        "opened_on": "2999-01-01",
        "label": "Kept label",
        "partner_b-first_name": "Kept name",
    }
    response = post_form(client, "/clinic/couples/new", bad)
    assert response.status_code == 200
    html = response.text
    assert "Please enter a first name." in html
    assert "Please enter a valid email address." in html
    assert "A case cannot open on a future date." in html
    # What was typed is still there.
    assert 'value="Kept label"' in html
    assert 'value="Kept name"' in html
    assert 'value="not-an-email"' in html
    # Errors are tied to their fields for screen readers.
    assert 'aria-describedby="partner_a-first_name-error"' in html
    assert db_session().scalar(sa.select(sa.func.count()).select_from(Couple)) == 0


def test_post_without_csrf_token_is_refused(client, make):
    me = make.therapist()
    login(client, me.email)
    response = client.post("/clinic/couples/new", data=NEW_CASE)
    assert response.status_code == 400
    assert db_session().scalar(sa.select(sa.func.count()).select_from(Couple)) == 0


def test_edit_case_and_close_it(client, make):
    me = make.therapist()
    couple = make.couple(me, label="Before")
    login(client, me.email)
    url = f"/clinic/couples/{couple.id}/edit"
    form = client.get(url)
    assert 'value="Before"' in form.text
    data = {
        **NEW_CASE,
        "label": "After",
        "status": "closed",
        "opened_on": couple.opened_on.isoformat(),
    }
    response = post_form(client, url, data)
    assert response.status_code == 302
    db_session().expire_all()
    edited = db_session().get(Couple, couple.id)
    assert edited.label == "After"
    assert edited.status == "closed"
    assert edited.closed_on is not None
    assert edited.partner_a.first_name == "Robin"
    # Reopening clears the closing date.
    response = post_form(client, url, {**data, "status": "active"})
    db_session().expire_all()
    assert db_session().get(Couple, couple.id).closed_on is None


def test_unknown_status_is_a_form_error(client, make):
    me = make.therapist()
    login(client, me.email)
    response = post_form(client, "/clinic/couples/new", {**NEW_CASE, "status": "deleted"})
    assert response.status_code == 200
    assert "Not a valid choice" in response.text


def test_another_therapists_couple_is_404(client, make):
    owner, intruder = make.therapist(), make.therapist()
    couple = make.couple(owner, label="Private")
    login(client, intruder.email)
    for url in (f"/clinic/couples/{couple.id}", f"/clinic/couples/{couple.id}/edit"):
        response = client.get(url)
        assert response.status_code == 404
        assert "Private" not in response.text
    token = csrf_from(client.get("/clinic/").text)
    response = client.post(
        f"/clinic/couples/{couple.id}/edit", data={**NEW_CASE, "csrf_token": token}
    )
    assert response.status_code == 404


def test_soft_deleted_couple_is_404(client, make):
    from reconnect_clinic.models import utcnow

    me = make.therapist()
    couple = make.couple(me)
    couple.deleted_at = utcnow()
    db_session().commit()
    login(client, me.email)
    assert client.get(f"/clinic/couples/{couple.id}").status_code == 404
    assert couple.label not in client.get("/clinic/?show=all").text


def test_admin_sees_all_cases_only_when_configured(app, client, make):
    owner, admin = make.therapist(), make.therapist(admin=True)
    couple = make.couple(owner, label="Owner's case")
    login(client, admin.email)
    assert client.get(f"/clinic/couples/{couple.id}").status_code == 404
    assert "Owner&#39;s case" not in client.get("/clinic/").text
    app.config["RECONNECT_CLINIC_ADMINS_SEE_ALL_CASES"] = True
    try:
        assert client.get(f"/clinic/couples/{couple.id}").status_code == 200
        assert "Owner&#39;s case" in client.get("/clinic/").text
    finally:
        app.config["RECONNECT_CLINIC_ADMINS_SEE_ALL_CASES"] = False


def test_free_text_is_escaped(client, make):
    me = make.therapist()
    login(client, me.email)
    payload = "<script>alert(1)</script>"
    data = {**NEW_CASE, "label": payload, "partner_a-first_name": payload}
    response = post_form(client, "/clinic/couples/new", data, follow_redirects=True)
    assert payload not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert payload not in client.get("/clinic/").text


def test_an_implausible_opened_date_is_refused_beside_the_field(client, make):
    me = make.therapist()
    login(client, me.email)
    response = post_form(
        client, "/clinic/couples/new", {**NEW_CASE, "opened_on": "0001-01-01", "label": "Kept"}
    )
    assert response.status_code == 200
    error = re.search(r'<p class="error" id="opened_on-error">([^<]*)</p>', response.text)
    assert error.group(1) == "A case cannot open before 1950: please check the year."
    assert 'value="0001-01-01"' in response.text
    assert 'value="Kept"' in response.text
    assert db_session().scalar(sa.select(sa.func.count()).select_from(Couple)) == 0
