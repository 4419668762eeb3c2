"""A realistic practice in a database of its own, and what a raw dump of it must not
show: the tests that every clinical value is sealed at rest (``test_encryption.py``) and
that the migration sealing them leaves no plaintext behind (``test_migrations.py``).

Every free-text field gets a marker of its own, so a failure names the field that leaked.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from reconnect_clinic import migrate
from reconnect_clinic.demo import create_app
from reconnect_clinic.demo import db as demo_db
from reconnect_clinic.homework.operations import decide_suggestion
from reconnect_clinic.measures.scoring import score as score_measure
from reconnect_clinic.models import (
    CustomExercise,
    HomeworkAssignment,
    MeasureResult,
    SessionNote,
    utcnow,
)
from reconnect_clinic.models.sealed import sealed_fields
from reconnect_clinic.state import db_session
from tests import factories
from tests.helpers import (
    TEST_KEYS,
    FreshContextClient,
    PartnerBrowser,
    csrf_from,
    link_ref_from,
    login,
    post_form,
)

MARKERS = {
    name: f"Quokka{n:02d}-{name}-marker"
    for n, name in enumerate(
        (
            "a_reasons",
            "a_hopes",
            "a_safety_note",
            "b_reasons",
            "b_hopes",
            "b_safety_note",
            "exercise_title",
            "exercise_purpose",
            "exercise_instruction",
            "exercise_prompt",
            "exercise_note",
            "assignment_note",
            "assignment_reason",
            "reflection",
            "note_data",
            "note_assessment",
            "note_plan",
            "risk_notes",
            "addendum",
            "risk_plan",
        )
    )
}
# The typed consent signatures (unlike the partners' names, which stay in clear).
SIGNATURES = {"a": "Ysolde Quarrington-Vexley", "b": "Thaddeus Ombrecourt-Pike"}
FLAG_NAMES = ("safety_concern", "safety_discuss", "self_harm_risk")
# What the risk state records (risk/core.py): which kind of risk, which kind of question
# and which question a partner answered. Each names a disclosure, so none may be in clear.
RISK_NAMES = (
    "self_harm",
    "active_affair",
    "safety_answer",
    "measure_item",
    "phq9_9",
    "safety_afraid",
    "safety_hurt",
    "safety_strangled",
    "safety_weapon",
)
# Scores and item points as they were stored in clear: their JSON keys, and the answer
# fields of the measures.
ITEM_PATTERNS = (
    rb'"item_points": ?\[',
    rb'"total": ?\d',
    rb'"band": ?"',
    rb'"flags": ?\[',
    rb'"concerns": ?\{',
    rb'"(?:csi16|phq9|gad7)_\d+": ?"?\d',
)
PDF_SIGNATURES = (b"%PDF-", b"255044462d")  # a PDF's first bytes, raw and as bytea hex
LATER_PHQ9 = [2, 1, 1, 2, 1, 0, 1, 1, 1]


@contextmanager
def practice_app(databases: Any, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """An app of its own on a fresh migrated database (so a dump holds only what the test
    wrote), inside its app context; yields the app and the database's URL."""
    url = databases.create()
    engine = sa.create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "sealed-scenario",
            "SQLALCHEMY_DATABASE_URI": url,
            "SERVER_NAME": "clinic.test",
            "RECONNECT_CLINIC_ENCRYPTION_KEYS": TEST_KEYS,
            "RECONNECT_CLINIC_ENCRYPTION_KEY_ID": "k1",
        },
        instance_path=str(tmp_path / "instance"),
    )
    app.test_client_class = FreshContextClient
    with app.app_context():
        try:
            yield app, url
        finally:
            demo_db.session.remove()
            for bound in demo_db.engines.values():
                bound.dispose()


def _intake(app: Flask, owner: Any, partner: Any, *, safety: str, pick: str) -> None:
    role = partner.role
    answers = factories.intake_answers(frequency="4", measure_pick=pick, safety=safety)
    answers["about"]["reasons"] = MARKERS[f"{role}_reasons"]
    answers["about"]["hopes"] = MARKERS[f"{role}_hopes"]
    answers["safety"]["safety_note"] = MARKERS[f"{role}_safety_note"]
    answers["consent"]["signature"] = SIGNATURES[role]
    PartnerBrowser(app, factories.intake_link(owner, partner)).fill(answers)


def _check_in(app: Flask, owner: Any, partner: Any, assignment_id: Any) -> None:
    homework = PartnerBrowser(app, factories.homework_link(owner, partner), "homework")
    page = homework.get().text
    key = page.split('name="client_key" type="hidden" value="')[1].split('"')[0]
    sent = homework.client.post(
        f"{homework.base}/{assignment_id}/check-in",
        data={
            "completion": "partly",
            "helpfulness": "4",
            "reflection": MARKERS["reflection"],
            "link_ref": link_ref_from(page),
            "client_key": key,
        },
    )
    assert sent.status_code == 302, sent.text


