"""The audit log: every clinical read and change is logged, chained and append-only."""

from __future__ import annotations

import base64
import itertools
import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from reconnect_clinic.demo import create_app
from reconnect_clinic.models import AuditEvent, StoredReport, utcnow
from reconnect_clinic.reports import service
from reconnect_clinic.security.audit.log import (
    GENESIS,
    HKDF_INFO,
    AuditKeyError,
    AuditKeys,
    audit_keys,
    chain_hash,
    chain_line,
    checkpoint_line,
    event_fields,
    make_checkpoint,
    operator_checkpoint,
    parse_checkpoint_line,
    record_event,
    verify_chain,
    verify_log,
)
from reconnect_clinic.security.audit.sql_rules import create_statements, drop_statements
from reconnect_clinic.security.encryption.cipher import new_key
from reconnect_clinic.state import db_session, get_state
from tests.helpers import TEST_KEYS, login, pdf_text


def _events(n, make):
    owner = make.therapist()
    couple = make.couple(owner)
    for i in range(n):
        record_event("test.event", actor=owner, record=couple, couple_id=couple.id, detail={"n": i})
    db_session().commit()
    return owner, couple


def _tamper(statement, params=None):
    """Change the log behind the product's back, as an attacker with database access
    would: set the append-only triggers aside first."""
    _tamper_all([(statement, params or {})])


def _tamper_all(statements):
    db_session().commit()  # end the test's transaction: on SQLite it holds the write lock
    engine = db_session().get_bind()
    dialect = engine.dialect.name
    with engine.begin() as connection:
        for drop in drop_statements(dialect):
            connection.exec_driver_sql(drop)
        for statement, params in statements:
            connection.execute(sa.text(statement), params)
        for create in create_statements(dialect):
            connection.exec_driver_sql(create)
    db_session().expire_all()


def test_lines_are_chained(app, make):
    _events(3, make)
    rows = db_session().scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert rows[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.row_hash
    checked, breaks = verify_chain()
    assert checked == len(rows)
    assert breaks == []


def test_an_edited_line_is_caught(app, make, cli):
    _events(4, make)
    target = db_session().scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)).all()[1]
    _tamper(
        "UPDATE clinic_audit_event SET action = 'nothing.to.see' WHERE id = :id", {"id": target}
    )
    db_session().expire_all()
    _, breaks = verify_chain()
    assert [b.event_id for b in breaks] == [target]
    result = cli.invoke(args=["clinic", "audit-verify"])
    assert result.exit_code == 1
    assert f"Line {target}" in result.output


def test_a_removed_line_is_caught(app, make, cli):
    _events(4, make)
    ids = db_session().scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)).all()
    _tamper("DELETE FROM clinic_audit_event WHERE id = :id", {"id": ids[2]})
    db_session().expire_all()
    _, breaks = verify_chain()
    assert [b.event_id for b in breaks] == [ids[3]]
    assert "Audit log intact" not in cli.invoke(args=["clinic", "audit-verify"]).output


def test_an_intact_log_verifies(app, make, cli):
    _events(2, make)
    lines = db_session().scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    result = cli.invoke(args=["clinic", "audit-verify"])
    assert result.exit_code == 0
    assert f"Audit log intact: {lines} lines" in result.output


def test_the_database_refuses_to_change_or_delete_lines(app, make):
    _events(1, make)
    session = db_session()
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    for statement in (
        "UPDATE clinic_audit_event SET action = 'x'",
        "DELETE FROM clinic_audit_event",
    ):
        try:
            session.execute(sa.text(statement))
            session.flush()
        except DBAPIError as error:
            assert "append-only" in str(error)
            session.rollback()
        else:  # pragma: no cover - the trigger failed to fire
            raise AssertionError(f"{statement!r} was allowed")
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before


