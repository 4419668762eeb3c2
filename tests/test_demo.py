"""The standalone demo: a SQLite file in WAL mode, seeded, with its own login; and what the
seed holds: a couple in the middle of treatment and one with an open safety flag."""

from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa

from reconnect_clinic.demo import create_app
from reconnect_clinic.demo import db as demo_db
from reconnect_clinic.demo_data import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    MID_TREATMENT,
    RIVERA_MEASURES,
    SAFETY_COUPLE,
    seed_demo,
)
from reconnect_clinic.homework.schedule import adherence
from reconnect_clinic.models import (
    Couple,
    HomeworkAssignment,
    HomeworkCheckIn,
    IntakeResponse,
    IntakeStatus,
    MeasureResult,
    NoteStatus,
    RiskDisclosure,
    SessionNote,
    TherapySession,
)
from reconnect_clinic.reports import service
from reconnect_clinic.risk.queries import risks_by_role
from reconnect_clinic.state import db_session
from tests.helpers import FreshContextClient, login, pdf_text


def test_demo_from_scratch(tmp_path, monkeypatch):
    monkeypatch.delenv("RECONNECT_CLINIC_DEMO_DATABASE_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url}, instance_path=str(tmp_path))
    app.test_client_class = FreshContextClient
    runner = app.test_cli_runner()
    assert runner.invoke(args=["clinic", "db-upgrade"]).exit_code == 0
    seeded = runner.invoke(args=["clinic", "seed-demo"])
    assert DEMO_EMAIL in seeded.output
    assert DEMO_PASSWORD in seeded.output

    with app.app_context():
        with demo_db.engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            fks = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
        assert mode == "wal"
        assert fks == 1

    client = app.test_client()
    assert client.get("/").headers["Location"].endswith("/clinic/")
    assert "Sign in" in client.get("/clinic/login").text
    assert login(client, DEMO_EMAIL, DEMO_PASSWORD).status_code == 302
    dashboard = client.get("/clinic/").text
    assert "Rivera–Chen" in dashboard
    assert "Adeyemi" in dashboard
    rivera = re.search(r'href="(/clinic/couples/[0-9a-f-]{36})">Rivera–Chen<', dashboard)
    assert rivera, dashboard
    page = client.get(rivera.group(1)).text
    assert "Signs and causes, side by side" in page
    assert "Where you see things most differently" in page
    assert "Feeling Invisible" in page
    assert "We skipped the phones tonight. It helped." in page  # a shared reflection
    assert "Both checked in" in page
    with app.app_context():
        demo_db.session.remove()
        demo_db.engine.dispose()


def test_demo_secret_key_is_kept_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("RECONNECT_CLINIC_DEMO_SECRET_KEY", raising=False)
    from reconnect_clinic.demo import _secret_key

    first = _secret_key(tmp_path)
    assert len(first) > 40
    assert _secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


# --- the seeded demo: a couple in the middle of treatment, and one with a safety flag ----
# (the `seeded` and `demo` fixtures are in conftest.py)


def _couple(label: str) -> Couple:
    return db_session().scalars(sa.select(Couple).where(Couple.label == label)).one()


def _notes(couple: Couple) -> list[SessionNote]:
    return list(
        db_session().scalars(
            sa.select(SessionNote)
            .join(TherapySession, SessionNote.therapy_session_id == TherapySession.id)
            .where(TherapySession.couple_id == couple.id)
        )
    )


def _check_ins(couple: Couple) -> list[HomeworkCheckIn]:
    return list(
        db_session().scalars(
            sa.select(HomeworkCheckIn)
            .join(HomeworkAssignment, HomeworkCheckIn.assignment_id == HomeworkAssignment.id)
            .where(HomeworkAssignment.couple_id == couple.id)
        )
    )


def test_seeding_again_adds_nothing(demo):
    couples = db_session().scalar(sa.select(sa.func.count()).select_from(Couple))
    assert seed_demo() is False
    assert db_session().scalar(sa.select(sa.func.count()).select_from(Couple)) == couples


def test_mid_treatment_couple_has_submitted_intakes_from_both_partners(demo):
    couple = _couple(MID_TREATMENT)
    for partner in couple.partners:
        submitted = db_session().scalar(
            sa.select(sa.func.count())
            .select_from(IntakeResponse)
            .where(
                IntakeResponse.partner_id == partner.id,
                IntakeResponse.status == IntakeStatus.SUBMITTED.value,
            )
        )
        assert submitted >= 1, partner.first_name
    total = db_session().scalar(
        sa.select(sa.func.count())
        .select_from(IntakeResponse)
        .where(
            IntakeResponse.partner_id.in_([p.id for p in couple.partners]),
            IntakeResponse.status == IntakeStatus.SUBMITTED.value,
        )
    )
    assert total >= 2


def test_mid_treatment_measures_are_repeated_over_several_dates(demo):
    couple = _couple(MID_TREATMENT)
    for partner in couple.partners:
        assert set(RIVERA_MEASURES[partner.role]) >= {"csi16", "phq9", "gad7"}
        for slug in RIVERA_MEASURES[partner.role]:
            results = (
                db_session()
                .scalars(
                    sa.select(MeasureResult)
                    .where(MeasureResult.partner_id == partner.id, MeasureResult.instrument == slug)
                    .order_by(MeasureResult.administered_at)
                )
                .all()
            )
            days = {result.administered_at.date() for result in results}
            assert len(days) >= 3, (partner.first_name, slug, days)
            # What the seed planned is what was stored (scored by the product's scoring).
            planned = RIVERA_MEASURES[partner.role][slug]
            assert [result.total for result in results] == list(planned), (partner.role, slug)


def test_mid_treatment_measures_improve(demo):
    couple = _couple(MID_TREATMENT)
    mei = couple.partner("b")
    phq9 = (
        db_session()
        .scalars(
            sa.select(MeasureResult)
            .where(MeasureResult.partner_id == mei.id, MeasureResult.instrument == "phq9")
            .order_by(MeasureResult.administered_at)
        )
        .all()
    )
    assert phq9[0].total > phq9[-1].total


def test_mid_treatment_couple_has_signed_notes_a_draft_and_an_addendum(demo):
    notes = _notes(_couple(MID_TREATMENT))
    signed = [note for note in notes if note.status == NoteStatus.SIGNED.value]
    assert len(signed) >= 3
    assert any(note.status == NoteStatus.DRAFT.value for note in notes)
    assert sum(len(note.addenda) for note in signed) >= 1


def test_signed_notes_have_their_report_kept(demo):
    for note in _notes(_couple(MID_TREATMENT)):
        if note.is_signed:
            assert service.stored_session_report(note.therapy_session) is not None


def test_mid_treatment_check_ins_are_shared_and_private(demo):
    reflections = [c for c in _check_ins(_couple(MID_TREATMENT)) if c.reflection]
    assert any(c.share_with_partner for c in reflections)
    assert any(not c.share_with_partner for c in reflections)


def test_mid_treatment_couple_has_overdue_homework(demo):
    couple = _couple(MID_TREATMENT)
    assignments = (
        db_session()
        .scalars(sa.select(HomeworkAssignment).where(HomeworkAssignment.couple_id == couple.id))
        .all()
    )
    overdue = []
    for assignment in assignments:
        for partner in couple.partners:
            if not assignment.is_for(partner.role):
                continue
            days = [
                c.checked_in_on
                for c in _check_ins(couple)
                if c.partner_id == partner.id and c.assignment_id == assignment.id and not c.late
            ]
            progress = adherence(
                assignment.frequency,
                assignment.times_per_week,
                assignment.starts_on,
                assignment.due_on,
                days,
                date.today(),  # noqa: DTZ011 - the seed counts back from today
                closed_on=assignment.closed_on,
            )
            if progress.overdue:
                overdue.append(assignment.title)
    assert overdue


def test_mid_treatment_couple_has_no_open_risk(demo):
    risks = risks_by_role(_couple(MID_TREATMENT))
    assert not [r for partner in risks.values() for r in partner if r.needs_attention]


def test_safety_couple_has_an_open_risk_from_the_intake(demo):
    couple = _couple(SAFETY_COUPLE)
    risks = risks_by_role(couple)
    open_risks = [r for r in risks["a"] if r.needs_attention]
    assert open_risks
    disclosures = (
        db_session()
        .scalars(
            sa.select(RiskDisclosure).where(RiskDisclosure.partner_id == couple.partner("a").id)
        )
        .all()
    )
    assert {d.item for d in disclosures} >= {"safety_afraid", "safety_insulted"}


def test_safety_couple_shows_a_risk_panel_and_a_dashboard_flag(demo):
    couple_id = _couple(SAFETY_COUPLE).id
    rivera_id = _couple(MID_TREATMENT).id
    client = demo.test_client()
    assert login(client, DEMO_EMAIL, DEMO_PASSWORD).status_code == 302
    dashboard = client.get("/clinic/").text
    lines = {
        match.group(1): match.group(0)
        for match in re.finditer(
            r'<li class="case[^"]*">.*?/couples/([0-9a-f-]{36}).*?</li>', dashboard, re.S
        )
    }
    assert "Open risk" in lines[str(couple_id)]
    assert "Open risk" not in lines[str(rivera_id)]
    page = client.get(f"/clinic/couples/{couple_id}").text
    assert "Needs your attention" in page


def test_render_reports_writes_the_signed_reports(seeded, tmp_path):
    out = tmp_path / "reports"
    since = (date.today() - timedelta(days=365)).isoformat()  # noqa: DTZ011
    result = seeded.test_cli_runner().invoke(
        args=["clinic", "render-reports", "--since", since, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    pdfs = sorted(out.glob("*.pdf"))
    with seeded.app_context():
        signed = [n for n in _notes(_couple(MID_TREATMENT)) if n.is_signed]
        demo_db.session.remove()
    assert len(pdfs) == len(signed)
    for pdf in pdfs:
        assert pdf.read_bytes().startswith(b"%PDF-"), pdf.name


def test_progress_report_pdf_shows_the_history(demo):
    couple_id = _couple(MID_TREATMENT).id
    client = demo.test_client()
    assert login(client, DEMO_EMAIL, DEMO_PASSWORD).status_code == 302
    response = client.get(f"/clinic/couples/{couple_id}/progress-report.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    text = pdf_text(response.data)
    assert "Measures over time" in text
    assert text.count("note signed") >= 3


def test_session_report_pdf_of_a_signed_note_carries_its_addendum(demo):
    couple = _couple(MID_TREATMENT)
    with_addendum = next(n for n in _notes(couple) if n.addenda)
    client = demo.test_client()
    assert login(client, DEMO_EMAIL, DEMO_PASSWORD).status_code == 302
    url = f"/clinic/couples/{couple.id}/sessions/{with_addendum.therapy_session_id}/report.pdf"
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = " ".join(pdf_text(response.data).split())
    assert " ".join(with_addendum.addenda[0].body.split()) in text
