"""The stored risk state: every source of a disclosure recorded through the real views (a
partner's draft saves, the submission, a later measure), once; the therapist's word on
it; the backfill of intakes stored before it; and the queries over it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from reconnect_clinic.intake.content import SAFETY_YES, pages_for
from reconnect_clinic.measures.operations import store_measure_result
from reconnect_clinic.models import (
    AuditEvent,
    IntakeResponse,
    MeasureResult,
    RiskAssessment,
    RiskDisclosure,
)
from reconnect_clinic.risk import RiskKind, RiskLevel, RiskStatus
from reconnect_clinic.risk.operations import (
    AssessmentDetails,
    AssessmentRefused,
    allowed_statuses,
    assess,
)
from reconnect_clinic.risk.queries import open_levels, risk_records, risks_by_role
from reconnect_clinic.security.encryption.cipher import FieldCipher
from reconnect_clinic.state import db_session, get_state
from reconnect_clinic.taxonomy import load
from tests.helpers import TEST_KEYS, PartnerBrowser

SAFETY = next(p for p in pages_for(load()) if p.slug == "safety")
# Every safety question a partner can answer "yes" to, whatever the page holds today.
YES_QUESTIONS = [
    q.name for q in SAFETY.questions if q.kind == "radio" and SAFETY_YES in dict(q.choices)
]
HIGH_ITEMS = {"safety_strangled", "safety_weapon"}


def disclosures() -> list[RiskDisclosure]:
    db_session().expire_all()
    return list(
        db_session().scalars(sa.select(RiskDisclosure).order_by(RiskDisclosure.first_seen_at))
    )


def partner_browser(app, make, owner, partner) -> PartnerBrowser:
    return PartnerBrowser(app, make.intake_link(owner, partner))


def test_the_safety_page_asks_what_the_core_knows() -> None:
    # The parametrised tests below cover each of these; an empty list would test nothing.
    assert len(YES_QUESTIONS) >= 4
    assert "safety_afraid" in YES_QUESTIONS


@pytest.mark.parametrize("question", YES_QUESTIONS)
def test_each_safety_answer_in_a_draft_save_is_recorded(app, make, question):
    owner = make.therapist()
    couple = make.couple(owner)
    browser = partner_browser(app, make, owner, couple.partner_a)
    saved = browser.post("safety", {question: "yes"}, action="save")
    assert saved.status_code == 302
    (row,) = disclosures()
    assert row.partner_id == couple.partner_a.id
    assert row.kind == "safety"
    assert row.source == "safety_answer"
    assert row.item == question
    assert row.level == (2 if question in HIGH_ITEMS else 1)
    response = db_session().scalars(sa.select(IntakeResponse)).one()
    assert row.occasion_id == response.id
    assert response.status == "draft"


def test_talk_in_person_is_recorded_as_a_concern(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    browser = partner_browser(app, make, owner, couple.partner_b)
    browser.post("safety", {"safety_weapon": "discuss"}, action="save")
    (row,) = disclosures()
    assert (row.item, row.level) == ("safety_weapon", 1)


def test_a_safety_note_with_every_answer_no_is_recorded(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    browser = partner_browser(app, make, owner, couple.partner_a)
    values = {q: "no" for q in YES_QUESTIONS}
    browser.post("safety", {**values, "safety_note": "He reads my messages."}, action="save")
    (row,) = disclosures()
    assert (row.kind, row.source, row.item) == ("safety", "safety_note", "safety_note")


def test_nothing_of_the_answer_is_stored_with_the_disclosure(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    browser = partner_browser(app, make, owner, couple.partner_a)
    browser.post("safety", {"safety_note": "Only for you: the car keys."}, action="save")
    table = RiskDisclosure.__table__
    with db_session().get_bind().connect() as connection:
        stored = connection.execute(sa.select(table)).one()
    assert all("car keys" not in str(value) for value in stored)


@pytest.mark.parametrize(("points", "level"), [("1", 1), ("2", 2), ("3", 2)])
def test_phq9_item_9_in_a_draft_is_recorded(app, make, points, level):
    owner = make.therapist()
    couple = make.couple(owner)
    browser = partner_browser(app, make, owner, couple.partner_a)
    browser.post("wellbeing", {"phq9_9": points}, action="save")
    (row,) = disclosures()
    assert (row.kind, row.source, row.item, row.level) == (
        "self_harm",
        "measure_item",
        "phq9_9",
        level,
    )


def test_what_was_disclosed_is_sealed_at_rest(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    browser = partner_browser(app, make, owner, couple.partner_a)
    browser.post("safety", {"safety_strangled": "yes"}, action="save")
    browser.post("wellbeing", {"phq9_9": "3"}, action="save")
    db_session().commit()
    with db_session().get_bind().connect() as connection:
        stored = " ".join(
            str(value)
            for row in connection.execute(sa.select(RiskDisclosure.__table__))
            for value in row
        )
    for word in ("safety", "self_harm", "strangled", "phq9", "measure_item", '"level"'):
        assert word not in stored
    kinds = {(row.kind, row.source, row.item, row.level) for row in disclosures()}
    assert kinds == {
        ("safety", "safety_answer", "safety_strangled", 2),
        ("self_harm", "measure_item", "phq9_9", 2),
    }


def test_the_therapists_kind_and_level_are_sealed_at_rest(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    details = AssessmentDetails(RiskKind.SELF_HARM, RiskStatus.OPEN, RiskLevel.HIGH)
    assess(couple.partner_b, owner, details)
    db_session().commit()
    with db_session().get_bind().connect() as connection:
        stored = connection.execute(sa.select(RiskAssessment.__table__)).one()
        audit = connection.execute(sa.select(AuditEvent.__table__.c.detail)).scalars().all()
    assert all("self_harm" not in str(value) for value in stored)
    assert all("self_harm" not in str(detail) for detail in audit)
    row = db_session().scalars(sa.select(RiskAssessment)).one()
    assert (row.kind, row.level, row.status) == ("self_harm", 2, "open")


def _disclosure(partner_id, occasion_id, *, item="safety_afraid", level=1) -> RiskDisclosure:
    return RiskDisclosure(
        partner_id=partner_id,
        kind="safety",
        level=level,
        source="safety_answer",
        item=item,
        occasion_id=occasion_id,
    )


def test_the_database_keeps_a_disclosure_once_per_occasion(app, make):
    """Two requests recording the same answer at once: the fingerprint's unique
    constraint lets one in (what ``record_disclosures`` relies on)."""
    couple = make.couple(make.therapist())
    occasion = uuid.uuid4()
    db_session().add(_disclosure(couple.partner_a.id, occasion))
    db_session().flush()
    with pytest.raises(IntegrityError), db_session().begin_nested():
        db_session().add(_disclosure(couple.partner_a.id, occasion, level=2))
    # Another question, another occasion, another partner: each its own disclosure.
    db_session().add(_disclosure(couple.partner_a.id, occasion, item="safety_hurt"))
    db_session().add(_disclosure(couple.partner_a.id, uuid.uuid4()))
    db_session().add(_disclosure(couple.partner_b.id, occasion))
    db_session().flush()
    assert len(disclosures()) == 4


@pytest.mark.parametrize(
    "values",
    [{"kind": "burnout"}, {"level": 3}, {"source": "rumour"}, {"item": ""}],
)
def test_a_disclosure_the_models_do_not_know_is_refused(app, make, values):
    couple = make.couple(make.therapist())
    fields = {
        "partner_id": couple.partner_a.id,
        "occasion_id": uuid.uuid4(),
        "kind": "safety",
        "level": 1,
        "source": "safety_answer",
        "item": "safety_afraid",
    }
    with pytest.raises(ValueError, match="risk"):
        RiskDisclosure(**{**fields, **values})


@pytest.mark.parametrize("values", [{"kind": "burnout"}, {"level": 0}, {"status": "closed"}])
def test_an_assessment_the_models_do_not_know_is_refused(app, make, values):
    owner = make.therapist()
    couple = make.couple(owner)
    fields = {
        "partner_id": couple.partner_a.id,
        "therapist_id": owner.id,
        "kind": "safety",
        "level": 1,
        "status": "open",
    }
    with pytest.raises(ValueError, match="risk"):
        RiskAssessment(**{**fields, **values})


def test_rotation_refreshes_the_fingerprints(app, make, cli):
    """Fingerprints are keyed from the current encryption key: ``rotate-keys`` sets them
    again, so the old key can go and "once per occasion" still holds."""
    owner = make.therapist()
    couple = make.couple(owner)
    browser = partner_browser(app, make, owner, couple.partner_a)
    browser.post("safety", {"safety_afraid": "yes"}, action="save")
    (row,) = disclosures()
    before = row.fingerprint
    state = get_state()
    original = state.cipher
    try:
        state.cipher = FieldCipher.from_config({"k2": TEST_KEYS["k2"]}, "k2")
        fresh = _disclosure(couple.partner_a.id, row.occasion_id)
        assert fresh.fingerprint != before  # a new key, a new fingerprint
        state.cipher = FieldCipher.from_config(TEST_KEYS, "k2")
        result = cli.invoke(args=["clinic", "rotate-keys"])
        assert result.exit_code == 0, result.output
        (rotated,) = disclosures()
        assert rotated.facts_sealed.startswith("v1.k2.")
        assert rotated.fingerprint == fresh.fingerprint
        state.cipher = FieldCipher.from_config({"k2": TEST_KEYS["k2"]}, "k2")
        with pytest.raises(IntegrityError), db_session().begin_nested():
            db_session().add(_disclosure(couple.partner_a.id, row.occasion_id))
        browser.post("safety", {"safety_afraid": "yes"}, action="save")
        assert len(disclosures()) == 1
    finally:
        state.cipher = original


def test_phq9_item_9_at_zero_records_nothing(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    partner_browser(app, make, owner, couple.partner_a).post(
        "wellbeing", {"phq9_9": "0"}, action="save"
    )
    assert disclosures() == []


def test_saving_the_same_answer_again_records_it_once(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    browser = partner_browser(app, make, owner, couple.partner_a)
    browser.post("safety", {"safety_afraid": "yes"}, action="save")
    browser.post("safety", {"safety_afraid": "yes"}, action="save")
    browser.post("safety", {"safety_afraid": "yes"}, action="next")
    assert len(disclosures()) == 1


def test_changing_an_answer_back_to_no_keeps_the_disclosure(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    browser = partner_browser(app, make, owner, couple.partner_a)
    browser.post("safety", {"safety_afraid": "yes"}, action="save")
    browser.post("safety", {"safety_afraid": "no"}, action="save")
    (row,) = disclosures()
    assert row.item == "safety_afraid"


def test_submission_records_item_9_once_and_what_a_draft_did_not(app, make):
    """An intake whose pages were saved before risk state was kept (its rows removed
    here) is recorded when submitted; item 9 comes once, not again from the measure."""
    owner = make.therapist()
    couple = make.couple(owner)
    browser = partner_browser(app, make, owner, couple.partner_a)
    answers = make.intake_answers(safety="yes", measure_pick="last")
    consent = answers.pop("consent")
    browser.fill(answers)
    assert {r.item for r in disclosures()} >= {"phq9_9", "safety_afraid"}
    db_session().execute(sa.delete(RiskDisclosure))
    db_session().commit()
    assert browser.post("consent", consent).status_code == 302
    response = db_session().scalars(sa.select(IntakeResponse)).one()
    assert response.status == "submitted"
    rows = disclosures()
    assert [r.item for r in rows if r.kind == "self_harm"] == ["phq9_9"]
    assert {r.item for r in rows if r.kind == "safety"} == set(YES_QUESTIONS)
    assert {r.occasion_id for r in rows} == {response.id}


def test_submitting_after_draft_saves_adds_nothing_twice(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    browser = partner_browser(app, make, owner, couple.partner_a)
    browser.fill(make.intake_answers(measure_pick="last"))
    assert [(r.kind, r.item) for r in disclosures()] == [("self_harm", "phq9_9")]


def _later_phq9(partner, item_9: int) -> MeasureResult:
    result = store_measure_result(
        MeasureResult(
            partner_id=partner.id,
            instrument="phq9",
            total=item_9,
            band="minimal",
            flags=[],
            item_points=[0] * 8 + [item_9],
            administered_at=datetime.now(UTC),
        )
    )
    db_session().commit()
    return result


def test_a_later_measure_opens_the_risk_again(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = couple.partner_a
    partner_browser(app, make, owner, partner).post("wellbeing", {"phq9_9": "1"}, action="save")
    assess(partner, owner, AssessmentDetails(RiskKind.SELF_HARM, RiskStatus.RESOLVED))
    db_session().commit()
    (risk,) = risks_by_role(couple)["a"]
    assert risk.status is RiskStatus.RESOLVED
    later = _later_phq9(partner, 2)
    rows = disclosures()
    assert len(rows) == 2
    assert rows[-1].occasion_id == later.id
    (risk,) = risks_by_role(couple)["a"]
    assert risk.status is RiskStatus.OPEN
    assert risk.level is RiskLevel.HIGH


def test_a_later_measure_with_item_9_at_zero_records_nothing(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    _later_phq9(couple.partner_b, 0)
    assert disclosures() == []


def test_acknowledge_resolve_and_reopen(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = couple.partner_a
    browser = partner_browser(app, make, owner, partner)
    browser.post("safety", {"safety_afraid": "yes"}, action="save")

    def state():
        (risk,) = risks_by_role(couple)["a"]
        return risk.status

    assert state() is RiskStatus.OPEN
    assess(partner, owner, AssessmentDetails(RiskKind.SAFETY, RiskStatus.ACKNOWLEDGED, plan="Call"))
    db_session().commit()
    assert state() is RiskStatus.ACKNOWLEDGED
    # The same answer saved again reopens nothing ...
    browser.post("safety", {"safety_afraid": "yes"}, action="save")
    assert state() is RiskStatus.ACKNOWLEDGED
    # ... a new one does.
    browser.post("safety", {"safety_hurt": "yes"}, action="save")
    assert state() is RiskStatus.OPEN
    assess(partner, owner, AssessmentDetails(RiskKind.SAFETY, RiskStatus.RESOLVED))
    db_session().commit()
    assert state() is RiskStatus.RESOLVED
    assess(partner, owner, AssessmentDetails(RiskKind.SAFETY, RiskStatus.OPEN))
    db_session().commit()
    assert state() is RiskStatus.OPEN
    actions = list(
        db_session().scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.action.like("risk.%"))
            .order_by(AuditEvent.id)
        )
    )
    assert actions == ["risk.acknowledged", "risk.resolved", "risk.open"]


def test_the_plan_is_sealed_at_rest(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    assess(
        couple.partner_b,
        owner,
        AssessmentDetails(RiskKind.ACTIVE_AFFAIR, RiskStatus.OPEN, plan="Ongoing since May."),
    )
    db_session().commit()
    with db_session().get_bind().connect() as connection:
        stored = connection.execute(sa.select(RiskAssessment.__table__.c.plan)).scalar_one()
    assert "May" not in stored
    row = db_session().scalars(sa.select(RiskAssessment)).one()
    assert row.plan == "Ongoing since May."


def test_acknowledging_a_risk_that_is_not_there_is_refused(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    with pytest.raises(AssessmentRefused):
        assess(
            couple.partner_a,
            owner,
            AssessmentDetails(RiskKind.SAFETY, RiskStatus.ACKNOWLEDGED, plan="x"),
        )
    db_session().rollback()
    assert db_session().scalars(sa.select(RiskAssessment)).all() == []


@pytest.mark.parametrize(
    ("current", "allowed"),
    [
        (None, {RiskStatus.OPEN}),
        (RiskStatus.OPEN, {RiskStatus.ACKNOWLEDGED, RiskStatus.RESOLVED, RiskStatus.OPEN}),
        (
            RiskStatus.ACKNOWLEDGED,
            {RiskStatus.ACKNOWLEDGED, RiskStatus.RESOLVED, RiskStatus.OPEN},
        ),
        (RiskStatus.RESOLVED, {RiskStatus.OPEN}),
    ],
)
def test_allowed_statuses(current, allowed):
    assert allowed_statuses(current) == allowed


def test_open_levels_takes_each_couples_most_urgent_open_risk():
    couple_1, couple_2, couple_3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    t0 = datetime(2026, 11, 2, tzinfo=UTC)
    rows = [
        (couple_1, a, "d", "safety", 1, None, t0),
        (couple_1, b, "d", "self_harm", 2, None, t0),
        (couple_2, c, "d", "safety", 2, None, t0),
        (couple_2, c, "a", "safety", 1, "acknowledged", t0 + timedelta(hours=1)),
        (couple_3, d, "a", "active_affair", 1, "open", t0),
    ]
    assert open_levels(rows) == {couple_1: RiskLevel.HIGH, couple_3: RiskLevel.CONCERN}


def test_risk_records_take_two_statements_for_any_number_of_partners(app, make):
    from tests.test_query_counts import counted

    owner = make.therapist()
    couples = [make.couple(owner, label=f"C{n}") for n in range(3)]
    for couple in couples:
        assess(couple.partner_a, owner, AssessmentDetails(RiskKind.ACTIVE_AFFAIR, RiskStatus.OPEN))
    db_session().commit()
    ids = [p.id for couple in couples for p in couple.partners]
    with counted(app) as statements:
        records = risk_records(ids)
        risks = records.by_partner(ids)
        names = [a.therapist.display_name for a in records.assessments]
    assert len(statements) == 2
    assert sum(len(r) for r in risks.values()) == 3
    assert names == [owner.display_name] * 3


def test_backfill_records_what_earlier_intakes_disclosed(app, make, cli):
    owner = make.therapist()
    couple = make.couple(owner)
    browser = partner_browser(app, make, owner, couple.partner_a)
    browser.post("safety", {"safety_afraid": "yes", "safety_note": "Call me first."}, "save")
    browser.post("wellbeing", {"phq9_9": "2"}, action="save")
    _later_phq9(couple.partner_b, 1)
    before = {(r.partner_id, r.kind, r.source, r.item, r.occasion_id) for r in disclosures()}
    assert len(before) == 4
    # As after migration 0012 on a database holding these intakes: no rows yet.
    db_session().execute(sa.delete(RiskDisclosure))
    db_session().commit()
    first = cli.invoke(args=["clinic", "risk-backfill"])
    assert first.exit_code == 0, first.output
    assert "4 disclosures recorded" in first.output
    rows = disclosures()
    assert {(r.partner_id, r.kind, r.source, r.item, r.occasion_id) for r in rows} == before
    # Dated when the page was saved, and owing no email.
    safety_page = next(
        p
        for r in db_session().scalars(sa.select(IntakeResponse))
        for p in r.pages
        if p.page == "safety"
    )
    assert {r.first_seen_at for r in rows if r.kind == "safety"} == {safety_page.saved_at}
    assert not any(r.alert_due for r in rows)
    again = cli.invoke(args=["clinic", "risk-backfill"])
    assert again.exit_code == 0, again.output
    assert "recorded" not in again.output.split("\n")[0]
    assert len(disclosures()) == 4


def test_db_upgrade_backfills_too(app, make, cli):
    owner = make.therapist()
    couple = make.couple(owner)
    partner_browser(app, make, owner, couple.partner_a).post(
        "safety", {"safety_hurt": "yes"}, action="save"
    )
    db_session().execute(sa.delete(RiskDisclosure))
    db_session().commit()
    result = cli.invoke(args=["clinic", "db-upgrade"])
    assert result.exit_code == 0, result.output
    assert "1 disclosures recorded" in result.output
    assert [r.item for r in disclosures()] == ["safety_hurt"]


def test_purge_removes_the_risk_rows(app, make):
    from reconnect_clinic.cases.lifecycle import purge_case

    owner = make.therapist()
    couple = make.couple(owner)
    partner_browser(app, make, owner, couple.partner_a).post(
        "safety", {"safety_hurt": "yes"}, action="save"
    )
    assess(couple.partner_a, owner, AssessmentDetails(RiskKind.SAFETY, RiskStatus.RESOLVED))
    db_session().commit()
    purge_case(couple.id)
    db_session().commit()
    assert disclosures() == []
    assert db_session().scalars(sa.select(RiskAssessment)).all() == []
