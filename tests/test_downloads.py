"""Every download: one response (``downloads.download``, on Flask's ``send_file``), never
stored, and a file name that names the couple and the day in a form safe anywhere, whatever
the therapist typed as the couple's name."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from reconnect_clinic.downloads import PART_MAX, PDF, download, download_name, slug
from tests.helpers import PartnerBrowser, login

TODAY = date(2026, 11, 30)

# A name a file system, a browser and a header all take as it is.
SAFE_NAME = re.compile(r"[a-z0-9-]+_\d{4}-\d{2}-\d{2}_[a-z0-9-]+\.[a-z0-9]+")


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Rivera & Chen", "rivera-chen"),
        ("Rivera–Chen", "rivera-chen"),  # en dash
        ("José & Zoë Müller", "jose-zoe-muller"),
        ("Ærø ﬁnance", "aero-finance"),
        ("Łukasz & Søren Strauß", "lukasz-soren-strauss"),
        ('Smith"; filename="evil.exe', "smith-filename-evil-exe"),
        ("Smith\r\nSet-Cookie: admin=1", "smith-set-cookie-admin-1"),
        ("../../etc/passwd", "etc-passwd"),
        ("C:\\Users\\Public", "c-users-public"),
        ("  --Lee--  ", "lee"),
        ("Kim 💞 Park", "kim-park"),
    ],
)
def test_a_name_becomes_an_ascii_slug(label, expected):
    assert slug(label, fallback="couple") == expected


@pytest.mark.parametrize("label", ["陈与李", "💔💞", "", "   ", "&&&", "\r\n", "/"])
def test_a_name_with_nothing_of_latin_in_it_falls_back(label):
    assert slug(label, fallback="couple") == "couple"


def test_a_long_name_is_cut_at_a_word():
    label = "Alexandrina Featherstonehaugh-Cholmondeley and Bartholomew Marjoribanks"
    result = slug(label, fallback="couple")
    assert result == "alexandrina-featherstonehaugh-cholmondeley-and"
    assert len(result) <= PART_MAX


def test_a_long_word_is_cut_where_it_must_be():
    result = slug("x" * 500, fallback="couple")
    assert result == "x" * PART_MAX


HOSTILE = [
    'Rivera "&" Chen',
    "Rivera\r\nContent-Type: text/html",
    "../../../../etc/passwd",
    "..\\..\\windows",
    "Kim 💞 Park",
    "陈与李",
    "Rivera–Chen",
    "x" * 10_000,
    "a-" * 5_000,
    "\x00\x1b[31m",
]


@pytest.mark.parametrize("label", HOSTILE)
def test_a_download_name_is_always_safe(label):
    name = download_name(label, TODAY, label, "pdf")
    assert SAFE_NAME.fullmatch(name), name
    assert len(name) <= 2 * PART_MAX + len("_2026-11-30_.pdf")


def test_a_download_name_says_whose_when_and_what():
    assert (
        download_name("Rivera & Chen", TODAY, "session report", "pdf")
        == "rivera-chen_2026-11-30_session-report.pdf"
    )


def test_a_download_is_an_attachment_never_stored(app):
    with app.test_request_context():
        response = download(b"%PDF-1.7 x", "rivera-chen_2026-11-30_session-report.pdf", PDF)
        response.direct_passthrough = False
        body = response.get_data()
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=rivera-chen_2026-11-30_session-report.pdf"
    )
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.content_length == len(b"%PDF-1.7 x")
    assert body == b"%PDF-1.7 x"


# --- every download of the product ------------------------------------------------------


@pytest.fixture
def case(app, make, client):
    owner = make.therapist()
    couple = make.couple(owner, label="Rivera–Chen 💞", a="Robin", b="Sasha")
    PartnerBrowser(app, make.intake_link(owner, couple.partner_a)).fill(make.intake_answers())
    start = date.today() - timedelta(days=3)  # noqa: DTZ011
    assignment = make.assignment(owner, couple, starts_on=start)
    therapy = make.therapy_session(owner, couple, held_on=date.today() - timedelta(days=1))  # noqa: DTZ011
    make.signed_note(owner, therapy)
    ics = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework").get(
        f"{assignment.id}.ics"
    )
    login(client, owner.email)
    base = f"/clinic/couples/{couple.id}"
    day = date.today().isoformat()  # noqa: DTZ011
    return {
        # url: (the file name it must have, its type)
        f"{base}/sessions/{therapy.id}/report.pdf": (
            f"rivera-chen_{therapy.held_on.isoformat()}_session-report.pdf",
            "application/pdf",
        ),
        f"{base}/progress-report.pdf": (
            f"rivera-chen_{day}_progress-report.pdf",
            "application/pdf",
        ),
        f"{base}/intake-summary.pdf": (f"rivera-chen_{day}_intake-summary.pdf", "application/pdf"),
        f"{base}/intake-summary.pdf?private=no": (
            f"rivera-chen_{day}_intake-summary-without-private-answers.pdf",
            "application/pdf",
        ),
        f"{base}/homework/{assignment.id}/handout.pdf": (
            f"rivera-chen_{start.isoformat()}_handout-ten-minute-daily-check-in.pdf",
            "application/pdf",
        ),
        f"{base}/export.zip": (f"rivera-chen_{day}_case-record.zip", "application/zip"),
        f"{base}/export.zip?for=a": (
            f"rivera-chen_{day}_case-record-partner-a.zip",
            "application/zip",
        ),
        f"{base}/homework.csv": (f"rivera-chen_{day}_homework-adherence.csv", "text/csv"),
        "/clinic/homework.csv": (f"caseload_{day}_homework-adherence.csv", "text/csv"),
        "ics": (f"reminder_{start.isoformat()}.ics", "text/calendar", ics),
    }


def test_every_download_names_the_couple_and_the_day(case, client):
    seen = {}
    for url, (_, mimetype, *fetched) in case.items():
        response = fetched[0] if fetched else client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == mimetype, url
        seen[url] = response.headers["Content-Disposition"]
    assert seen == {url: f"attachment; filename={name}" for url, (name, *_) in case.items()}


def test_no_download_is_stored(case, client):
    for url, (_, _, *fetched) in case.items():
        response = fetched[0] if fetched else client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url


def test_a_partners_calendar_file_names_neither_the_couple_nor_the_homework(case):
    name = case["ics"][0]
    assert "rivera" not in name
    assert "homework" not in name