def test_therapist_sees_their_couples_log_only(app, client, make):
    owner, couple = _events(2, make)
    other = make.therapist()
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}/audit")
    assert page.status_code == 200
    assert "test.event" in page.text
    client.post("/clinic/logout", data={})
    other_client = client.application.test_client()
    login(other_client, other.email)
    assert other_client.get(f"/clinic/couples/{couple.id}/audit").status_code == 404


# --- a keyed chain, and checkpoints ------------------------------------------------------


def _lines():
    """Every audit line in order, detached (so changing them never reaches the database
    through the session: only :func:`_tamper_all` writes)."""
    session = db_session()
    session.expire_all()
    rows = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    session.expunge_all()
    return list(rows)


def _edit_and_recompute(index, relink):
    """Edit the line at ``index`` and recompute it and every later line with ``relink``
    (``relink(event, prev_hash)`` sets its prev_hash, row_hash and key_id), the way an
    attacker who wants the chain to verify again would; the triggers are set aside."""
    rows = _lines()
    previous = rows[index - 1].row_hash if index else GENESIS
    rows[index].action = "nothing.to.see"
    updates = []
    for event in rows[index:]:
        relink(event, previous)
        previous = event.row_hash
        updates.append(
            (
                "UPDATE clinic_audit_event SET action = :action, prev_hash = :prev, "
                "row_hash = :row, key_id = :key WHERE id = :id",
                {
                    "action": event.action,
                    "prev": event.prev_hash,
                    "row": event.row_hash,
                    "key": event.key_id,
                    "id": event.id,
                },
            )
        )
    _tamper_all(updates)
    return rows[index].id


def _unkeyed(event, previous):
    """Relink as the chain was before it had a key: the project's own ``chain_hash``."""
    event.prev_hash, event.key_id = previous, None
    event.row_hash = chain_hash(previous, event_fields(event))


def _guessed_key(event, previous):
    """Relink with the project's own ``chain_line``, under a key that is not the clinic's."""
    chain_line(event, previous, AuditKeys({"k1": b"g" * 32}, "k1"))


def _with_the_key(event, previous):
    """Relink as someone holding the clinic's audit key could."""
    chain_line(event, previous, audit_keys())


def _checkpoint(cli):
    """A checkpoint line from `audit-verify --checkpoint`, as an operator keeps it."""
    result = cli.invoke(args=["clinic", "audit-verify", "--checkpoint"])
    assert result.exit_code == 0, result.output
    match = re.search(r"^clinic-audit-checkpoint v1 .*$", result.output, re.MULTILINE)
    assert match, result.output
    return match.group(0)


def _against(cli, *lines):
    args = ["clinic", "audit-verify"]
    for line in lines:
        args += ["--against", line]
    return cli.invoke(args=args)


def _signed_report(make, owner, couple):
    """A signed note whose report is issued and stored (as signing does), as plain
    values (walking the log detaches every row the session holds)."""
    therapy = make.therapy_session(owner, couple)
    make.signed_note(owner, therapy)
    stored = service.issue_session_report(couple, therapy)
    db_session().commit()
    return SimpleNamespace(
        **{
            name: getattr(stored, name)
            for name in ("id", "audit_lines", "audit_head", "audit_mac", "pdf")
        }
    )


def _count():
    return db_session().scalar(sa.select(sa.func.count()).select_from(AuditEvent))


@pytest.fixture
def explicit_keys(app, monkeypatch):
    """Sets the app's audit keys for one test, as RECONNECT_CLINIC_AUDIT_KEYS would."""

    def use(keys, current):
        monkeypatch.setattr(
            get_state(app),
            "audit_keys",
            AuditKeys.from_config(
                {"RECONNECT_CLINIC_AUDIT_KEYS": keys, "RECONNECT_CLINIC_AUDIT_KEY_ID": current}
            ),
        )

    return use


def test_lines_are_macced_with_the_current_key(app, make):
    _events(2, make)
    rows = _lines()
    assert {row.key_id for row in rows} == {audit_keys().current}
    first = rows[0]
    assert first.row_hash != chain_hash(first.prev_hash, event_fields(first))