def realistic_practice(app: Flask) -> Any:
    """Both partners' intakes (A discloses a safety concern, and B would rather talk about
    it), their measures and one given again later, a therapist's own exercise given as
    homework with a note and a suggestion's reason, a check-in with a reflection, a
    dismissed suggestion, a self-harm risk the therapist opens for B with a plan, and a
    signed note (risk high) with an addendum and the stored PDFs of both revisions:
    through the views, as clicks make them. Returns the couple."""
    owner = factories.therapist()
    couple = factories.couple(owner)
    _intake(app, owner, couple.partner_a, safety="yes", pick="last")
    _intake(app, owner, couple.partner_b, safety="discuss", pick="first")
    client = app.test_client()
    login(client, owner.email)
    base = f"/clinic/couples/{couple.id}"
    assert client.get(base).status_code == 200
    exercise = {
        "step": "increase_emotional_awareness",
        "title": MARKERS["exercise_title"],
        "purpose": MARKERS["exercise_purpose"],
        "mode": "individual",
        "frequency": "once",
        "times_per_week": "",
        "duration_minutes": "10",
        "instructions": MARKERS["exercise_instruction"],
        "reflection_prompts": MARKERS["exercise_prompt"],
        "therapist_note": MARKERS["exercise_note"],
    }
    assert post_form(client, "/clinic/exercises/new", exercise).status_code == 302
    custom = db_session().scalars(sa.select(CustomExercise)).one()
    today = date.today()  # noqa: DTZ011
    assigned = post_form(
        client,
        f"{base}/homework/new",
        {
            "exercise": f"custom:{custom.id}",
            "assignee": "a",
            "starts_on": today.isoformat(),
            "due_on": (today + timedelta(days=7)).isoformat(),
            "frequency": "once",
            "times_per_week": "",
            "note": MARKERS["assignment_note"],
            "reason": MARKERS["assignment_reason"],
        },
    )
    assert assigned.status_code == 302, assigned.text
    assignment = db_session().scalars(sa.select(HomeworkAssignment)).one()
    _check_in(app, owner, couple.partner_a, assignment.id)
    decide_suggestion(couple, owner, "improve_communication", "dismissed")
    # A measure given again later in treatment, stored as the intake stores them.
    db_session().add(
        MeasureResult.from_score(
            score_measure("phq9", LATER_PHQ9),
            partner_id=couple.partner_a.id,
            item_points=LATER_PHQ9,
            administered_at=utcnow(),
        )
    )
    db_session().commit()
    risk = client.post(
        f"{base}/partners/b/risk",
        data={
            "csrf_token": csrf_from(client.get(base).text),
            "kind": "self_harm",
            "status": "open",
            "level": "2",
            "plan": MARKERS["risk_plan"],
        },
    )
    assert risk.status_code == 302, risk.text
    opened = post_form(
        client,
        f"{base}/sessions/new",
        {
            "held_on": today.isoformat(),
            "duration_minutes": "50",
            "format": "video",
            "attendance": "both",
        },
    )
    assert opened.status_code == 302, opened.text
    url = opened.headers["Location"]
    note = {
        "section_data": MARKERS["note_data"],
        "section_assessment": MARKERS["note_assessment"],
        "section_plan": MARKERS["note_plan"],
        "interventions": ["improve_communication"],
        "risk_level": "high",
        "risk_notes": MARKERS["risk_notes"],
        "version": "",
    }
    assert post_form(client, url, {**note, "action": "save"}).status_code == 302
    version = str(db_session().scalars(sa.select(SessionNote)).one().version)
    signed = post_form(
        client, url, {**note, "action": "sign", "version": version, "confirm_sign": "y"}
    )
    assert signed.status_code == 302, signed.text
    token = csrf_from(client.get(url).text)
    added = client.post(f"{url}/addenda", data={"body": MARKERS["addendum"], "csrf_token": token})
    assert added.status_code == 302, added.text
    db_session().commit()
    return couple


def clinical_values() -> dict[tuple[str, str, str], Any]:
    """Every sealed attribute of every row, opened: (table, row id, attribute) -> value."""
    values = {}
    for model, name in sealed_fields():
        for row in db_session().scalars(sa.select(model)):
            values[(model.__tablename__, str(row.id), name)] = getattr(row, name)  # type: ignore[attr-defined]
    return values


def sqlite_dump(url: str) -> bytes:
    """The database file's bytes, with its write-ahead log and journal if present."""
    path = sa.engine.make_url(url).database
    assert path
    return b"".join(
        Path(name).read_bytes()
        for name in (path, f"{path}-wal", f"{path}-journal")
        if Path(name).exists()
    )


def postgresql_dump(url: str) -> bytes:
    """``pg_dump`` of the database; without it, every row of every table as text."""
    plain = sa.engine.make_url(url).set(drivername="postgresql")
    if shutil.which("pg_dump"):
        return subprocess.run(
            ["pg_dump", "--no-owner", plain.render_as_string(hide_password=False)],
            check=True,
            capture_output=True,
        ).stdout
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            names = sa.inspect(connection).get_table_names()
            return "\n".join(
                str(text)
                for name in names
                for text in connection.exec_driver_sql(f'SELECT t::text FROM "{name}" t').scalars()
            ).encode()
    finally:
        engine.dispose()


def raw_dump(url: str) -> bytes:
    return postgresql_dump(url) if url.startswith("postgresql") else sqlite_dump(url)


def leaks(dump: bytes, results: list[tuple[list[int], str]]) -> dict[str, list[str]]:
    """Every clinical value of the scenario found in ``dump``, by kind; ``results`` holds
    each measure result's item points and band."""
    return {
        "markers": [m for m in MARKERS.values() if m.encode() in dump],
        "signatures": [s for s in SIGNATURES.values() if s.encode() in dump],
        "flags": [f for f in FLAG_NAMES if f.encode() in dump],
        "risk": [r for r in RISK_NAMES if r.encode() in dump],
        "item lists": [
            json.dumps(points) for points, _ in results if json.dumps(points).encode() in dump
        ],
        "item patterns": [p.decode() for p in ITEM_PATTERNS if re.search(p, dump)],
        "bands": [band for _, band in results if re.search(rb"\b" + band.encode() + rb"\b", dump)],
        "pdf": [s.decode() for s in PDF_SIGNATURES if s in dump],
    }


def measure_results() -> list[tuple[list[int], str]]:
    """Each stored measure result's item points and band, as the product reads them."""
    return [(list(r.item_points), r.band) for r in db_session().scalars(sa.select(MeasureResult))]
