"""Crisis resources for a partner who has just disclosed something: services for their
safety at home, for thoughts of harming themselves, and for a partner who said they use
force themselves.

The resources are practice configuration, never text in a template. The package carries
defaults per country in ``data/crisis_resources.toml`` (each number there names the public
sources it was checked against); a practice picks its country with
``RECONNECT_CLINIC_CRISIS_COUNTRY`` or gives its own list in
``RECONNECT_CLINIC_CRISIS_RESOURCES``. Both are checked when the app starts
(:func:`from_config`): a misspelt field or an unknown country stops start-up, rather than
leaving a partner in crisis with a broken or missing number.

Which resources a partner sees follows from what they disclosed (:func:`support_kinds`):
partner-abuse services for a safety answer or note, self-harm services for PHQ-9 item 9,
services for people who want to change how they treat a partner for the partner's own use
of force; all that apply when several do.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, get_args
from urllib.parse import quote

from .core import OWN_FORCE_ITEM, Disclosure, RiskKind

__all__ = [
    "SUPPORT_KINDS",
    "CrisisResource",
    "CrisisResourceError",
    "CrisisSupport",
    "builtin",
    "configured",
    "from_config",
    "support_kinds",
]

SupportKind = Literal["safety", "self_harm", "own_force"]
SUPPORT_KINDS: tuple[str, ...] = get_args(SupportKind)
GENERIC = "generic"

_DATA_FILE = "crisis_resources.toml"
_COUNTRY_KEYS = frozenset({"name", "aliases", "emergency", "emergency_note", "resources"})
_RESOURCE_KEYS = frozenset({"name", "kinds", "about", "call", "text", "text_word", "url"})
# Digits, spaces, dashes, dots, brackets and a leading plus: a number as people write it.
_NUMBER_RE = re.compile(r"\+?[0-9][0-9 ().-]*[0-9]|[0-9]")
_CODE_RE = re.compile(r"[A-Z]{2}|generic")


class CrisisResourceError(ValueError):
    """Crisis resources (the packaged data or the practice's settings) are malformed; the
    message names the country or resource and the field at fault."""


@dataclass(frozen=True, slots=True)
class CrisisResource:
    """One service a partner can reach. ``call`` and ``text`` are numbers as written in
    their country; ``text_word`` is what to send to ``text`` (e.g. START)."""

    name: str
    kinds: frozenset[str]
    about: str
    call: str = ""
    text: str = ""
    text_word: str = ""
    url: str = ""

    @property
    def call_href(self) -> str:
        return "tel:" + _dialable(self.call) if self.call else ""

    @property
    def text_href(self) -> str:
        if not self.text:
            return ""
        body = f"?body={quote(self.text_word)}" if self.text_word else ""
        return f"sms:{_dialable(self.text)}{body}"


@dataclass(frozen=True, slots=True)
class CrisisSupport:
    """What a practice shows: its country's emergency number ("" where it differs by
    place) and the services, in the order they are shown."""

    country: str
    emergency: str
    emergency_note: str
    resources: tuple[CrisisResource, ...]

    def for_kinds(self, kinds: Iterable[str]) -> tuple[CrisisResource, ...]:
        """The services for any of ``kinds``, each once, in the practice's order."""
        wanted = frozenset(kinds)
        return tuple(r for r in self.resources if r.kinds & wanted)


def support_kinds(disclosures: Iterable[Disclosure]) -> frozenset[str]:
    """Which kinds of service fit what a partner disclosed.

    A safety answer or note calls for partner-abuse services, except the partner's own use
    of force, which calls for services that help people change how they treat a partner;
    PHQ-9 item 9 calls for self-harm services. The therapist's own assessments (an active
    affair) call for none: they are never the partner's disclosure.
    """
    kinds: set[str] = set()
    for disclosure in disclosures:
        if disclosure.kind is RiskKind.SELF_HARM:
            kinds.add("self_harm")
        elif disclosure.kind is RiskKind.SAFETY:
            kinds.add("own_force" if disclosure.item == OWN_FORCE_ITEM else "safety")
    return frozenset(kinds)


# --- loading and checking -------------------------------------------------------------


@functools.cache
def builtin() -> Mapping[str, CrisisSupport]:
    """The packaged defaults, by country code and alias (parsed and checked once)."""
    source = resources.files(__package__) / "data" / _DATA_FILE
    name = f"{__package__}/data/{_DATA_FILE}"
    try:
        with source.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise CrisisResourceError(f"{name}: not valid TOML: {error}") from error
    try:
        return _parse_countries(data)
    except CrisisResourceError as error:
        raise CrisisResourceError(f"{name}: {error}") from error


def configured(
    country: str | None, own: Sequence[Mapping[str, Any]] | None = None
) -> CrisisSupport:
    """The resources a practice shows: its country's defaults, or its own list (``own``)
    with the country's emergency number. ``country`` None or "" means "generic"."""
    code = (country or GENERIC).strip()
    code = code if code == GENERIC else code.upper()
    countries = builtin()
    if code not in countries:
        known = ", ".join(sorted({c.country for c in countries.values()}))
        raise CrisisResourceError(
            f"RECONNECT_CLINIC_CRISIS_COUNTRY {country!r} has no built-in crisis resources "
            f"(known: {known}); choose 'generic' for the local emergency number and a "
            "directory of helplines, and give your own services in "
            "RECONNECT_CLINIC_CRISIS_RESOURCES"
        )
    support = countries[code]
    if own is None:
        return support
    if isinstance(own, str | bytes | Mapping) or not isinstance(own, Sequence) or not own:
        raise CrisisResourceError(
            "RECONNECT_CLINIC_CRISIS_RESOURCES must be a non-empty list of services "
            "(dicts with name, kinds, about and call, text or url), or None for the "
            "built-in ones"
        )
    listed = tuple(
        _parse_resource(entry, f"RECONNECT_CLINIC_CRISIS_RESOURCES[{number}]")
        for number, entry in enumerate(own)
    )
    return CrisisSupport(support.country, support.emergency, support.emergency_note, listed)


