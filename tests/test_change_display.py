"""Change shown in words: per partner and measure, first and latest score with the
change and its meaning (pure), on the couple's page, the dashboard and the progress
report with its charts' reliable-change bands; celebrating progress proposed from
measured improvement only, and sent only when the therapist sends it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from reconnect_clinic.demo import db as demo_db
from reconnect_clinic.demo_data import DEMO_EMAIL, DEMO_PASSWORD, MID_TREATMENT
from reconnect_clinic.homework import library
from reconnect_clinic.homework.recommend import CELEBRATE_STEP, suggest
from reconnect_clinic.measures.progress import Administered, change_lines
from reconnect_clinic.models import AuditEvent, Couple
from reconnect_clinic.reports.assembly import measure_chart, reliable_change_bands
from reconnect_clinic.reports.charts import Series, chart_text, line_chart_jpeg, line_chart_svg
from reconnect_clinic.state import db_session
from reconnect_clinic.taxonomy import load
from tests.helpers import csrf_from, login, pdf_text
from tests.test_email import Inbox, _free_port

DAY = datetime(2026, 3, 2, 10, tzinfo=UTC)


def _rows(slug: str, *totals: int, role: str = "b", name: str = "Mei") -> list[Administered]:
    return [
        Administered(role, name, slug, total, DAY + timedelta(weeks=2 * i))
        for i, total in enumerate(totals)
    ]


# --- pure: the lines ------------------------------------------------------------------


def test_phq9_15_to_7_is_reliable_and_clinically_significant():
    (line,) = change_lines(_rows("phq9", 15, 12, 10, 7))
    assert (line.first, line.latest, line.count) == (15, 7, 4)
    assert line.reliable_improvement
    assert line.clinically_significant
    assert line.meaning.startswith("Reliable improvement, now below the clinical cut-off of 10")
    assert line.meaning.endswith("This change is clinically significant.")


@pytest.mark.parametrize(
    ("slug", "before", "after", "verdict"),
    [
        ("phq9", 15, 9, "improved"),  # 6 points: reliable
        ("phq9", 15, 10, "no reliable change"),  # 5 points: not
        ("phq9", 4, 10, "worsened"),
        ("gad7", 12, 8, "improved"),  # 4 points
        ("gad7", 12, 9, "no reliable change"),  # 3 points
    ],
)
def test_the_verdict_at_each_threshold(slug, before, after, verdict):
    (line,) = change_lines(_rows(slug, before, after))
    assert line.verdict == verdict


def test_reliable_but_still_in_range_is_not_clinically_significant():
    (line,) = change_lines(_rows("phq9", 22, 16))
    assert line.reliable_improvement
    assert not line.clinically_significant


def test_the_csi_says_reliable_change_is_not_computed():
    (line,) = change_lines(_rows("csi16", 31, 49))
    assert line.change is None
    assert line.verdict == "not computed"
    assert line.meaning.startswith("Reliable change not computed for this measure (31 → 49)")
    assert not line.reliable_improvement


def test_one_administration_says_so():
    (line,) = change_lines(_rows("csi4", 12))
    assert line.verdict == "measured once"
    assert "needs a second administration" in line.meaning


def test_lines_are_per_partner_and_measure_in_order():
    rows = [
        *_rows("phq9", 9, 5, role="a", name="Daniel"),
        *_rows("csi16", 40, 45),
        *_rows("phq9", 15, 7),
    ]
    assert [(line.role, line.slug) for line in change_lines(rows)] == [
        ("a", "phq9"),
        ("b", "csi16"),
        ("b", "phq9"),
    ]


# --- pure: suggestions ----------------------------------------------------------------


def _all_high():
    return {"concerns": {c.slug: {"score": 100} for c in load().concerns}}


def test_high_problem_scores_no_longer_propose_celebrating_progress():
    result = suggest(load(), library.load(), _all_high(), _all_high(), limit=20)
    assert CELEBRATE_STEP not in {item.step for item in result.items}


def test_measured_improvement_proposes_celebrating_progress_with_its_reason():
    result = suggest(load(), library.load(), None, None, improvements=("Mei's PHQ-9 15 → 7",))
    (item,) = result.items
    assert item.step == CELEBRATE_STEP
    assert item.reason_text == "measures show reliable improvement: Mei's PHQ-9 15 → 7"


# --- pure: chart bands ----------------------------------------------------------------


class _Partner:
    def __init__(self, role: str, first_name: str) -> None:
        self.role, self.first_name, self.id = role, first_name, role


def _series(*points: tuple[date, float]) -> Series:
    return Series(label="Mei (B)", role="b", points=tuple(points))


def test_a_phq9_band_spans_the_points_of_no_reliable_change():
    (band,) = reliable_change_bands("phq9", [_Partner("b", "Mei")], [_series((DAY.date(), 15.0))])
    assert (band.low, band.high) == (9.5, 20.5)  # 9 or less, or 21 or more, is reliable
    assert "a total of 9 or less, or 21 or more" in band.label


def test_the_csi_has_no_band_and_an_empty_series_none():
    assert (
        reliable_change_bands("csi16", [_Partner("b", "Mei")], [_series((DAY.date(), 40.0))]) == ()
    )
    assert reliable_change_bands("gad7", [_Partner("b", "Mei")], [_series()]) == ()


def test_the_band_is_drawn_in_svg_and_jpeg_and_said_in_words():
    class Result:
        def __init__(self, total: int, at: datetime) -> None:
            self.partner_id, self.instrument, self.total = "b", "phq9", total
            self.administered_at, self.deleted_at = at, None

    spec = measure_chart(
        [Result(15, DAY), Result(7, DAY + timedelta(weeks=6))], [_Partner("b", "Mei")], "phq9"
    )
    assert len(spec.bands) == 1
    assert 'id="chart-phq9-band-0"' in line_chart_svg(spec)
    assert "reliable-change band on the PHQ-9" in chart_text(spec)
    assert line_chart_jpeg(spec).startswith(b"\xff\xd8")


# --- the demo: couple page, dashboard, progress report --------------------------------


@pytest.fixture
def demo(seeded):
    with seeded.app_context():
        client = seeded.test_client()
        assert login(client, DEMO_EMAIL, DEMO_PASSWORD).status_code == 302
        couple = db_session().scalars(sa.select(Couple).where(Couple.label == MID_TREATMENT)).one()
        yield client, couple
        demo_db.session.rollback()
        demo_db.session.remove()


def _row(html: str, role: str, slug: str) -> str:
    match = re.search(rf'<li data-line="{role}-{slug}">.*?</li>', html, re.S)
    assert match, f"no line for partner {role} {slug}"
    return match.group(0)


def test_the_couple_page_shows_the_change_and_the_missed_round(demo):
    client, couple = demo
    page = client.get(f"/clinic/couples/{couple.id}").text
    section = page[page.index('id="measures"') :]
    mei_phq9 = _row(section, "b", "phq9")
    assert "first 15" in mei_phq9
    assert "latest 7" in mei_phq9
    assert "Improved, clinically significant" in mei_phq9
    assert "This change is clinically significant." in mei_phq9
    assert "Reliable change not computed for this measure" in _row(section, "b", "csi16")
    assert "2 administrations missed" in section
    assert "Celebrate progress with the couple" in section


def test_the_dashboard_shows_progress_to_celebrate(demo):
    client, couple = demo
    dashboard = client.get("/clinic/").text
    line = re.search(rf"/couples/{couple.id}.*?</li>\s*</ul>", dashboard, re.S).group(0)
    assert "Reliable improvement to celebrate" in line
    assert "Mei: PHQ-9" in line
    assert "2 measures administrations missed" in line


def test_the_progress_report_pdf_has_the_change_table_and_dates(demo):
    client, couple = demo
    response = client.get(f"/clinic/couples/{couple.id}/progress-report.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert "Change per partner and measure" in text
    assert "clinically significant" in text
    assert "Dates of the administrations" in text
    # Words broken at a line's end are joined again ("reliable-" / "change").
    joined = re.sub(r"-\s+", "-", " ".join(text.split()))
    assert "reliable-change band" in joined


def test_celebrating_without_email_shows_the_message_to_copy(demo):
    client, couple = demo
    page = client.get(f"/clinic/couples/{couple.id}/celebrate")
    assert page.status_code == 200
    assert "Dear Daniel and Mei" in page.text
    body = page.text.split("Dear Daniel and Mei")[1].split("</textarea>")[0]
    assert "PHQ-9" not in body
    # Mei's improvement is on her private PHQ-9: Daniel reads this too, so neither her
    # name nor her feelings are in it.
    assert "Mei" not in body
    assert "feeling" not in body
    assert "the work you have both been putting in" in body
    assert "Copy the message" in page.text
    assert "Celebrated progress with the couple (step 15)" in page.text


@pytest.fixture
def inbox(seeded):
    """A local SMTP server the demo app sends to (tests/test_email.py's, for this app)."""
    from aiosmtpd.controller import Controller

    received = Inbox()
    port = _free_port()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    seeded.config.update(
        RECONNECT_CLINIC_SMTP_HOST="127.0.0.1",
        RECONNECT_CLINIC_SMTP_PORT=port,
        RECONNECT_CLINIC_SMTP_STARTTLS=False,
    )
    yield received
    controller.stop()
    seeded.config.update(RECONNECT_CLINIC_SMTP_HOST=None, RECONNECT_CLINIC_SMTP_PORT=587)
    seeded.config["RECONNECT_CLINIC_SMTP_STARTTLS"] = True


def test_celebrating_by_email_sends_once_per_press_and_clears_the_dashboard(demo, inbox):
    client, couple = demo
    smtp = inbox
    page = client.get(f"/clinic/couples/{couple.id}/celebrate")
    assert smtp.messages == []  # never sent by itself
    sent = client.post(
        f"/clinic/couples/{couple.id}/celebrate",
        data={"csrf_token": csrf_from(page.text), "message": "Well done, both of you."},
    )
    assert sent.status_code == 200
    assert len(smtp.messages) == 2
    assert "Well done, both of you." in smtp.messages[0][1]
    assert (
        db_session().scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "measures.celebrate")
        )
        == 1
    )
    dashboard = client.get("/clinic/").text
    line = re.search(rf"/couples/{couple.id}.*?</li>\s*</ul>", dashboard, re.S).group(0)
    assert "Reliable improvement to celebrate" not in line
