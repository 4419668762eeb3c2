"""Many people at once against a real server (gunicorn, 2 worker processes of 8 threads)
on the suite's database, SQLite or PostgreSQL: fifty partners filling in their intake and
checking in at the same moment, and two therapists saving the same draft note at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import selectinload

from reconnect_clinic.models import (
    AuditEvent,
    HomeworkCheckIn,
    IntakeResponse,
    SessionNote,
)
from reconnect_clinic.notes.operations import save_note
from reconnect_clinic.security.audit.log import verify_chain
from reconnect_clinic.state import db_session
from tests import factories
from tests.helpers import csrf_from
from tests.live_server import LivePartner, LiveTherapist

PARTNERS = 50


@dataclass
class PartnerSeed:
    number: int
    partner_id: Any
    intake_token: str
    homework_token: str
    assignment_id: Any


def _seed_partners(app: Flask, count: int) -> list[PartnerSeed]:
    seeds: list[PartnerSeed] = []
    with app.app_context():
        owner = factories.therapist()
        for n in range(count // 2):
            couple = factories.couple(owner, label=f"Couple {n:02d}")
            assignment = factories.assignment(owner, couple, frequency="daily", days=6)
            for partner in (couple.partner_a, couple.partner_b):
                seeds.append(
                    PartnerSeed(
                        number=len(seeds),
                        partner_id=partner.id,
                        intake_token=factories.intake_link(owner, partner),
                        homework_token=factories.homework_link(owner, partner),
                        assignment_id=assignment.id,
                    )
                )
        db_session().commit()
        db_session().remove()
    return seeds


def test_fifty_partners_at_once_every_submission_stored_once(live):
    server, app = live
    seeds = _seed_partners(app, PARTNERS)
    server.start()
    start_together = threading.Barrier(PARTNERS, timeout=60)

    def partner_works(seed: PartnerSeed) -> list[tuple[str, int]]:
        answers = factories.intake_answers(text=f"Partner {seed.number} wrote this.")
        statuses: list[tuple[str, int]] = []
        intake = LivePartner(server.url, seed.intake_token)
        homework = LivePartner(server.url, seed.homework_token, "homework")
        form = homework.check_in_form(
            seed.assignment_id, reflection=f"Check-in from partner {seed.number}."
        )
        start_together.wait()
        for page, values in answers.items():
            statuses.append((page, intake.post_page(page, values).status_code))
        statuses.append(("check-in", homework.check_in(seed.assignment_id, form).status_code))
        # The same form sent again, as a double click or a retry after a timeout would.
        statuses.append(("again", homework.check_in(seed.assignment_id, form).status_code))
        return statuses

    with ThreadPoolExecutor(max_workers=PARTNERS) as pool:
        results = list(pool.map(partner_works, seeds))
    server.stop()

    failed = [(n, s) for n, statuses in enumerate(results) for s in statuses if s[1] != 302]
    assert not failed, failed
    assert server.problems_in_log() == []

    with app.app_context():
        session = db_session()
        responses = session.scalars(
            sa.select(IntakeResponse).options(selectinload(IntakeResponse.pages))
        ).all()
        assert len(responses) == PARTNERS
        by_partner = {response.partner_id: response for response in responses}
        page_count = len(factories.intake_answers())
        for seed in seeds:
            response = by_partner[seed.partner_id]
            assert response.status == "submitted"
            assert len(response.pages) == page_count
            typed = [v for page in response.pages for v in (page.values or {}).values()]
            assert f"Partner {seed.number} wrote this." in typed

        check_ins = session.scalars(sa.select(HomeworkCheckIn)).all()
        assert len(check_ins) == PARTNERS  # the resent forms stored nothing more
        assert sorted(c.reflection for c in check_ins) == sorted(
            f"Check-in from partner {seed.number}." for seed in seeds
        )
        actions = session.execute(
            sa.select(AuditEvent.action, sa.func.count()).group_by(AuditEvent.action)
        ).all()
        counted = dict(actions)
        assert counted["intake.submit"] == PARTNERS
        assert counted["homework.check_in"] == PARTNERS
        checked, breaks = verify_chain()  # writers from two processes kept one chain
        assert breaks == []
        assert checked == sum(counted.values())
        session.rollback()


def test_two_therapists_saving_one_draft_at_once_never_overwrite(live):
    server, app = live
    rounds = 6
    with app.app_context():
        owner = factories.therapist()
        colleague = factories.therapist(admin=True)  # sees every case (practice config)
        couple = factories.couple(owner)
        paths = []
        for _ in range(rounds):
            therapy = factories.therapy_session(owner, couple)
            save_note(therapy, owner, template="dap", content={}, based_on_version=None)
            paths.append((f"/clinic/couples/{couple.id}/sessions/{therapy.id}", therapy.id))
        db_session().commit()
        emails = (owner.email, colleague.email)
        db_session().remove()
    server.start()
    therapists = [LiveTherapist(server.url, email, factories.PASSWORD) for email in emails]

    for path, therapy_id in paths:
        tokens = [csrf_from(t.get(path).text) for t in therapists]
        together = threading.Barrier(2, timeout=30)

        def save(
            which: int,
            path: str = path,
            tokens: list[str] = tokens,
            together: threading.Barrier = together,
        ) -> Any:
            data = {
                "section_data": f"Written by therapist {which}.",
                "section_assessment": "",
                "section_plan": "",
                "interventions": [],
                "risk_level": "none",
                "risk_notes": "",
                "action": "save",
                "version": "1",
                "csrf_token": tokens[which],
            }
            together.wait()
            return therapists[which].post(path, data)

        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(save, (0, 1)))

        assert sorted(a.status_code for a in answers) == [200, 302], [
            (a.status_code, a.text[:300]) for a in answers
        ]
        winner = next(n for n, a in enumerate(answers) if a.status_code == 302)
        loser = answers[1 - winner]
        assert "changed somewhere else" in loser.text
        assert f"Written by therapist {1 - winner}." in loser.text  # their text kept in the form
        with app.app_context():
            note = (
                db_session()
                .scalars(sa.select(SessionNote).where(SessionNote.therapy_session_id == therapy_id))
                .one()
            )
            assert note.version == 2
            assert note.content["sections"]["data"] == f"Written by therapist {winner}."
            db_session().remove()
    server.stop()
    assert server.problems_in_log() == []
