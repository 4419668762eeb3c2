"""A practice's own CSI reliability figures (RECONNECT_CLINIC_CSI_RELIABILITY): checked at
start-up, used for the CSI's reliable change wherever change is shown, and named in every
verdict drawn from them. Without them the CSI says "not computed" (tests/test_change_display.py).

The figures here are made up for the tests, and say so: none is a published value."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from reconnect_clinic import ReconnectClinic
from reconnect_clinic.demo import db as demo_db
from reconnect_clinic.demo_data import DEMO_EMAIL, DEMO_PASSWORD, MID_TREATMENT
from reconnect_clinic.measures import bases_from_setting, can_judge
from reconnect_clinic.measures.progress import Administered, change_lines
from reconnect_clinic.models import Couple
from reconnect_clinic.reports.assembly import reliable_change_bands
from reconnect_clinic.reports.charts import Series
from reconnect_clinic.state import db_session
from tests.helpers import login, pdf_text

SOURCE = "Test figures, not published"
# SE = 10 * sqrt(0.1); S_diff = sqrt(2) * SE = sqrt(20) = 4.47; 1.96 * S_diff = 8.77: 9 points.
FIGURES = {"csi16": {"sd": 10.0, "reliability": 0.9, "source": SOURCE}}
DAY = datetime(2026, 3, 2, 10, tzinfo=UTC)


def _rows(*totals: int) -> list[Administered]:
    return [
        Administered("b", "Mei", "csi16", total, DAY + timedelta(weeks=2 * i))
        for i, total in enumerate(totals)
    ]


# --- pure --------------------------------------------------------------------------------


def test_the_setting_gives_a_basis_per_form():
    bases = bases_from_setting(FIGURES)
    assert set(bases) == {"csi16"}
    assert bases["csi16"].source == SOURCE
    assert bases["csi16"].s_diff == pytest.approx(20**0.5)
    assert bases_from_setting(None) == {}
    assert bases_from_setting({}) == {}


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ({"csi32": FIGURES["csi16"]}, "'csi32' is not a CSI form"),
        ({"phq9": FIGURES["csi16"]}, "'phq9' is not a CSI form"),
        ({"csi16": {"sd": 10.0, "reliability": 0.9}}, "needs exactly sd, reliability and source"),
        ({"csi16": {**FIGURES["csi16"], "source": "  "}}, "must say where it was published"),
        ({"csi16": {**FIGURES["csi16"], "sd": "10"}}, "['sd'] must be a number"),
        ({"csi16": {**FIGURES["csi16"], "reliability": True}}, "must be a number"),
        ({"csi16": {**FIGURES["csi16"], "sd": -1.0}}, "standard deviation must be positive"),
        ({"csi16": {**FIGURES["csi16"], "reliability": 1.0}}, "reliability must be in [0, 1)"),
        (["csi16"], "must be a mapping"),
        ({"csi16": {**FIGURES["csi16"], "sd": float("inf")}}, "['sd'] must be a finite number"),
        (
            {"csi16": {**FIGURES["csi16"], "reliability": float("nan")}},
            "['reliability'] must be a finite number",
        ),
    ],
)
def test_a_malformed_setting_is_refused_naming_the_setting(setting, words):
    with pytest.raises(ValueError, match="RECONNECT_CLINIC_CSI_RELIABILITY") as raised:
        bases_from_setting(setting)
    assert words in str(raised.value)


def test_with_the_practices_figures_the_csi_is_judged_and_the_source_named():
    bases = bases_from_setting(FIGURES)
    (line,) = change_lines(_rows(40, 49), bases)
    assert line.change is not None
    assert line.verdict == "improved"
    assert line.change.points_needed == 9
    assert line.meaning.endswith(f"Judged from the practice's figures: {SOURCE}.")
    (short,) = change_lines(_rows(40, 48), bases)
    assert short.verdict == "no reliable change"


def test_a_form_without_figures_is_still_not_computed():
    (line,) = change_lines(
        [
            Administered("b", "Mei", "csi4", t, DAY + timedelta(weeks=i))
            for i, t in enumerate((8, 16))
        ],
        bases_from_setting(FIGURES),
    )
    assert line.verdict == "not computed"
    assert can_judge("csi16", bases_from_setting(FIGURES))
    assert not can_judge("csi4", bases_from_setting(FIGURES))
    assert not can_judge("csi16")


def test_the_chart_draws_the_band_from_the_practices_figures():
    class Partner:
        role, first_name = "b", "Mei"

    series = [Series("Mei (B)", "b", ((DAY.date(), 40.0), (DAY.date(), 49.0)))]
    assert reliable_change_bands("csi16", [Partner()], series) == ()
    (band,) = reliable_change_bands("csi16", [Partner()], series, bases_from_setting(FIGURES))
    assert (band.low, band.high) == (31.5, 48.5)  # 40 - 9 and 40 + 9, drawn inside


# --- start-up -----------------------------------------------------------------------------


def test_init_app_refuses_a_malformed_setting(tmp_path):
    app = Flask("host", instance_path=str(tmp_path))
    app.config.update(
        SECRET_KEY="x",
        SQLALCHEMY_DATABASE_URI="sqlite://",
        RECONNECT_CLINIC_CSI_RELIABILITY={"csi16": {"sd": 10.0}},
    )
    from flask_sqlalchemy import SQLAlchemy

    with pytest.raises(ValueError, match="RECONNECT_CLINIC_CSI_RELIABILITY"):
        ReconnectClinic().init_app(app, db=SQLAlchemy(app))


# --- where change is shown ----------------------------------------------------------------


@pytest.fixture
def demo(seeded):
    seeded.config["RECONNECT_CLINIC_CSI_RELIABILITY"] = FIGURES
    try:
        with seeded.app_context():
            client = seeded.test_client()
            assert login(client, DEMO_EMAIL, DEMO_PASSWORD).status_code == 302
            couple = (
                db_session().scalars(sa.select(Couple).where(Couple.label == MID_TREATMENT)).one()
            )
            yield client, couple
            demo_db.session.rollback()
            demo_db.session.remove()
    finally:
        seeded.config["RECONNECT_CLINIC_CSI_RELIABILITY"] = None


def test_the_couple_page_and_the_progress_report_name_the_practices_figures(demo):
    client, couple = demo
    page = client.get(f"/clinic/couples/{couple.id}").text
    row = re.search(r'<li data-line="b-csi16">.*?</li>', page, re.S).group(0)
    assert "Reliable change not computed" not in row
    assert f"Judged from the practice&#39;s figures: {SOURCE}." in row
    text = " ".join(
        pdf_text(client.get(f"/clinic/couples/{couple.id}/progress-report.pdf").data).split()
    )
    assert "Judged from the practice's figures" in text
    assert "Reliable change not computed for this measure" not in text