@pytest.mark.parametrize("relink", [_unkeyed, _guessed_key], ids=["unkeyed", "guessed-key"])
def test_an_edit_recomputed_without_the_key_is_caught(app, make, cli, relink):
    _events(4, make)
    target = _edit_and_recompute(2, relink)
    _, breaks = verify_chain()
    assert target in [b.event_id for b in breaks]
    result = cli.invoke(args=["clinic", "audit-verify"])
    assert result.exit_code == 1
    assert "Audit log broken" in result.output


def test_a_broken_log_gets_no_checkpoint(app, make, cli):
    _events(3, make)
    _edit_and_recompute(1, _guessed_key)
    result = cli.invoke(args=["clinic", "audit-verify", "--checkpoint"])
    assert result.exit_code == 1
    assert "clinic-audit-checkpoint" not in result.output


def test_the_whole_log_rewritten_unkeyed_is_caught_by_a_checkpoint(app, make, cli):
    # Rewritten from its first line, the log looks like one from before keyed auditing:
    # the checkpoint (whose head is a MAC) is what tells them apart.
    _events(4, make)
    line = _checkpoint(cli)
    _edit_and_recompute(0, _unkeyed)
    result = _against(cli, line)
    assert result.exit_code == 1
    assert "is not the one the checkpoint of" in result.output


def test_an_edit_recomputed_with_the_key_is_caught_by_a_checkpoint(app, make, cli):
    _events(4, make)
    line = _checkpoint(cli)
    _edit_and_recompute(2, _with_the_key)
    result = _against(cli, line)
    assert result.exit_code == 1
    assert "was rewritten up to there" in result.output


def test_an_edit_recomputed_with_the_key_is_caught_by_a_stored_report(app, make):
    owner, couple = _events(4, make)
    stored = _signed_report(make, owner, couple)
    assert stored.audit_lines == _count()
    _edit_and_recompute(2, _with_the_key)
    _, breaks = verify_chain()
    assert [b.reason for b in breaks] == [
        f"line {stored.audit_lines} is not the one the checkpoint of stored report "
        f"{stored.id} (revision 1) recorded: the log was rewritten up to there (lines "
        "changed, removed or recomputed)"
    ]


def test_deleting_the_last_lines_is_caught_by_a_checkpoint(app, make, cli):
    _events(5, make)
    line = _checkpoint(cli)
    last_two = db_session().scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)).all()[-2:]
    _tamper("DELETE FROM clinic_audit_event WHERE id >= :first", {"first": last_two[0]})
    result = _against(cli, line)
    assert result.exit_code == 1
    assert "lines were removed from its end" in result.output


def test_deleting_the_last_lines_is_caught_by_a_stored_reports_checkpoint(app, make, cli):
    owner, couple = _events(3, make)
    stored = _signed_report(make, owner, couple)
    _events(2, make)
    ids = db_session().scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)).all()
    # Everything written after the report, and the line before it.
    _tamper(
        "DELETE FROM clinic_audit_event WHERE id >= :first", {"first": ids[stored.audit_lines - 1]}
    )
    checked, breaks = verify_chain()
    assert checked == stored.audit_lines - 1
    assert [b.reason for b in breaks] == [
        f"the log has {checked} lines but the checkpoint of stored report {stored.id} "
        f"(revision 1) recorded {stored.audit_lines}: lines were removed from its end"
    ]
    result = cli.invoke(args=["clinic", "audit-verify"])
    assert result.exit_code == 1
    assert "lines were removed from its end" in result.output


def test_a_stored_reports_checkpoint_is_printed_in_its_pdf(app, make):
    owner, couple = _events(1, make)
    stored = _signed_report(make, owner, couple)
    text = pdf_text(stored.pdf).replace("\n", "")
    assert f"Audit log when issued: {stored.audit_lines} lines" in text
    assert stored.audit_head in text


