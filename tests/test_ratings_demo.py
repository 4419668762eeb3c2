"""The demo's couple in treatment: both partners rated every session, and one session,
the video session three weeks ago, is flagged as a split alliance on the couple page,
the dashboard and the progress report PDF."""

from __future__ import annotations

import sqlalchemy as sa

from reconnect_clinic.demo_data import DEMO_EMAIL, DEMO_PASSWORD, MID_TREATMENT
from reconnect_clinic.models import AllianceFlag, Couple, SessionRating, TherapySession
from reconnect_clinic.state import db_session
from tests.helpers import login, pdf_text


def _rivera() -> Couple:
    return db_session().scalars(sa.select(Couple).where(Couple.label == MID_TREATMENT)).one()


def test_both_partners_rated_every_past_session_and_one_is_split(demo):
    couple = _rivera()
    ratings = list(
        db_session().scalars(
            sa.select(SessionRating)
            .join(TherapySession, SessionRating.therapy_session_id == TherapySession.id)
            .where(TherapySession.couple_id == couple.id)
        )
    )
    assert len(ratings) == 8  # four sessions, two partners
    flagged = set(
        db_session().scalars(
            sa.select(AllianceFlag.therapy_session_id).where(AllianceFlag.couple_id == couple.id)
        )
    )
    assert len(flagged) == 1
    kinds = set(
        db_session().scalars(
            sa.select(AllianceFlag.kind).where(AllianceFlag.couple_id == couple.id)
        )
    )
    assert "split" in kinds


def test_the_split_session_shows_on_the_couple_page_dashboard_and_report(demo):
    couple_id = _rivera().id
    client = demo.test_client()
    assert login(client, DEMO_EMAIL, DEMO_PASSWORD).status_code == 302
    assert "1 split-alliance alert in session ratings" in client.get("/clinic/").text
    page = client.get(f"/clinic/couples/{couple_id}").text
    assert page.count("⚠ split alliance") == 1
    pdf = client.get(f"/clinic/couples/{couple_id}/progress-report.pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.data)
    assert "Session ratings" in text
    assert text.count("Split alliance") == 1
