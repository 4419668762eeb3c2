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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, get_args
from urllib.parse import quote

from ..tomlcheck import TOP, CheckError, Field, Schema, Table, by_key, check
from ..tomlcheck import load as load_toml
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
# Digits, spaces, dashes, dots, brackets and a leading plus: a number as people write it.
_NUMBER_RE = re.compile(r"\+?[0-9][0-9 ().-]*[0-9]|[0-9]")
_CODE_RE = re.compile(r"[A-Z]{2}|generic")
_CODE_HINT = "a country code (two capital letters) or 'generic'"

# The shape of the data file and of a practice's own list (see reconnect_clinic.tomlcheck).
# Optional text may be "" (the same as leaving it out), which suits settings built in code.
_NUMBER = Field(
    "text", False, default="", blank=True, pattern=_NUMBER_RE, pattern_hint="a phone number"
)
_RESOURCE = Schema(
    {
        "name": Field("text"),
        "kinds": Field(
            "list",
            item=Field("text", choices=SUPPORT_KINDS),
            hint=f"one or more of {', '.join(map(repr, SUPPORT_KINDS))}",
        ),
        "about": Field("text"),
        "call": _NUMBER,
        "text": _NUMBER,
        "text_word": Field("text", False, default="", blank=True),
        "url": Field(
            "text",
            False,
            default="",
            blank=True,
            pattern=re.compile(r"https?://\S+"),
            pattern_hint="a web address starting with https:// or http://",
        ),
    },
    label=by_key("name"),
)
_COUNTRY = Schema(
    {
        "name": Field("text"),
        "aliases": Field(
            "list",
            False,
            default=(),
            min_items=0,
            item=Field("text", pattern=_CODE_RE, pattern_hint=_CODE_HINT),
        ),
        "emergency": _NUMBER,
        "emergency_note": Field("text", False, default="", blank=True),
        "resources": Field("tables", schema=_RESOURCE),
    }
)
_DATA = Schema(
    {"countries": Field("table_map", schema=_COUNTRY, pattern=_CODE_RE, pattern_hint=_CODE_HINT)}
)


class CrisisResourceError(CheckError):
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
    with source.open("rb") as handle:
        return load_toml(
            handle, f"{__package__}/data/{_DATA_FILE}", _parse_countries, CrisisResourceError
        )


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
        _resource(
            check(
                entry,
                _RESOURCE,
                where=f"RECONNECT_CLINIC_CRISIS_RESOURCES[{number}]",
                error=CrisisResourceError,
            )
        )
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
    countries: dict[str, Table] = check(data, _DATA, error=CrisisResourceError)["countries"]
    if GENERIC not in countries:
        raise CrisisResourceError("'countries' must include 'generic'", where=TOP)
    found: dict[str, CrisisSupport] = {}
    for code, table in countries.items():
        listed = tuple(_resource(entry) for entry in table["resources"])
        # Built-in data must never leave a disclosure with nothing to show.
        for kind in SUPPORT_KINDS:
            if not any(kind in r.kinds for r in listed):
                raise CrisisResourceError(f"no resource for {kind!r}", where=table.where)
        support = CrisisSupport(code, table["emergency"], table["emergency_note"], listed)
        for key in (code, *table["aliases"]):
            if key in found:
                raise CrisisResourceError(f"code {key!r} is used twice", where=table.where)
            found[key] = support
    return found


def _resource(entry: Table) -> CrisisResource:
    """A service from its checked table, with the rules that span its fields."""
    where = entry.where
    resource = CrisisResource(
        name=entry["name"],
        kinds=frozenset(entry["kinds"]),
        about=entry["about"],
        call=entry["call"],
        text=entry["text"],
        text_word=entry["text_word"],
        url=entry["url"],
    )
    if resource.text_word and not resource.text:
        raise CrisisResourceError("'text_word' needs a 'text' number to send it to", where=where)
    if not (resource.call or resource.text or resource.url):
        raise CrisisResourceError("give at least one of 'call', 'text' or 'url'", where=where)
    return resource


def _dialable(number: str) -> str:
    return re.sub(r"[^0-9+]", "", number)
