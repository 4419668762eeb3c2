"""Which characters of a report its PDF cannot print.

The PDFs are set only in the fonts shipped in the package (Inter for Latin with its
accents, Greek, Cyrillic, punctuation and common symbols; Noto Sans for Arabic, Hebrew
and common Chinese, Japanese and Korean; see assets/fonts/README.txt), so that they
look the same on every machine. Anything else (emoji, rarer scripts and characters)
prints as an empty box. A record must not lose a client's name without anyone knowing:
previews say which characters will not print, before a note is signed and its report
stored. Reading the fonts' character maps needs fontTools (installed with WeasyPrint),
not WeasyPrint itself, so the web process may call this.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from html.parser import HTMLParser
from io import BytesIO

# Characters that print as nothing, whatever the font: spaces, line breaks, controls and
# format marks (zero-width joiners, direction marks).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


# Variation selectors choose a form of the character before them and draw nothing.
def _is_variation_selector(character: str) -> bool:
    code = ord(character)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


# Text inside these elements is not printed on the page.
_NOT_PRINTED = frozenset({"head", "title", "style", "script", "template"})


@cache
def printable_code_points() -> frozenset[int]:
    """The code points the packaged report fonts can draw: Inter's in every style
    (regular, bold, italic), and the fallback fonts' for the scripts Inter lacks."""
    from fontTools.ttLib import TTFont

    from .pdf import PACKAGED_ASSETS, resolve_asset

    inter: frozenset[int] | None = None
    fallback: set[int] = set()
    for name in PACKAGED_ASSETS:
        if not name.startswith("fonts/"):
            continue
        data, _ = resolve_asset(f"clinic-asset:{name}", logo=None)
        cmap = frozenset(TTFont(BytesIO(data), lazy=True).getBestCmap())
        if name.startswith("fonts/Inter-"):
            inter = cmap if inter is None else inter & cmap
        else:
            fallback |= cmap
    return frozenset(inter or ()) | fallback


def unprintable_characters(text: str) -> tuple[str, ...]:
    """The characters of ``text`` the report fonts lack, each once, in order of first
    appearance."""
    covered = printable_code_points()
    missing: dict[str, None] = {}
    for character in text:
        if ord(character) in covered or character in missing:
            continue
        if unicodedata.category(character) in _INVISIBLE_CATEGORIES:
            continue
        if _is_variation_selector(character):
            continue
        missing[character] = None
    return tuple(missing)


class _PrintedText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _NOT_PRINTED:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _NOT_PRINTED and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def unprintable_in_html(html: str) -> tuple[str, ...]:
    """:func:`unprintable_characters` of the text a report's HTML prints (not its head,
    styles or markup)."""
    parser = _PrintedText()
    parser.feed(html)
    parser.close()
    return unprintable_characters("".join(parser.parts))
