"""Every file the clinic serves (reports, exports, spreadsheets, calendars): one response,
and file names that say whose file it is and from when, in a form safe anywhere.

A file name is built from parts a therapist typed (a couple's label, an exercise's title),
so it is reduced to an ASCII slug: letters with accents keep their letter, anything else
(quotes, slashes, line breaks, emoji, scripts with no Latin letters) is dropped, and what
is left is bounded. It can never be empty, name a folder, or break out of its header.
"""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import date

from flask import Response, send_file

# Each part of a name is at most this long, so a name stays well under the 255 bytes
# file systems allow (and readable in a downloads folder).
PART_MAX = 48

_NOT_SLUG = re.compile(r"[^a-z0-9]+")

PDF = "application/pdf"
ZIP = "application/zip"
CSV = "text/csv"  # Flask adds "; charset=utf-8" to a text type
ICS = "text/calendar"


# Latin letters NFKD does not take apart into an ASCII letter and its accents.
_LATIN = str.maketrans(
    {"æ": "ae", "ø": "o", "ß": "ss", "đ": "d", "ł": "l", "œ": "oe", "þ": "th", "ı": "i"}
)


def _ascii(character: str) -> str:
    """An accent is dropped; any other character without an ASCII form separates words
    (an en dash, an emoji, a letter of another script)."""
    if character.isascii():
        return character
    return "" if unicodedata.combining(character) else " "


def slug(text: str, *, fallback: str, max_length: int = PART_MAX) -> str:
    """``text`` as lowercase ASCII letters, digits and single hyphens, at most
    ``max_length`` characters (cut at a hyphen where one is near), or ``fallback`` when
    nothing of it is left (a name written in Chinese, or only emoji)."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LATIN))
    ascii_text = "".join(_ascii(character) for character in decomposed)
    result = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    if len(result) > max_length:
        cut = result[:max_length]
        # Prefer ending on a whole word, unless that drops most of the part.
        at_hyphen = cut.rsplit("-", 1)[0] if "-" in cut else cut
        result = (at_hyphen if len(at_hyphen) >= max_length // 2 else cut).strip("-")
    return result or fallback


def download_name(subject: str, on: date, kind: str, extension: str) -> str:
    """A download's file name: whose it is, the day it is of, what it is. For example
    ``rivera-chen_2026-11-30_session-report.pdf`` (the parts in this order, so a
    couple's files sort together and by date in a downloads folder)."""
    stem = "_".join((slug(subject, fallback="couple"), on.isoformat(), slug(kind, fallback="file")))
    return f"{stem}.{slug(extension, fallback='bin', max_length=8)}"


def download(data: bytes, filename: str, mimetype: str) -> Response:
    """``data`` served as an attachment named ``filename`` (Flask's ``send_file``: the
    name is quoted, and given again as ``filename*`` in UTF-8 should it not be ASCII).

    Never stored by the browser or a proxy: every download here is a clinical record (the
    clinic's headers say so too, on every response under its prefix). Not conditional:
    the file is made for this request, and has no date or ETag to compare against."""
    response = send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=True,
        download_name=filename,
        conditional=False,
        etag=False,
        last_modified=None,
        max_age=None,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
