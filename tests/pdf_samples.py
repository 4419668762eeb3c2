"""Sample reports and small readers for the PDF layer's tests (reconnect_clinic.reports.pdf)."""

from __future__ import annotations

import io
import struct
import zlib

import pypdf

from reconnect_clinic.reports.pdf import MAX_HTML_BYTES

PARAGRAPH = (
    "Both partners describe a slow drift into parallel lives: evenings spent in separate "
    "rooms, conversations that stay on logistics, and a sense of not being asked about "
    "their inner world. They agree that nothing dramatic happened; the distance grew from "
    "many small moments in which a bid for attention went unanswered."
)


def sample_report(title: str = "Session report", *, created: str | None = None) -> str:
    """A 2–3 page report like the app's: letterhead, headings, a small table, a list."""
    rows = "".join(
        f"<tr><td>{name}</td><td class='num'>{a}</td><td class='num'>{b}</td><td>{band}</td></tr>"
        for name, a, b, band in [
            ("CSI-16 (relationship satisfaction)", 38, 44, "distressed"),
            ("PHQ-9 (depression)", 11, 6, "moderate / mild"),
            ("GAD-7 (anxiety)", 9, 4, "mild / minimal"),
            ("Feeling unseen (0–10)", 8, 6, "high"),
            ("Conversations on the surface (0–10)", 7, 7, "high"),
            ("Growing distance (0–10)", 6, 8, "high"),
        ]
    )
    steps = "".join(
        f"<li>{step}</li>"
        for step in [
            "Ten minutes a day of undivided attention, phones in another room.",
            "Name one feeling each evening, with one sentence about its cause.",
            "Turn towards a bid for attention at least three times a day.",
            "Replace one logistics conversation a week with a question about the other’s day.",
            "Keep a shared list of small appreciations and read it on Sundays.",
            "Notice withdrawal early and say so without blame.",
            "Plan one unhurried evening together each week.",
            "Bring the list to the next session.",
        ]
    )
    meta = f'<meta name="dcterms.created" content="{created}">' if created else ""
    sections = "".join(
        f"<h2>{heading}</h2><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p>"
        for heading in (
            "Presenting concerns",
            "Signs of emotional neglect",
            "Causes the couple recognise",
            "What changed since intake",
        )
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="author" content="Dr Ana Šimić">{meta}</head>
<body>
<p class="report-footer">Report 3f9a0c17 · Confidential clinical record</p>
<header class="letterhead">
  <p class="practice">Harbour Street Counselling</p>
  <p class="doc-kind">{title}</p>
</header>
<h1>Łukasz &amp; Zoë Brontë-Nguyễn</h1>
<p class="meta">Session 6 · 2 May 2024 · 50 minutes · Dr Ana Šimić</p>
{sections}
<h2>Measures</h2>
<table><thead><tr><th>Measure</th><th class="num">Partner A</th><th class="num">Partner B</th>
<th>Band</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Homework agreed</h2>
<ul class="steps">{steps}</ul>
<h2>Plan</h2><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p>
<div class="signature"><p class="line">Signed: Dr Ana Šimić, 2 May 2024</p></div>
</body></html>"""


def runaway_report(rows: int = 3000) -> str:
    """A table large enough to take many seconds to lay out (and still under the cap)."""
    body = "".join(f"<tr><td>{i}</td><td>row {i}</td><td>{i * 7}</td></tr>" for i in range(rows))
    html = f"<table><thead><tr><th>n</th><th>name</th><th>x</th></tr></thead>{body}</table>"
    assert len(html.encode()) < MAX_HTML_BYTES
    return html


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def font_names(pdf: bytes) -> set[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def png(width: int = 4, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x1f\x5f\x6b" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "#1f5f6b").save(buffer, format="JPEG")
    return buffer.getvalue()
