"""A realistic session report for the benchmarks: one couple with a full history.

A throwaway SQLite database in a temporary folder, migrated through the real migrations
and seeded with the demo data (``reconnect_clinic.demo_data.seed_demo``). On top of the
seed, the Rivera–Chen couple's latest session gets what a full record has:

- the measures given again over treatment (CSI-16, PHQ-9, GAD-7 at intake, three weeks
  and one week before the session's day), so the report's chart has a line per partner;
- homework reviewed in the session (the seed's daily check-in) and two new exercises;
- a signed DAP note with several paragraphs in each section, five interventions, a risk
  note and a signed addendum.

Everything goes through the product's own operations (the same ones a therapist's clicks
use), except the later measure administrations, which are scored with the product's
scoring and stored as the intake stores them. Used by ``bench_reports.py`` and
``profile_render.py``.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from reconnect_clinic import migrate
from reconnect_clinic.demo import create_app
from reconnect_clinic.demo_data import DEMO_EMAIL, DEMO_PASSWORD, seed_demo

# The demo seed counts back from today, as in `make demo`.
TODAY = date.today()  # noqa: DTZ011

DATA = [
    "Daniel and Mei arrived together and sat at either end of the sofa. Mei opened by "
    "saying that the daily check-in had been the first time in months that she felt Daniel "
    "was curious about her day rather than about the household schedule. Daniel agreed "
    "that the ten minutes had been easier than he expected, but said he often forgot until "
    "late in the evening, when both of them were tired and the conversation stayed short.",
    "Both described a weekend in which they had planned a walk and then spent the day "
    "doing separate chores. Mei said she had hoped Daniel would notice that she was low; "
    "Daniel said he had noticed, but assumed she wanted to be left alone because that is "
    "what he would have wanted. When this was slowed down in the session, each was "
    "surprised by how the other had read the same afternoon.",
    "Daniel spoke about the pressure at work since the reorganisation and about coming "
    "home with nothing left to give. Mei listened without interrupting for the first time "
    "in the session and then said that she would rather hear about a hard day than be "
    "protected from it. Daniel became visibly moved and said he had not known that.",
]
ASSESSMENT = [
    "The couple continue to show the pattern described at intake: a slow drift into "
    "parallel lives, with conversations that stay on logistics and bids for attention "
    "that go unnoticed rather than refused. Neither partner describes contempt or hostility; "
    "the distance is maintained by assumptions about what the other wants, and by Daniel's "
    "habit of emotional self-sufficiency, which he learned early and which Mei experiences "
    "as being shut out.",
    "Mei's CSI-16 has risen a little since intake and Daniel's is stable; both PHQ-9 "
    "scores are in the mild range and neither reports thoughts of self-harm. The check-in "
    "exercise is working where it happens, and the main obstacle is timing rather than "
    "willingness. Daniel's disclosure about work marks a first step towards letting Mei see "
    "his inner world, and Mei's response to it was warm and steady.",
]
PLAN = [
    "Continue the daily check-in, moved to the early evening before dinner, with phones "
    "in another room. Add a short weekly conversation in which each partner names one "
    "moment when they felt unseen and one when they felt noticed, without discussing who "
    "was right about it.",
    "Next session: review both exercises, explore where Daniel learned that needing "
    "others is a burden, and help Mei put her hopes into specific requests rather than "
    "general wishes. Re-administer the CSI-16 in three weeks. If the pace of work at "
    "Daniel's office does not change, consider a session on protecting time together.",
]
RISK_NOTES = (
    "No current risk identified. Both partners were asked about thoughts of self-harm and "
    "about safety at home and answered no; PHQ-9 item 9 is zero for both. To be reviewed "
    "at each session while the PHQ-9 remains in the mild range."
)
ADDENDUM = (
    "Mei emailed the day after the session to say that the early-evening check-in worked "
    "well on two days out of three. Added to the record at her request; no change to the "
    "plan."
)
INTERVENTIONS = (
    "recognize_and_acknowledge",
    "improve_communication",
    "practice_active_listening",
    "develop_empathy_and_compassion",
    "prioritize_quality_time",
)


@dataclass
class Scenario:
    app: Flask
    couple_id: Any
    session_id: Any
    url: str  # the stored signed report's URL

    @contextmanager
    def request(self) -> Iterator[None]:
        """A request context, as the report views have (``render_template`` needs one)."""
        with self.app.test_request_context():
            yield

    def records(self) -> tuple[Any, Any]:
        """The couple and the session, loaded in the current context."""
        from reconnect_clinic.models import Couple, TherapySession
        from reconnect_clinic.state import db_session

        session = db_session()
        return session.get(Couple, self.couple_id), session.get(TherapySession, self.session_id)

    def session_report_printable(self) -> Any:
        """The real path to the PDF's input: load and assemble the report, draw the chart
        (PNG), render the template. Call inside :meth:`request`."""
        from reconnect_clinic.reports import service

        couple, therapy = self.records()
        return service.session_report_printable(
            couple, service.load_session_report(couple, therapy)
        )

    def logged_in_client(self) -> Any:
        client = self.app.test_client()
        page = client.get("/clinic/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert token, "the login page has no CSRF token"
        response = client.post(
            "/clinic/login",
            data={"csrf_token": token.group(1), "email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        )
        assert response.status_code == 302, response.status_code
        return client


@contextmanager
def scenario() -> Iterator[Scenario]:
    with tempfile.TemporaryDirectory(prefix="reconnect-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        engine = sa.create_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench-secret-key",
                "SQLALCHEMY_DATABASE_URI": url,
                "RECONNECT_CLINIC_PRACTICE_NAME": "Harbour Street Counselling",
                "RECONNECT_CLINIC_PRACTICE_ADDRESS": "12 Harbour Street, Bristol BS1 4RN",
            },
            instance_path=str(Path(tmp) / "instance"),
        )
        with app.app_context():
            couple_id, session_id = _build(app)
        yield Scenario(
            app=app,
            couple_id=couple_id,
            session_id=session_id,
            url=f"/clinic/couples/{couple_id}/sessions/{session_id}/report.pdf",
        )
        with app.app_context():
            from reconnect_clinic.demo import db

            db.session.remove()
            db.engine.dispose()


def _build(app: Flask) -> tuple[Any, Any]:
    from reconnect_clinic.homework import library
    from reconnect_clinic.homework.operations import AssignmentDetails, assign
    from reconnect_clinic.measures import get as instrument
    from reconnect_clinic.measures.scoring import score
    from reconnect_clinic.models import Couple, MeasureResult, TherapySession
    from reconnect_clinic.notes.operations import add_addendum, save_note, sign_note
    from reconnect_clinic.reports import service
    from reconnect_clinic.state import db_session, get_state

    assert seed_demo(today=TODAY)
    session = db_session()
    couple = session.scalars(sa.select(Couple).where(Couple.label == "Rivera–Chen")).one()
    therapy = session.scalars(
        sa.select(TherapySession)
        .where(TherapySession.couple_id == couple.id)
        .order_by(TherapySession.held_on.desc())
    ).first()
    assert therapy is not None
    therapist = therapy.therapist

    # Measures over treatment: the intake's, then the same measures given again.
    def at(day: date) -> datetime:
        return datetime.combine(day, time(10, 0), tzinfo=UTC)

    intake_day = TODAY - timedelta(days=40)
    for result in session.scalars(
        sa.select(MeasureResult).where(
            MeasureResult.partner_id.in_([p.id for p in couple.partners])
        )
    ):
        result.administered_at = at(intake_day)
    # (partner role, weeks before the session) -> level of the answers (0 low .. 1 high)
    levels = {
        "csi16": {"a": (0.72, 0.75), "b": (0.42, 0.5)},
        "phq9": {"a": (0.2, 0.18), "b": (0.35, 0.3)},
        "gad7": {"a": (0.25, 0.2), "b": (0.4, 0.33)},
    }
    for slug, by_role in levels.items():
        spec = instrument(slug)
        for role, steps in by_role.items():
            partner = couple.partner(role)
            for day, level in zip(
                (therapy.held_on - timedelta(weeks=2), therapy.held_on), steps, strict=True
            ):
                answers = [
                    min(item.points) + round(level * (max(item.points) - min(item.points)))
                    for item in spec.items
                ]
                scored = score(slug, answers)
                session.add(
                    MeasureResult.from_score(
                        scored, partner_id=partner.id, item_points=answers, administered_at=at(day)
                    )
                )
    session.flush()

    # Homework: the seed's daily check-in is reviewed; two new exercises are assigned.
    from reconnect_clinic.models import HomeworkAssignment

    reviewed = session.scalars(
        sa.select(HomeworkAssignment).where(HomeworkAssignment.couple_id == couple.id)
    ).all()
    exercises = library.load()
    assigned = [
        assign(
            couple,
            therapist,
            exercises.get(slug),
            AssignmentDetails(
                "both",
                therapy.held_on,
                therapy.held_on + timedelta(days=days),
                "weekly",
                times,
                None,
            ),
            get_state().taxonomy,
            exercise_ref=f"library:{slug}",
        )
        for slug, days, times in (("phone_free_fifteen", 14, 4), ("protected_weekly_time", 21, 1))
    ]
    note = save_note(
        therapy,
        therapist,
        template="dap",
        content={
            "sections": {
                "data": "\n\n".join(DATA),
                "assessment": "\n\n".join(ASSESSMENT),
                "plan": "\n\n".join(PLAN),
            },
            "interventions": list(INTERVENTIONS),
            "homework_reviewed": [str(a.id) for a in reviewed],
            "homework_assigned": [str(a.id) for a in assigned],
            "risk": {"level": "none", "notes": RISK_NOTES},
        },
        based_on_version=None,
    )
    sign_note(note, therapist, based_on_version=note.version)
    add_addendum(note, therapist, ADDENDUM)
    session.commit()
    # As signing does in the view: render the report once and keep it.
    with app.test_request_context():
        service.issue_session_report(couple, therapy)
        db_session().commit()
    return couple.id, therapy.id
