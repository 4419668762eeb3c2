"""Free text is encrypted at rest, bound to its place, and re-sealed by key rotation."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from reconnect_clinic.models import (
    HomeworkCheckIn,
    IntakePage,
    NoteAddendum,
    SessionNote,
    metadata,
)
from reconnect_clinic.notes.operations import add_addendum
from reconnect_clinic.security.crypto import EncryptionError, FieldCipher, new_key
from reconnect_clinic.state import db_session, get_state
from tests.conftest import TEST_KEYS, PartnerBrowser, link_ref_from

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