def test_a_lowered_stored_checkpoint_is_caught(app, make):
    # Lowering a report's checkpoint to hide a shortened log does not verify (its MAC
    # covers the count, the head and the report's id).
    owner, couple = _events(3, make)
    stored = _signed_report(make, owner, couple)
    head = _lines()[0].row_hash
    db_session().commit()
    with db_session().get_bind().begin() as connection:  # no trigger guards reports
        connection.execute(
            sa.update(StoredReport)
            .where(StoredReport.id == stored.id)
            .values(audit_lines=1, audit_head=head)
        )
    db_session().expire_all()
    _, breaks = verify_chain()
    assert [b.reason for b in breaks] == [
        f"the checkpoint of stored report {stored.id} (revision 1) does not verify (it was "
        "altered, or not made with this clinic's audit key)"
    ]


def test_an_altered_or_foreign_checkpoint_line_is_refused(app, make, cli):
    _events(3, make)
    line = _checkpoint(cli)
    lines = int(re.search(r"lines=(\d+)", line).group(1))
    lowered = line.replace(f"lines={lines} ", f"lines={lines - 1} ")
    result = _against(cli, lowered)
    assert result.exit_code == 1
    assert "does not verify" in result.output
    garbage = _against(cli, "lines=3 head=abc")
    assert garbage.exit_code != 0
    assert "not a checkpoint line" in garbage.output


def test_an_intact_log_holds_against_its_checkpoints(app, make, cli, tmp_path):
    _events(2, make)
    first = _checkpoint(cli)
    _events(2, make)
    second = _checkpoint(cli)
    kept = tmp_path / "checkpoints.txt"
    kept.write_text(f"# kept by the operator\n{first}\n{second}\n")
    result = cli.invoke(args=["clinic", "audit-verify", "--against-file", str(kept)])
    assert result.exit_code == 0, result.output
    assert "2 checkpoint(s) held" in result.output


def test_a_checkpoint_line_reads_back_as_made(app):
    made = operator_checkpoint(7, "a" * 64, utcnow())
    assert parse_checkpoint_line(checkpoint_line(made)) == made
    assert parse_checkpoint_line(f"  {checkpoint_line(made)}\n") == made


def test_a_checkpoint_line_keeps_a_key_id_with_spaces(app):
    # Derived keys keep their encryption key's id, which may hold a space.
    keys = AuditKeys({"old key": b"o" * 32}, "old key", derived=True)
    made = make_checkpoint(keys, 3, "b" * 64, "at=2026-12-01T10:00:00Z")
    assert parse_checkpoint_line(checkpoint_line(made)) == made


def _unkeyed_line(previous, n):
    """A line as the log wrote them before keyed auditing (migration 0011)."""
    event = AuditEvent(
        occurred_at=utcnow(), actor_kind="system", action="legacy.event", detail={"n": n}
    )
    event.prev_hash, event.key_id = previous, None
    event.row_hash = chain_hash(previous, event_fields(event))
    db_session().add(event)
    db_session().flush()
    return event.row_hash


def test_lines_from_before_keyed_auditing_verify_as_a_prefix(app, make):
    previous = GENESIS
    for n in range(3):
        previous = _unkeyed_line(previous, n)
    db_session().commit()
    _events(2, make)
    result = verify_log()
    assert result.breaks == []
    assert result.unkeyed == 3
    assert result.checked == _count()


def test_an_unkeyed_line_after_keyed_ones_is_a_break(app, make):
    _events(2, make)
    target_hash = _unkeyed_line(_lines()[-1].row_hash, 0)
    db_session().commit()
    target = db_session().scalar(sa.select(AuditEvent.id).where(AuditEvent.row_hash == target_hash))
    _, breaks = verify_chain()
    assert [b.event_id for b in breaks] == [target]
    assert "an unkeyed line after keyed ones" in breaks[0].reason


