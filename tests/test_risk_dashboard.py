"""The therapist sees risk first: the dashboard's marker and order (in one statement), the
couple page's panel and its actions, and the email, sent once, naming no one."""

from __future__ import annotations

import re

import sqlalchemy as sa

from reconnect_clinic.cases.listing import CaseLine, order_by_attention
from reconnect_clinic.intake.content import page_spec
from reconnect_clinic.models import AuditEvent, RiskAssessment, RiskDisclosure
from reconnect_clinic.risk import RiskKind, RiskLevel, RiskStatus
from reconnect_clinic.risk.operations import AssessmentDetails, assess
from reconnect_clinic.risk.views import assessment_problem
from reconnect_clinic.state import db_session
from reconnect_clinic.taxonomy import load
from tests.helpers import PartnerBrowser, csrf_from, login
from tests.test_email import _free_port, smtp  # noqa: F401 - the SMTP server fixture
from tests.test_query_counts import assert_same_count, statements_for

SAFETY = page_spec(load(), "safety")


def disclose(app, make, owner, partner, page="safety", **values):
    browser = PartnerBrowser(app, make.intake_link(owner, partner))
    response = browser.post(page, values, action="save")
    assert response.status_code == 302, response.text[:500]
    return browser


def acknowledge(owner, partner, kind=RiskKind.SAFETY):
    assess(partner, owner, AssessmentDetails(kind, RiskStatus.ACKNOWLEDGED, plan="Seen."))
    db_session().commit()


def case_names(page: str) -> list[str]:
    return re.findall(r'class="case-name" href="[^"]+">([^<]+)</a>', page)


# --- the dashboard ---------------------------------------------------------------------


def test_open_risks_come_first_high_before_concern(client, app, make):
    owner = make.therapist()
    quiet = make.couple(owner, label="Aardvark")
    concern = make.couple(owner, label="Badger")
    high = make.couple(owner, label="Cormorant")
    seen = make.couple(owner, label="Dingo")
    disclose(app, make, owner, concern.partner_b, safety_afraid="yes")
    disclose(app, make, owner, high.partner_a, page="wellbeing", phq9_9="3")
    disclose(app, make, owner, seen.partner_a, safety_hurt="yes")
    acknowledge(owner, seen.partner_a)
    login(client, owner.email)
    page = client.get("/clinic/").text
    assert case_names(page) == ["Cormorant", "Badger", "Aardvark", "Dingo"]
    assert quiet.label in page


def _case_item(page: str, label: str) -> str:
    start = page.index(f">{label}</a>")
    return page[page.rindex("<li", 0, start) : page.index("</li>", start)]


def test_the_marker_says_the_level_in_words_with_an_icon(client, app, make):
    owner = make.therapist()
    concern = make.couple(owner, label="Badger")
    high = make.couple(owner, label="Cormorant")
    make.couple(owner, label="Aardvark")
    disclose(app, make, owner, concern.partner_b, safety_afraid="discuss")
    disclose(app, make, owner, high.partner_a, safety_strangled="yes")
    login(client, owner.email)
    page = client.get("/clinic/").text
    assert "Open risk: high" in _case_item(page, "Cormorant")
    assert "Open risk: concern" in _case_item(page, "Badger")
    assert "Open risk" not in _case_item(page, "Aardvark")
    assert '<span class="risk-icon" aria-hidden="true">⚠</span>' in _case_item(page, "Badger")
    assert "case-at-risk" in _case_item(page, "Badger")


