"""The language of the partners' pages and emails, and the clinic's own catalogue.

What was chosen, and why:

* **Our own catalogue domain.** Every clinic string is looked up in the
  ``reconnect_clinic`` domain under ``reconnect_clinic/translations`` (shipped in the
  wheel), through a Flask-Babel :class:`~flask_babel.Domain`. A host's own catalogue
  (the ``messages`` domain of its ``translations`` folder) is never read or changed, so
  a host string and a clinic string never collide.
* **Our own locale, not the host's ``locale_selector``.** Flask-Babel keeps one locale
  selector per app, and a host that has one picks the language of its own pages with it.
  The clinic's partner pages must follow a different order (the partner's own choice,
  then the therapist's setting for that partner, then ``Accept-Language``, then English),
  and the therapist's pages and reports stay English whatever the browser asks for. So
  :class:`ClinicDomain` overrides ``get_translations`` to load the catalogue for
  :func:`current_language` instead of ``flask_babel.get_locale()``; replacing the host's
  selector, or ``force_locale`` (which swaps the app-wide selector for a moment and so
  races between threads), would take over the host's Babel.
* **Templates get the clinic's ``_``/``gettext``/``ngettext`` from the blueprint's
  context processor**, which outranks the Jinja globals a host's Flask-Babel installs,
  so ``{{ _("...") }}`` in a clinic template reads the clinic's catalogue even in a
  host with Babel of its own. Templates that import macros do so ``with context`` for
  the same reason. Emails rendered outside a clinic request pass
  :func:`template_context` themselves, inside :func:`language`.
* **A standalone app** (the clinic runs its own login) gets Flask-Babel set up by
  ``init_app``, with :func:`current_language` as its locale selector, when it has no
  Babel yet; a host's own Babel is left exactly as it is.

The language switch on a partner's pages is a plain link (``?lang=es``), so it needs no
script; the choice is kept in the browser's session under the link's id (beside the
link session of security/links/session.py) and outranks the therapist's setting.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

from babel.support import NullTranslations, Translations
from flask import Flask, g, has_app_context, has_request_context, request, session, url_for
from flask_babel import Babel, Domain
from flask_babel.speaklater import LazyString

from .blueprint import RouteTable

DOMAIN = "reconnect_clinic"
TRANSLATIONS_DIR = str(files("reconnect_clinic") / "translations")
DEFAULT_LANGUAGE = "en"
# Each language a partner can be shown, in its own name (the switch shows these).
LANGUAGES: Mapping[str, str] = {"en": "English", "es": "Español"}

# {link id: language}: each partner's own choice, per link, in the browser's session.
_CHOICE_KEY = "reconnect_clinic_language"
# The link sessions of security/links/session.py: a partner's setting is used only for
# a link this browser has opened.
_LINKS_KEY = "reconnect_clinic_links"
_G_LANGUAGE = "reconnect_clinic_language"
_G_FORCED = "reconnect_clinic_forced_language"


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it: for text defined at
    import time (intake/content.py), translated where it is shown."""
    return message


# misc: Flask-Babel ships no types, so Domain is Any to mypy (setup.cfg).
class ClinicDomain(Domain):  # type: ignore[misc]
    """The clinic's catalogue, in the clinic's language (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(translation_directories=[TRANSLATIONS_DIR], domain=DOMAIN)

    def get_translations(self) -> NullTranslations:
        if not has_app_context():
            return NullTranslations()
        return catalogue(current_language())


domain = ClinicDomain()

# {language: its catalogue}, each read from the shipped .mo once per process.
_CATALOGUES: dict[str, NullTranslations] = {}


def catalogue(code: str) -> NullTranslations:
    """The clinic's catalogue in ``code`` (read once; no app or request needed)."""
    found = _CATALOGUES.get(code)
    if found is None:
        found = _CATALOGUES[code] = Translations.load(TRANSLATIONS_DIR, [code], DOMAIN)
    return found


def _as_written(message: str) -> str:
    return message


def translator(code: str | None) -> Callable[[str], str]:
    """What turns a catalogue text into ``code`` (English, as written, when ``code`` is
    unset or not a language the clinic speaks). For the records that say what a partner
    was shown in their language, built where no partner's page is being served (the
    FHIR export): unlike :func:`language` it needs no app context, and unlike
    Flask-Babel's ``force_locale`` it leaves the app's locale selector alone."""
    if code is None or code not in LANGUAGES or code == DEFAULT_LANGUAGE:
        return _as_written
    found = catalogue(code)

    def translate(message: str) -> str:
        # An empty msgid would look up the catalogue's header, not a text.
        return str(found.gettext(message)) if message else message

    return translate


def gettext(message: str, **variables: Any) -> str:
    # no-any-return: Flask-Babel ships no types; its gettext returns the translated str.
    return domain.gettext(message, **variables)  # type: ignore[no-any-return]


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    # no-any-return: as gettext.
    return domain.ngettext(singular, plural, num, **variables)  # type: ignore[no-any-return]


def lazy_gettext(message: str, **variables: Any) -> LazyString:
    """Translated when shown: for form labels and messages, which are built once."""
    return LazyString(gettext, message, **variables)


_ = gettext


def pick_language(
    chosen: str | None,
    therapist_setting: str | None,
    accepted: Callable[[list[str]], str | None] | None,
) -> str:
    """The partner's own choice, then the therapist's setting for them, then the best
    of the browser's ``Accept-Language`` (``accepted`` is its ``best_match``), then
    English."""
    for candidate in (chosen, therapist_setting):
        if candidate is not None and candidate in LANGUAGES:
            return candidate
    if accepted is not None:
        best = accepted(list(LANGUAGES))
        if best is not None and best in LANGUAGES:
            return best
    return DEFAULT_LANGUAGE