def from_config(config: Mapping[str, Any]) -> CrisisSupport:
    """The practice's resources from its settings, checked (see :func:`configured`), and
    its quick-exit address checked too: both are how a partner leaves or gets help."""
    exit_url = config.get("RECONNECT_CLINIC_QUICK_EXIT_URL")
    if not isinstance(exit_url, str) or not exit_url.startswith(("https://", "http://")):
        raise CrisisResourceError(
            f"RECONNECT_CLINIC_QUICK_EXIT_URL must be a full https:// address, got {exit_url!r}"
        )
    return configured(
        config.get("RECONNECT_CLINIC_CRISIS_COUNTRY"),
        config.get("RECONNECT_CLINIC_CRISIS_RESOURCES"),
    )


def _parse_countries(data: Mapping[str, Any]) -> dict[str, CrisisSupport]:
    unknown = sorted(set(data) - {"countries"})
    if unknown:
        raise CrisisResourceError(f"top level: unknown field(s) {', '.join(map(repr, unknown))}")
    tables = data.get("countries")
    if not isinstance(tables, dict) or GENERIC not in tables:
        raise CrisisResourceError("top level: 'countries' must include 'generic'")
    found: dict[str, CrisisSupport] = {}
    for code, table in tables.items():
        where = f"countries.{code}"
        if not _CODE_RE.fullmatch(code):
            raise CrisisResourceError(f"{where}: a country code is two capital letters")
        if not isinstance(table, dict):
            raise CrisisResourceError(f"{where}: expected a table")
        _check_keys(table, _COUNTRY_KEYS, where)
        _text(table, "name", where)
        emergency = _optional(table, "emergency", where)
        if emergency and not _NUMBER_RE.fullmatch(emergency):
            raise CrisisResourceError(f"{where}: 'emergency' must be a phone number")
        entries = table.get("resources")
        if not isinstance(entries, list) or not entries:
            raise CrisisResourceError(f"{where}: 'resources' is missing or empty")
        listed = tuple(
            _parse_resource(entry, f"{where}.resources[{number}]")
            for number, entry in enumerate(entries, start=1)
        )
        # Built-in data must never leave a disclosure with nothing to show.
        for kind in SUPPORT_KINDS:
            if not any(kind in r.kinds for r in listed):
                raise CrisisResourceError(f"{where}: no resource for {kind!r}")
        support = CrisisSupport(code, emergency, _optional(table, "emergency_note", where), listed)
        aliases = table.get("aliases", [])
        if not isinstance(aliases, list) or not all(
            isinstance(a, str) and _CODE_RE.fullmatch(a) for a in aliases
        ):
            raise CrisisResourceError(f"{where}: 'aliases' must be a list of country codes")
        for key in (code, *aliases):
            if key in found:
                raise CrisisResourceError(f"{where}: code {key!r} is used twice")
            found[key] = support
    return found


def _parse_resource(entry: Any, where: str) -> CrisisResource:
    if not isinstance(entry, Mapping):
        raise CrisisResourceError(f"{where}: expected a table of fields")
    name = entry.get("name")
    if isinstance(name, str) and name.strip():
        where = f"{where} {name.strip()!r}"
    _check_keys(entry, _RESOURCE_KEYS, where)
    kinds = entry.get("kinds")
    if (
        not isinstance(kinds, list | tuple)
        or not kinds
        or not all(isinstance(k, str) and k in SUPPORT_KINDS for k in kinds)
    ):
        raise CrisisResourceError(
            f"{where}: 'kinds' must list one or more of {', '.join(map(repr, SUPPORT_KINDS))}"
        )
    resource = CrisisResource(
        name=_text(entry, "name", where),
        kinds=frozenset(kinds),
        about=_text(entry, "about", where),
        call=_optional(entry, "call", where),
        text=_optional(entry, "text", where),
        text_word=_optional(entry, "text_word", where),
        url=_optional(entry, "url", where),
    )
    for key in ("call", "text"):
        value = getattr(resource, key)
        if value and not _NUMBER_RE.fullmatch(value):
            raise CrisisResourceError(f"{where}: {key!r} must be a phone number, got {value!r}")
    if resource.text_word and not resource.text:
        raise CrisisResourceError(f"{where}: 'text_word' needs a 'text' number to send it to")
    if resource.url and not resource.url.startswith(("https://", "http://")):
        raise CrisisResourceError(f"{where}: 'url' must start with https:// or http://")
    if not (resource.call or resource.text or resource.url):
        raise CrisisResourceError(f"{where}: give at least one of 'call', 'text' or 'url'")
    return resource


def _check_keys(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise CrisisResourceError(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}")


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CrisisResourceError(f"{where}: field {key!r} is missing or empty")
    return value.strip()


def _optional(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise CrisisResourceError(f"{where}: field {key!r} must be text")
    return value.strip()


def _dialable(number: str) -> str:
    return re.sub(r"[^0-9+]", "", number)