def test_the_marker_names_no_partner_and_no_answer(client, app, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Badger")
    disclose(app, make, owner, couple.partner_b, safety_afraid="yes")
    login(client, owner.email)
    item = _case_item(client.get("/clinic/").text, "Badger")
    assert "afraid" not in item.lower()
    assert "safety" not in item.lower()


def test_an_acknowledged_risk_has_no_marker(client, app, make):
    owner = make.therapist()
    couple = make.couple(owner, label="Dingo")
    disclose(app, make, owner, couple.partner_a, safety_hurt="yes")
    acknowledge(owner, couple.partner_a)
    login(client, owner.email)
    assert "Open risk" not in client.get("/clinic/").text


def test_another_therapists_risks_do_not_mark_my_cases(client, app, make):
    owner, other = make.therapist(), make.therapist()
    theirs = make.couple(other, label="Theirs")
    make.couple(owner, label="Mine")
    disclose(app, make, other, theirs.partner_a, safety_hurt="yes")
    login(client, owner.email)
    page = client.get("/clinic/").text
    assert case_names(page) == ["Mine"]
    assert "Open risk" not in page


def test_the_dashboard_costs_the_same_for_two_flagged_couples_or_eight(client, app, make):
    owner = make.therapist()

    def flagged(n: int) -> None:
        couple = make.couple(owner, label=f"Couple {n}", a=f"A{n}", b=f"B{n}")
        disclose(app, make, owner, couple.partner_a, safety_afraid="yes")
        if n % 2:
            disclose(app, make, owner, couple.partner_b, page="wellbeing", phq9_9="1")
        if n % 3 == 0:
            acknowledge(owner, couple.partner_a)

    for n in range(2):
        flagged(n)
    login(client, owner.email)
    client.get("/clinic/")
    two, _ = statements_for(app, client, "/clinic/?show=all")
    for n in range(2, 8):
        flagged(n)
    eight, page = statements_for(app, client, "/clinic/?show=all")
    assert_same_count(two, eight)
    # Couples 0 and 6: A's risk acknowledged, nothing else open (3's B has one open).
    assert page.count("Open risk:") == 6
    assert len(case_names(page)) == 8


def test_order_by_attention_keeps_the_lists_order_within_each_group():
    from datetime import date
    from uuid import uuid4

    lines = [CaseLine(uuid4(), n, "active", date(2026, 1, 1), None, ()) for n in "abcde"]
    levels = {
        lines[1].id: RiskLevel.CONCERN,
        lines[3].id: RiskLevel.HIGH,
        lines[4].id: RiskLevel.CONCERN,
    }
    ordered = order_by_attention(lines, levels)
    assert [line.label for line in ordered] == ["d", "b", "e", "a", "c"]
    assert [line.risk_level for line in ordered][:3] == [
        RiskLevel.HIGH,
        RiskLevel.CONCERN,
        RiskLevel.CONCERN,
    ]


# --- the couple page's panel ---------------------------------------------------------


def _panel(page: str) -> str:
    start = page.index('<section id="risks"')
    return page[start : page.index("</section>", start)]


def test_the_panel_says_what_by_whom_when_how_urgent_and_where_it_stands(client, app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    disclose(app, make, owner, couple.partner_a, safety_afraid="yes", safety_note="Call first.")
    disclose(app, make, owner, couple.partner_b, page="wellbeing", phq9_9="2")
    login(client, owner.email)
    panel = _panel(client.get(f"/clinic/couples/{couple.id}").text)
    assert "Needs your attention" in panel
    assert "Safety concern: partner A, Alex Morgan" in panel
    assert "Thoughts of self-harm: partner B, Blake Morgan" in panel
    assert SAFETY.question("safety_afraid").label in panel
    assert "Call first." in panel
    assert "Thoughts of self-harm reported (PHQ-9 item 9)" in panel
    assert "More than half the days" in panel
    assert "Open · level: high" in panel
    assert "Open · level: concern" in panel
    assert "first seen 20" in panel
    assert "saved in an intake not yet submitted" in panel


def _seen(page: str) -> str:
    """The moment the page's (first) risk card says it showed."""
    return re.search(r'name="seen" value="([^"]+)"', page).group(1)


def _post_risk(client, couple, role, *, page=None, **data):
    """Post the therapist's word as the couple's page (drawn now, or ``page``) sends it."""
    page = page or client.get(f"/clinic/couples/{couple.id}").text
    fields = {"csrf_token": csrf_from(page), **data}
    if 'name="seen"' in page:
        fields.setdefault("seen", _seen(page))
    return client.post(
        f"/clinic/couples/{couple.id}/partners/{role}/risk", data=fields, follow_redirects=True
    )


def test_acknowledge_with_a_plan_then_resolve_then_reopen(client, app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    disclose(app, make, owner, couple.partner_a, safety_afraid="yes")
    login(client, owner.email)
    refused = _post_risk(client, couple, "a", kind="safety", status="acknowledged", plan=" ")
    assert "Please write a short plan" in refused.text
    assert db_session().scalars(sa.select(RiskAssessment)).all() == []

    done = _post_risk(
        client, couple, "a", kind="safety", status="acknowledged", plan="Individual session."
    )
    panel = _panel(done.text)
    assert "Risk acknowledged, with your plan." in done.text
    assert "Risk and safety" in panel
    assert "Acknowledged · level: concern" in panel
    assert f"Acknowledged</strong> by {owner.display_name}" in panel
    assert "Individual session." in panel

    resolved = _panel(_post_risk(client, couple, "a", kind="safety", status="resolved").text)
    assert "Resolved · level: concern" in resolved
    reopened = _panel(_post_risk(client, couple, "a", kind="safety", status="open").text)
    assert "Open · level: concern" in reopened
    actions = list(
        db_session().scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.action.like("risk.%"))
            .order_by(AuditEvent.id)
        )
    )
    assert actions == ["risk.acknowledged", "risk.resolved", "risk.open"]


def test_what_was_disclosed_after_the_page_was_drawn_is_not_acknowledged(client, app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    browser = disclose(app, make, owner, couple.partner_a, safety_afraid="yes")
    login(client, owner.email)
    drawn = client.get(f"/clinic/couples/{couple.id}").text
    browser.post("safety", {"safety_weapon": "yes"}, action="save")  # while it was open
    for status in ("acknowledged", "resolved"):
        refused = _post_risk(
            client, couple, "a", page=drawn, kind="safety", status=status, plan="Seen."
        )
        assert "That risk has changed since the page was drawn" in refused.text
    assert db_session().scalars(sa.select(RiskAssessment)).all() == []
    # Drawn again, it shows the new answer, and can be acknowledged.
    fresh = client.get(f"/clinic/couples/{couple.id}").text
    assert SAFETY.question("safety_weapon").label in _panel(fresh)
    done = _post_risk(client, couple, "a", kind="safety", status="acknowledged", plan="Seen.")
    assert "Risk acknowledged" in done.text


def test_a_word_without_the_moment_seen_is_refused(client, app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    disclose(app, make, owner, couple.partner_a, safety_afraid="yes")
    login(client, owner.email)
    page = _post_risk(client, couple, "a", kind="safety", status="resolved", seen="not a time").text
    assert "That risk has changed" in page
    assert db_session().scalars(sa.select(RiskAssessment)).all() == []


def test_the_therapist_opens_a_risk_no_one_disclosed(client, app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    assert "Nothing disclosed" in client.get(f"/clinic/couples/{couple.id}").text
    page = _post_risk(
        client, couple, "b", kind="active_affair", status="open", level="2", plan="Ongoing."
    ).text
    panel = _panel(page)
    assert "Active affair: partner B, Blake Morgan" in panel
    assert "Open · level: high" in panel
    assert "Opened by the therapist" in panel
    assert "Ongoing." in panel
    assert "Open risk: high" in client.get("/clinic/").text


def test_a_word_the_state_does_not_allow_is_refused(client, app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    page = _post_risk(client, couple, "a", kind="safety", status="resolved").text
    assert "That risk has changed" in page
    assert db_session().scalars(sa.select(RiskAssessment)).all() == []


def test_only_the_couples_therapist_may_assess(client, app, make):
    owner, other = make.therapist(), make.therapist()
    couple = make.couple(owner)
    disclose(app, make, owner, couple.partner_a, safety_afraid="yes")
    login(client, other.email)
    token = csrf_from(client.get("/clinic/").text)
    url = f"/clinic/couples/{couple.id}/partners/a/risk"
    data = {"csrf_token": token, "kind": "safety", "status": "resolved"}
    assert client.post(url, data=data).status_code == 404
    assert client.get(f"/clinic/couples/{couple.id}").status_code == 404
    assert db_session().scalars(sa.select(RiskAssessment)).all() == []


def test_assessing_needs_a_csrf_token_and_a_real_partner(client, app, make, monkeypatch):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    url = f"/clinic/couples/{couple.id}/partners/a/risk"
    assert client.post(url, data={"kind": "safety", "status": "open"}).status_code == 400
    # A host without an app-wide CSRFProtect: the view's own form check refuses it.
    monkeypatch.setitem(app.config, "WTF_CSRF_CHECK_DEFAULT", False)
    assert client.post(url, data={"kind": "safety", "status": "open"}).status_code == 400
    monkeypatch.undo()
    token = csrf_from(client.get("/clinic/").text)
    missing = client.post(
        f"/clinic/couples/{couple.id}/partners/c/risk",
        data={"csrf_token": token, "kind": "safety", "status": "open"},
    )
    assert missing.status_code == 404
    assert db_session().scalars(sa.select(RiskAssessment)).all() == []


def test_a_partner_cannot_assess(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    browser = disclose(app, make, owner, couple.partner_a, safety_afraid="yes")
    answer = browser.client.post(
        f"/clinic/couples/{couple.id}/partners/a/risk", data={"status": "resolved"}
    )
    assert answer.status_code in (302, 400)
    assert "/clinic/login" in answer.headers.get("Location", "/clinic/login")
    assert db_session().scalars(sa.select(RiskAssessment)).all() == []


def test_assessment_problem():
    assert assessment_problem(RiskStatus.ACKNOWLEDGED, "  ") is not None
    assert assessment_problem(RiskStatus.ACKNOWLEDGED, "Plan") is None
    assert assessment_problem(RiskStatus.RESOLVED, "") is None
    assert assessment_problem(RiskStatus.OPEN, "") is None


# --- the email ---------------------------------------------------------------------------


def test_one_email_per_new_risk_naming_no_client_and_no_answer(app, make, smtp):  # noqa: F811
    owner = make.therapist(email="dr.hale@example.org")
    couple = make.couple(owner, label="Harbour case")
    browser = disclose(app, make, owner, couple.partner_a, safety_afraid="yes")
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == ["dr.hale@example.org"]
    assert "Subject: A case needs your attention" in message
    assert f"/clinic/couples/{couple.id}" in message
    for secret in (
        "Alex",
        "Blake",
        "Morgan",
        "Harbour",
        "alex@example.org",
        "afraid",
        "safety",
        "Yes",
    ):
        assert secret not in message, secret
    # The same answer again, and another answer of the same open risk: no more email.
    browser.post("safety", {"safety_afraid": "yes"}, action="save")
    browser.post("safety", {"safety_hurt": "yes"}, action="save")
    assert len(smtp.messages) == 1
    # A risk of another kind is a new risk: one more.
    browser.post("wellbeing", {"phq9_9": "1"}, action="save")
    assert len(smtp.messages) == 2
    sent = [r for r in db_session().scalars(sa.select(RiskDisclosure)) if r.alerted_at]
    assert len(sent) == 2


def test_a_reopened_risk_emails_again(app, make, smtp):  # noqa: F811
    owner = make.therapist()
    couple = make.couple(owner)
    browser = disclose(app, make, owner, couple.partner_b, safety_afraid="yes")
    acknowledge(owner, couple.partner_b)
    browser.post("safety", {"safety_threatened": "yes"}, action="save")
    assert len(smtp.messages) == 2


def test_the_submission_sends_nothing_more(app, make, smtp):  # noqa: F811
    owner = make.therapist()
    couple = make.couple(owner)
    browser = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    browser.fill(make.intake_answers(safety="yes", measure_pick="last"))
    assert len(smtp.messages) == 2  # safety and self-harm, each when first saved


def test_a_failed_email_stays_due_and_goes_out_once_later(app, make, smtp, cli):  # noqa: F811
    owner = make.therapist()
    couple = make.couple(owner)
    port = app.config["RECONNECT_CLINIC_SMTP_PORT"]
    app.config["RECONNECT_CLINIC_SMTP_PORT"] = _free_port()  # nothing listens there
    try:
        disclose(app, make, owner, couple.partner_a, safety_afraid="yes")
    finally:
        app.config["RECONNECT_CLINIC_SMTP_PORT"] = port
    row = db_session().scalars(sa.select(RiskDisclosure)).one()
    assert row.alert_due
    assert row.alerted_at is None
    assert smtp.messages == []
    no_url = cli.invoke(args=["clinic", "send-risk-alerts"])
    assert no_url.exit_code != 0
    assert "RECONNECT_CLINIC_PUBLIC_URL" in no_url.output
    app.config["RECONNECT_CLINIC_PUBLIC_URL"] = "https://clinic.example.org"
    try:
        first = cli.invoke(args=["clinic", "send-risk-alerts"])
        second = cli.invoke(args=["clinic", "send-risk-alerts"])
    finally:
        app.config["RECONNECT_CLINIC_PUBLIC_URL"] = None
    assert "Risk emails sent: 1" in first.output
    assert "Risk emails sent: 0" in second.output
    assert len(smtp.messages) == 1
    assert f"https://clinic.example.org/clinic/couples/{couple.id}" in smtp.messages[0][1]
    db_session().expire_all()
    assert db_session().get(RiskDisclosure, row.id).alerted_at is not None


def test_without_smtp_no_email_is_owed(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    disclose(app, make, owner, couple.partner_a, safety_afraid="yes")
    row = db_session().scalars(sa.select(RiskDisclosure)).one()
    assert not row.alert_due


def test_the_practice_may_turn_the_emails_off(app, make, smtp):  # noqa: F811
    owner = make.therapist()
    couple = make.couple(owner)
    app.config["RECONNECT_CLINIC_RISK_ALERT_EMAILS"] = False
    try:
        disclose(app, make, owner, couple.partner_a, safety_afraid="yes")
    finally:
        app.config["RECONNECT_CLINIC_RISK_ALERT_EMAILS"] = True
    assert smtp.messages == []


def test_a_sender_never_sends_what_another_claimed_first(app, make, smtp, monkeypatch):  # noqa: F811
    """Two senders (a request's hook and the cron command) read the same due email; the
    one that claims it second sends nothing."""
    from reconnect_clinic.models import utcnow
    from reconnect_clinic.risk import alerts

    owner = make.therapist()
    couple = make.couple(owner)
    monkeypatch.setitem(app.config, "RECONNECT_CLINIC_SMTP_PORT", _free_port())
    disclose(app, make, owner, couple.partner_a, safety_afraid="yes")
    monkeypatch.undo()
    read_before = alerts.due_rows()
    assert len(read_before) == 1
    db_session().execute(sa.update(RiskDisclosure).values(alerted_at=utcnow()))
    db_session().commit()  # the other sender's claim
    monkeypatch.setattr(alerts, "due_rows", lambda ids=None: read_before)
    with app.test_request_context("/"):
        assert alerts.send_due() == (0, 0)
    assert smtp.messages == []
