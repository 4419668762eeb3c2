"""Free text is encrypted at rest, bound to its place, and re-sealed by key rotation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from reconnect_clinic.models import (
    CustomExercise,
    HomeworkAssignment,
    HomeworkCheckIn,
    IntakePage,
    IntakeResponse,
    MeasureResult,
    NoteAddendum,
    RiskDisclosure,
    SessionNote,
    StoredReport,
    Therapist,
    metadata,
)
from reconnect_clinic.models.at_rest import CLEAR_COLUMNS, at_rest_problems, sealed_columns
from reconnect_clinic.models.sealed import sealed_fields
from reconnect_clinic.notes.operations import add_addendum
from reconnect_clinic.security.encryption.cipher import EncryptionError, FieldCipher, new_key
from reconnect_clinic.state import db_session, get_state
from tests import sealed_scenario
from tests.helpers import TEST_KEYS, PartnerBrowser, link_ref_from, pdf_text
from tests.sealed_scenario import MARKERS, SIGNATURES

SECRET = "Zebra-marmalade confession 4417"


def _raw_dump() -> str:
    """Every clinic table as the database holds it, as a database dump would show."""
    engine = db_session().get_bind()
    db_session().commit()
    rows = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                rows.append(repr(tuple(row)))
    return "\n".join(rows)


def test_free_text_is_unreadable_in_the_database(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    therapy = make.therapy_session(owner, couple)
    note = make.signed_note(owner, therapy, data=f"note {SECRET}")
    add_addendum(note, owner, f"addendum {SECRET}")
    assignment = make.assignment(owner, couple)
    assignment.therapist_note = f"homework note {SECRET}"
    db_session().commit()
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    partner.post("about", {"hopes": f"intake {SECRET}"}, action="save")
    homework = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    page = homework.get().text
    key = page.split('name="client_key" type="hidden" value="')[1].split('"')[0]
    homework.client.post(
        f"{homework.base}/{assignment.id}/check-in",
        data={
            "completion": "done",
            "reflection": f"reflection {SECRET}",
            "link_ref": link_ref_from(page),
            "client_key": key,
        },
    )
    dump = _raw_dump()
    assert SECRET not in dump
    assert "Zebra" not in dump
    # ...while the product reads every one of them back.
    db_session().expire_all()
    assert SECRET in db_session().get(SessionNote, note.id).content["sections"]["data"]
    assert SECRET in db_session().scalars(sa.select(NoteAddendum)).one().body
    assert SECRET in db_session().scalars(sa.select(IntakePage)).one().values["hopes"]
    assert SECRET in db_session().scalars(sa.select(HomeworkCheckIn)).one().reflection


def test_a_ciphertext_copied_elsewhere_does_not_open(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    first = make.signed_note(owner, make.therapy_session(owner, couple), data=SECRET)
    second = make.signed_note(owner, make.therapy_session(owner, couple), data="other")
    second.content_sealed = first.content_sealed  # moved to another row
    with pytest.raises(EncryptionError, match="does not decrypt"):
        _ = second.content
    cipher = get_state().cipher
    sealed = cipher.seal("x", table="t", column="c", row_id=first.id)
    with pytest.raises(EncryptionError):
        cipher.open(sealed, table="t", column="other", row_id=first.id)
    with pytest.raises(EncryptionError):
        cipher.open(sealed[:-4] + "AAAA", table="t", column="c", row_id=first.id)
    db_session().rollback()


def test_rotation_reseals_with_the_new_key(app, make, cli):
    owner = make.therapist()
    couple = make.couple(owner)
    note = make.signed_note(owner, make.therapy_session(owner, couple), data=SECRET)
    assert note.content_sealed.startswith("v1.k1.")
    state = get_state()
    original = state.cipher
    try:
        state.cipher = FieldCipher.from_config(TEST_KEYS, "k2")  # k2 is now current
        result = cli.invoke(args=["clinic", "rotate-keys"])
        assert result.exit_code == 0, result.output
        assert "Re-sealed" in result.output
        db_session().expire_all()
        rotated = db_session().get(SessionNote, note.id)
        assert rotated.content_sealed.startswith("v1.k2.")
        # With the old key gone, everything still opens.
        state.cipher = FieldCipher.from_config({"k2": TEST_KEYS["k2"]}, "k2")
        assert SECRET in rotated.content["sections"]["data"]
        again = cli.invoke(args=["clinic", "rotate-keys"])
        assert "Re-sealed 0 values" in again.output
    finally:
        state.cipher = original


def test_a_missing_key_is_a_clear_error(app):
    cipher = FieldCipher.from_config({"a": new_key()}, "a")
    sealed = cipher.seal("x", table="t", column="c", row_id=uuid.uuid4())
    other = FieldCipher.from_config({"b": new_key()}, "b")
    with pytest.raises(EncryptionError, match="not configured"):
        other.open(sealed, table="t", column="c", row_id=uuid.uuid4())


def test_new_key_command(cli):
    result = cli.invoke(args=["clinic", "new-key"])
    assert FieldCipher.from_config({"x": result.output.strip()}, "x")


# --- every clinical value sealed: a raw dump after a realistic practice ----------------


@pytest.fixture
def practice(databases: Any, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """An app of its own on a fresh database, so its dump holds only this test's rows."""
    with sealed_scenario.practice_app(databases, tmp_path) as made:
        yield made


