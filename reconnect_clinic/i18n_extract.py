"""Babel extractors for the texts partners see that live in data, not in code.

``pybabel extract -F babel.cfg`` calls these (see babel.cfg), so the catalogue holds
every text a partner's page can show, and tests/test_i18n.py can fail on one left
untranslated. Each yields ``(line, function, message, comments)``, Babel's contract.

* :func:`extract_intake`: the intake's pages (intake/content.py, with the sign and cause
  items of the taxonomy they ask about). The validated instruments' own wording is left
  out on purpose: it is shown only in an official translation, never in ours.
* :func:`extract_exercises`: what a partner reads of each library exercise (never the
  therapist's note or the contraindications, which stay in the therapist's language).
* :func:`extract_crisis_resources`: each service's name and line about it, and each
  country's emergency note.
* :func:`extract_ratings`: the built-in session check (ratings/items.py), in the project's
  own words; a practice's own measure is shown as written.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from typing import IO, Any

Extracted = Iterator[tuple[int, str, str, list[str]]]

# The fields of a library exercise that its partner page shows (homework_mine.html).
EXERCISE_FIELDS = ("title", "purpose", "privacy")
EXERCISE_LISTS = ("instructions", "reflection_prompts")


def _once(messages: Iterator[tuple[str, str]]) -> Extracted:
    seen: set[str] = set()
    for message, comment in messages:
        if message and message not in seen:
            seen.add(message)
            yield 0, "gettext", message, [comment]


def intake_texts() -> Iterator[tuple[str, str]]:
    """Every text of the intake's pages (both consent orders), with where it is from."""
    from . import taxonomy
    from .intake.content import pages_for

    loaded = taxonomy.load()
    for consent_first in (False, True):
        for page in pages_for(loaded, consent_first=consent_first):
            where = f"intake page {page.slug}"
            yield page.title, where
            yield page.intro, where
            for question in page.questions:
                if ":" in question.item_id:
                    continue  # a validated instrument's item: never our translation
                yield question.label, f"{where}: {question.name}"
                yield question.hint, f"{where}: {question.name} (hint)"
                yield question.section, f"{where}: section"
                yield question.section_intro, f"{where}: section"
                for _value, label in question.choices:
                    yield label, f"{where}: {question.name} (choice)"


def extract_intake(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Extracted:
    # Built from the module rather than parsed: the sign and cause items come from the
    # taxonomy, and the pages are assembled in code.
    return _once(intake_texts())


def exercise_texts(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for exercise in data.get("exercises", []):
        where = f"exercise {exercise.get('slug', '?')}"
        for field in EXERCISE_FIELDS:
            yield str(exercise.get(field, "")), f"{where}: {field}"
        for field in EXERCISE_LISTS:
            for line in exercise.get(field, []):
                yield str(line), f"{where}: {field}"


def extract_exercises(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Extracted:
    return _once(exercise_texts(tomllib.loads(fileobj.read().decode("utf-8"))))


def crisis_texts(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for code, country in data.get("countries", {}).items():
        if not isinstance(country, dict):
            continue
        yield str(country.get("emergency_note", "")), f"crisis resources {code}"
        for resource in country.get("resources", []):
            where = f"crisis resources {code}: {resource.get('name', '?')}"
            yield str(resource.get("name", "")), where
            yield str(resource.get("about", "")), where


def extract_crisis_resources(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Extracted:
    return _once(crisis_texts(tomllib.loads(fileobj.read().decode("utf-8"))))


def rating_texts() -> Iterator[tuple[str, str]]:
    from .ratings.items import BUILT_IN

    yield BUILT_IN.title, "session rating"
    for item in BUILT_IN.items:
        where = f"session rating: {item.key}"
        yield item.text, where
        yield item.low, f"{where} (lowest point)"
        yield item.high, f"{where} (highest point)"


def extract_ratings(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Extracted:
    return _once(rating_texts())
