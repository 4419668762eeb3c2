"""Hostile and random input never breaks anything: no 500 from any form or route
parameter, and nothing stored that should not be (Hypothesis)."""

from __future__ import annotations

from urllib.parse import quote

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconnect_clinic.models import Couple, HomeworkCheckIn, IntakePage
from reconnect_clinic.state import db_session, get_state
from tests.helpers import PartnerBrowser, csrf_from, link_ref_from, login

EXAMPLES = 25
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

hostile = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "../../etc/passwd",
            "%00",
            "9" * 5000,
            "-1",
            "2026-02-30",
            "😀" * 40,
            "\u202e\u0000\uffff",
            "{{ 7*7 }}",
            '=HYPERLINK("x")',
        ]
    ),
)
form_data = st.dictionaries(
    st.sampled_from(
        [
            "label",
            "status",
            "opened_on",
            "partner_a-first_name",
            "partner_a-email",
            "partner_b-first_name",
            "partner_b-last_name",
            "legal_hold",
            "exercise",
            "assignee",
            "starts_on",
            "due_on",
            "frequency",
            "times_per_week",
            "note",
            "completion",
            "helpfulness",
            "reflection",
            "share_with_partner",
            "client_key",
            "action",
            "hopes",
            "reasons",
            "safety_afraid",
            "signature",
            "agree",
            "csrf_token",
            "link_ref",
            "body",
            "section_data",
            "risk_level",
            "version",
            "interventions",
            "code",
            "email",
            "password",
        ]
    ),
    hostile,
    max_size=12,
)


@FUZZ
@given(data=form_data)
def test_therapist_forms_never_fail(app, make, data):
    # Every example signs in from the test client's one address, and an address's count
    # of sign-in tries is not cleared by a sign-in (see security/accounts/views.py): start each
    # example's counts afresh, as the app fixture does between tests.
    get_state().login_limiter.reset()
    owner = make.therapist()
    couple = make.couple(owner)
    therapy = make.therapy_session(owner, couple)
    client = app.test_client()
    login(client, owner.email)
    token = csrf_from(client.get("/clinic/").text)
    before = db_session().scalar(sa.select(sa.func.count()).select_from(Couple))
    for url in (
        "/clinic/couples/new",
        f"/clinic/couples/{couple.id}/edit",
        f"/clinic/couples/{couple.id}/homework/new",
        f"/clinic/couples/{couple.id}/sessions/new",
        f"/clinic/couples/{couple.id}/sessions/{therapy.id}",
        "/clinic/exercises/new",
    ):
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code < 500, (url, data)
    # A new case is only ever stored with a first name for each partner.
    for stored in db_session().scalars(sa.select(Couple)):
        assert all(p.first_name.strip() for p in stored.partners)
    assert db_session().scalar(sa.select(sa.func.count()).select_from(Couple)) >= before


@FUZZ
@given(
    data=form_data,
    page=st.sampled_from(
        ["about", "signs", "background", "relationship", "wellbeing", "safety", "consent"]
    ),
)
def test_partner_pages_never_fail(app, make, data, page):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    ref = link_ref_from(partner.get(page).text)
    response = partner.client.post(f"{partner.base}/{page}", data={"link_ref": ref, **data})
    assert response.status_code < 500, data
    for saved in db_session().scalars(sa.select(IntakePage)):
        # Only the page's own questions are kept, never arbitrary posted keys.
        assert set(saved.values) <= {
            "relationship_length",
            "living_together",
            "children",
            "earlier_therapy",
            "reasons",
            "hopes",
            "safety_afraid",
            "safety_hurt",
            "safety_controlled",
            "safety_threatened",
            "safety_insulted",
            "safety_strangled",
            "safety_sexual",
            "safety_weapon",
            "safety_own_force",
            "safety_note",
            "agree",
            "signature",
        } | {
            k
            for k in saved.values
            if k.startswith(("sign__", "cause__", "csi16_", "phq9_", "gad7_"))
        }
    assert "\x00" not in str([p.values for p in db_session().scalars(sa.select(IntakePage))])


@FUZZ
@given(data=form_data)
def test_check_ins_never_fail(app, make, data):
    owner = make.therapist()
    couple = make.couple(owner)
    assignment = make.assignment(owner, couple)
    partner = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    ref = link_ref_from(partner.get().text)
    response = partner.client.post(
        f"{partner.base}/{assignment.id}/check-in", data={**data, "link_ref": ref}
    )
    assert response.status_code < 500, data
    for check_in in db_session().scalars(sa.select(HomeworkCheckIn)):
        assert check_in.completion in ("done", "partly", "not_done")
        assert check_in.helpfulness in (None, 1, 2, 3, 4, 5)


segment = st.one_of(hostile, st.uuids().map(str))


@FUZZ
@given(a=segment, b=segment)
def test_route_parameters_never_fail(app, make, a, b):
    owner = make.therapist()
    client = app.test_client()
    login(client, owner.email)
    qa, qb = quote(a, safe=""), quote(b, safe="")
    for url in (
        f"/clinic/couples/{qa}",
        f"/clinic/couples/{qa}/sessions/{qb}",
        f"/clinic/couples/{qa}/partners/{qb}/intake",
        f"/clinic/couples/{qa}/partners/a/links/{qb}",
        f"/clinic/i/{qa}",
        f"/clinic/h/{qa}",
        f"/clinic/intake/{qa}/{qb}",
        f"/clinic/homework/{qa}/{qb}.ics",
        f"/clinic/exercises/{qa}/edit",
        f"/clinic/?show={qa}",
    ):
        assert client.get(url).status_code < 500, url