def test_a_raw_dump_holds_nothing_clinical_in_clear(practice):
    app, url = practice
    sealed_scenario.realistic_practice(app)
    stored = db_session().scalars(sa.select(StoredReport).order_by(StoredReport.revision)).all()
    assert [s.revision for s in stored] == [1, 2]
    assert MARKERS["addendum"] in pdf_text(stored[-1].pdf)
    results = sealed_scenario.measure_results()
    assert len(results) == 7  # three measures for each partner, and one given again later
    db_session().commit()
    dump = sealed_scenario.raw_dump(url)
    # The dump is the real thing: the partners' names, kept in clear on purpose, are in it.
    assert b"Alex" in dump
    leaks = sealed_scenario.leaks(dump, results)
    assert leaks["markers"] == []
    assert leaks["signatures"] == []
    assert leaks["flags"] == []
    assert leaks["risk"] == []
    assert leaks["item lists"] == []
    assert leaks["item patterns"] == []
    assert leaks["bands"] == []
    assert leaks["pdf"] == []


def test_the_product_reads_every_sealed_value_back(practice):
    app, _ = practice
    couple = sealed_scenario.realistic_practice(app)
    db_session().expire_all()
    response_a = (
        db_session()
        .scalars(sa.select(IntakeResponse).where(IntakeResponse.partner_id == couple.partner_a.id))
        .one()
    )
    assert response_a.consent_name == SIGNATURES["a"]
    assert response_a.scores["flags"] == ["safety_concern", "self_harm_risk"]
    later = (
        db_session()
        .scalars(sa.select(MeasureResult).where(MeasureResult.intake_response_id.is_(None)))
        .one()
    )
    assert later.item_points == sealed_scenario.LATER_PHQ9
    assert later.total == sum(sealed_scenario.LATER_PHQ9)
    assert later.band == "moderate"  # a total of 10
    assert later.flags == ["self_harm_risk"]
    exercise = db_session().scalars(sa.select(CustomExercise)).one()
    assert exercise.instructions == [MARKERS["exercise_instruction"]]
    assignment = db_session().scalars(sa.select(HomeworkAssignment)).one()
    assert assignment.title == MARKERS["exercise_title"]
    assert assignment.suggestion_reason == MARKERS["assignment_reason"]
    assert assignment.content["purpose"] == MARKERS["exercise_purpose"]
    assert db_session().scalars(sa.select(HomeworkCheckIn)).one().helpfulness == 4
    stored = db_session().scalars(sa.select(StoredReport).order_by(StoredReport.revision)).all()
    assert all(s.pdf.startswith(b"%PDF-") for s in stored)
    assert all(s.pdf_sealed.startswith(b"v1.k1.") for s in stored)


def test_a_sealed_pdf_is_bound_to_its_row(practice):
    app, _ = practice
    sealed_scenario.realistic_practice(app)
    first, second = (
        db_session().scalars(sa.select(StoredReport).order_by(StoredReport.revision)).all()
    )
    second.pdf_sealed = first.pdf_sealed  # moved to another row
    with pytest.raises(EncryptionError, match="does not decrypt"):
        _ = second.pdf
    db_session().rollback()