def _partner_endpoints() -> frozenset[str]:
    from .errors import PARTNER_ENDPOINTS

    return PARTNER_ENDPOINTS


def _link_id() -> str | None:
    value = (request.view_args or {}).get("link_id")
    return str(value) if isinstance(value, uuid.UUID) else None


def _choices() -> dict[str, str]:
    stored = session.get(_CHOICE_KEY)
    return dict(stored) if isinstance(stored, dict) else {}


def _therapist_setting(link_id: str | None) -> str | None:
    links = session.get(_LINKS_KEY)
    if link_id is None or not isinstance(links, dict) or link_id not in links:
        return None
    from .models import ClientLink
    from .state import db_session

    # Usually no query: the view has loaded the link (and its partner) already.
    link = db_session().get(ClientLink, uuid.UUID(link_id))
    return link.partner.language if link is not None else None


def _request_language() -> str:
    if request.endpoint not in _partner_endpoints():
        return DEFAULT_LANGUAGE  # therapists' pages and reports stay English
    link_id = _link_id()
    return pick_language(
        _choices().get(link_id or ""),
        _therapist_setting(link_id),
        request.accept_languages.best_match,
    )


def current_language() -> str:
    """The language the clinic writes in now: one forced by :func:`language` (an
    email), else that of the partner's page being served, else English."""
    if not has_app_context():
        return DEFAULT_LANGUAGE
    forced = g.get(_G_FORCED)
    if forced is not None:
        return str(forced)
    if not has_request_context():
        return DEFAULT_LANGUAGE
    cached = g.get(_G_LANGUAGE)
    if cached is None:
        cached = _request_language()
        setattr(g, _G_LANGUAGE, cached)
    return str(cached)


@contextmanager
def language(code: str | None) -> Iterator[str]:
    """Write in ``code`` (a partner's setting; English if unset or unknown) inside the
    block: for the emails a therapist's action or a command sends a partner."""
    chosen = code if code is not None and code in LANGUAGES else DEFAULT_LANGUAGE
    before = g.get(_G_FORCED)
    setattr(g, _G_FORCED, chosen)
    try:
        yield chosen
    finally:
        setattr(g, _G_FORCED, before)


def remember_choice() -> None:
    """Keep a partner's ``?lang=`` choice for the link they are on (a blueprint hook)."""
    wanted = request.args.get("lang")
    if wanted is None or wanted not in LANGUAGES or request.endpoint not in _partner_endpoints():
        return
    choices = _choices()
    choices[_link_id() or ""] = wanted
    session[_CHOICE_KEY] = choices
    g.pop(_G_LANGUAGE, None)


def switch_links() -> list[dict[str, Any]]:
    """The language switch of a partner's page: each language, its address and whether
    it is the one shown."""
    if not has_request_context() or request.endpoint is None:
        return []
    rule = request.url_rule
    if request.method != "GET" and (rule is None or "GET" not in (rule.methods or ())):
        # A page drawn from a post to an address that only takes posts (a check-in sent
        # with errors): no switch to offer there; the partner's next page has it.
        return []
    args = {**(request.view_args or {}), **request.args.to_dict()}
    shown = current_language()
    return [
        {
            "code": code,
            "name": name,
            "current": code == shown,
            "url": url_for(request.endpoint, **{**args, "lang": code}),
        }
        for code, name in LANGUAGES.items()
    ]


def template_context() -> dict[str, Any]:
    """What clinic templates translate with (the blueprint's context processor; an email
    rendered outside a request passes it itself)."""
    return {
        "_": gettext,
        "gettext": gettext,
        "ngettext": ngettext,
        "clinic_language": current_language(),
        "clinic_language_switch": switch_links,
    }


def init_app(app: Flask, *, standalone: bool) -> None:
    """Give a standalone clinic app Flask-Babel (for ``{% trans %}`` and Babel's date
    filters) with the clinic's language as its locale; leave a host's Babel alone."""
    if standalone and "babel" not in app.extensions:
        Babel(app, locale_selector=current_language)


routes = RouteTable()
routes.before_request(remember_choice)
routes.context_processor(template_context)


# Texts shown to partners that are defined elsewhere as data: marked here so the
# catalogue has them (config.py's default crisis line), or used by the templates.
CATALOGUE_EXTRAS = (
    # config.py's default consent (intake/consent.py translates only this one: a
    # practice's own text is shown as written) and intake/consent.py's heading.
    N_(
        "I agree to take part in couples therapy with this practice. I understand that my "
        "answers to this questionnaire go to my therapist, are kept confidentially as part "
        "of my clinical record, and are not shown to my partner where the form says they "
        "are private. I understand the limits of confidentiality: my therapist may need to "
        "act if someone is at risk of serious harm. I can ask questions about this at any "
        "time and can withdraw my consent by telling my therapist."
    ),
    N_("Our no-secrets policy"),
    N_(
        "If you are in danger right now, or thinking about ending your life, please call "
        "your local emergency number or go to the nearest emergency department."
    ),
    # Shown above a validated instrument on a page in another language: the instrument
    # stays in its original wording unless an official translation is published.
    N_(
        "The questionnaires on this page are widely used in research and are shown in their "
        "original language (English), because an official translation is not available here. "
        "If you would like help with a word, ask your therapist."
    ),
)