def test_key_rotation_verifies_old_and_new_lines(app, make, cli, explicit_keys):
    old, new = new_key(), new_key()
    explicit_keys({"a1": old}, "a1")
    owner, couple = _events(2, make)
    before = _checkpoint(cli)
    explicit_keys({"a1": old, "a2": new}, "a2")  # a new key, the old one kept
    _events(2, make)
    stored = _signed_report(make, owner, couple)
    assert [k for k, _ in itertools.groupby(row.key_id for row in _lines())] == ["a1", "a2"]
    assert stored.audit_mac.startswith("a2.")
    result = _against(cli, before)
    assert result.exit_code == 0, result.output
    explicit_keys({"a2": new}, "a2")  # the old key dropped: its lines no longer verify
    _, breaks = verify_chain()
    assert breaks
    assert all("'a1', which is not configured" in b.reason for b in breaks)


def test_audit_keys_default_to_keys_derived_from_the_encryption_keys(app):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    keys = audit_keys()
    encryption = {k: base64.urlsafe_b64decode(v) for k, v in TEST_KEYS.items()}
    assert keys.derived
    assert keys.current == "k1"
    expected = HKDF(hashes.SHA256(), 32, salt=None, info=HKDF_INFO).derive(encryption["k1"])
    assert keys.keys["k1"] == expected
    assert keys.keys["k1"] != encryption["k1"]


def test_the_audit_keys_command_prints_settings_that_verify_the_log(app, make, cli, explicit_keys):
    _events(2, make)
    result = cli.invoke(args=["clinic", "audit-keys"])
    assert result.exit_code == 0, result.output
    settings = dict(
        re.findall(r"^(RECONNECT_CLINIC_AUDIT_KEYS?(?:_ID)?) = (.*)$", result.output, re.M)
    )
    import json

    explicit_keys(
        json.loads(settings["RECONNECT_CLINIC_AUDIT_KEYS"]),
        json.loads(settings["RECONNECT_CLINIC_AUDIT_KEY_ID"]),
    )
    assert verify_chain()[1] == []
    assert not audit_keys().derived


@pytest.mark.parametrize(
    ("keys", "current", "message"),
    [
        ({"a": "x"}, None, "set both"),
        ({"a": base64.urlsafe_b64encode(b"s" * 16).decode()}, "a", "at least 32 bytes"),
        ({"a": "not base64!"}, "a", "not base64"),
        ({"a.b": new_key()}, "a.b", "no dots"),
        ({"a": new_key()}, "b", "is not a key"),
    ],
)
def test_audit_key_settings_are_checked(keys, current, message):
    with pytest.raises(AuditKeyError, match=message):
        AuditKeys.from_config(
            {
                "RECONNECT_CLINIC_AUDIT_KEYS": keys,
                "RECONNECT_CLINIC_AUDIT_KEY_ID": current,
                "RECONNECT_CLINIC_ENCRYPTION_KEYS": TEST_KEYS,
                "RECONNECT_CLINIC_ENCRYPTION_KEY_ID": "k1",
            }
        )


def test_the_app_refuses_to_start_with_unusable_audit_keys(tmp_path):
    with pytest.raises(AuditKeyError, match="at least 32 bytes"):
        create_app(
            {
                "SECRET_KEY": "x",
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "RECONNECT_CLINIC_ENCRYPTION_KEYS": TEST_KEYS,
                "RECONNECT_CLINIC_ENCRYPTION_KEY_ID": "k1",
                "RECONNECT_CLINIC_AUDIT_KEYS": {"a": base64.urlsafe_b64encode(b"s").decode()},
                "RECONNECT_CLINIC_AUDIT_KEY_ID": "a",
            },
            instance_path=str(tmp_path / "instance"),
        )


def test_rotating_encryption_keys_says_the_derived_audit_keys_must_stay(app, cli):
    result = cli.invoke(args=["clinic", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "`flask clinic audit-keys`" in result.output