# --- every column sealed, or in clear for a written reason ------------------------------


def test_every_column_is_sealed_or_kept_in_clear_for_a_written_reason():
    problems = at_rest_problems(metadata.sorted_tables, sealed_columns(), CLEAR_COLUMNS)
    assert problems == []


def test_a_column_neither_sealed_nor_listed_is_caught():
    table = sa.Table(
        "clinic_example",
        sa.MetaData(),
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("secret", sa.Text),
        sa.Column("body", sa.Text),
    )
    problems = at_rest_problems(
        [table],
        {("clinic_example", "body"): "body"},
        {"clinic_example": {"id": "a key", "gone": "a column since removed"}},
    )
    assert problems == [
        "clinic_example.secret is neither sealed nor listed in CLEAR_COLUMNS "
        "(models/at_rest.py) with its reason",
        "clinic_example.gone is listed but does not exist",
    ]


def test_sealed_fields_are_found_on_the_mappers():
    found = set(sealed_fields())
    assert (Therapist, "totp_secret") in found  # missed by the old hand-kept list
    assert (StoredReport, "pdf") in found
    assert (MeasureResult, "item_points") in found
    assert (IntakeResponse, "consent_name") in found
    assert (RiskDisclosure, "facts") in found  # a Sealed of its own kind (it fingerprints)


# --- key rotation covers every sealed column --------------------------------------------

# Columns this rotation test fills, at least (the scenario, and a second factor turned on).
ROTATED = (
    "clinic_custom_exercise.instructions",
    "clinic_custom_exercise.purpose",
    "clinic_custom_exercise.reflection_prompts",
    "clinic_custom_exercise.therapist_note",
    "clinic_custom_exercise.title",
    "clinic_homework_assignment.content",
    "clinic_homework_assignment.suggestion_reason",
    "clinic_homework_assignment.therapist_note",
    "clinic_homework_assignment.title",
    "clinic_homework_check_in.helpfulness",
    "clinic_homework_check_in.reflection",
    "clinic_intake_page.values",
    "clinic_intake_response.consent_name",
    "clinic_intake_response.scores",
    "clinic_measure_result.band",
    "clinic_measure_result.flags",
    "clinic_measure_result.item_points",
    "clinic_measure_result.total",
    "clinic_note_addendum.body",
    "clinic_risk_assessment.facts",
    "clinic_risk_assessment.plan",
    "clinic_risk_disclosure.facts",
    "clinic_session_note.content",
    "clinic_stored_report.pdf",
    "clinic_therapist.totp_secret",
)


def test_rotation_reseals_every_sealed_column(practice):
    app, _ = practice
    sealed_scenario.realistic_practice(app)
    therapist = db_session().scalars(sa.select(Therapist)).one()
    therapist.totp_secret = "JBSWY3DPEHPK3PXP"
    db_session().commit()
    before = sealed_scenario.clinical_values()
    state = get_state()
    original = state.cipher
    try:
        state.cipher = FieldCipher.from_config(TEST_KEYS, "k2")  # k2 is now current
        result = app.test_cli_runner().invoke(args=["clinic", "rotate-keys"])
        assert result.exit_code == 0, result.output
        db_session().expire_all()
        counts = {
            f"{model.__tablename__}.{name}": [
                state.cipher.cipher_key(stored)
                for stored in db_session().scalars(
                    sa.select(getattr(model, f"{name}_sealed")).where(
                        getattr(model, f"{name}_sealed").is_not(None)
                    )
                )
            ]
            for model, name in sealed_fields()
        }
        filled = {key for key, ids in counts.items() if ids}
        assert set(ROTATED) - filled == set()
        assert {key: set(counts[key]) for key in filled} == {key: {"k2"} for key in filled}
        # With the old key gone, everything still opens, and reads as before.
        state.cipher = FieldCipher.from_config({"k2": TEST_KEYS["k2"]}, "k2")
        assert sealed_scenario.clinical_values() == before
        again = app.test_cli_runner().invoke(args=["clinic", "rotate-keys"])
        assert "Re-sealed 0 values" in again.output
    finally:
        state.cipher = original
