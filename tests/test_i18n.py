"""The clinic's catalogue and how a partner's language is chosen (reconnect_clinic/i18n.py).

The catalogue must be complete (every text a partner can see has its Spanish, none
fuzzy), up to date with the sources (``pybabel extract`` finds nothing new), and shipped
compiled; the language follows the partner's choice, the therapist's setting, then the
browser; therapists' pages stay English; and a host's own Flask-Babel is left alone.
"""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask, render_template_string
from flask_babel import Babel, get_locale
from flask_babel import gettext as host_gettext
from flask_sqlalchemy import SQLAlchemy

from reconnect_clinic import ReconnectClinic, i18n
from reconnect_clinic.models import metadata
from tests.helpers import TEST_KEYS, PartnerBrowser, link_ref_from, login

REPO = Path(__file__).resolve().parent.parent
TRANSLATIONS = REPO / "reconnect_clinic" / "translations"
POT = TRANSLATIONS / "reconnect_clinic.pot"
ES_PO = TRANSLATIONS / "es" / "LC_MESSAGES" / "reconnect_clinic.po"
ES_MO = TRANSLATIONS / "es" / "LC_MESSAGES" / "reconnect_clinic.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _key(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


# --- the catalogue ------------------------------------------------------------------


def test_every_message_has_its_spanish_and_none_is_fuzzy():
    template = _read(POT)
    spanish = _read(ES_PO, "es")
    assert not spanish.fuzzy
    for message in template:
        if not message.id:
            continue
        translated = spanish.get(message.id)
        assert translated is not None, f"no Spanish entry for {message.id!r}"
        assert "fuzzy" not in translated.flags, f"fuzzy: {message.id!r}"
        strings = (
            translated.string if isinstance(translated.string, tuple) else (translated.string,)
        )
        assert all(strings), f"untranslated: {message.id!r}"


def test_spanish_keeps_every_placeholder():
    for message in _read(ES_PO, "es"):
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[-1]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == sorted(PLACEHOLDER.findall(source)), (
                message.id
            )


def test_no_stale_spanish_entries():
    template = {_key(m.id) for m in _read(POT) if m.id}
    spanish = {_key(m.id) for m in _read(ES_PO, "es") if m.id}
    assert spanish == template


def test_the_compiled_catalogue_matches_its_source():
    """The shipped .mo is the .po compiled (`make i18n` recompiles it)."""
    source = _read(ES_PO, "es")
    compiled = BytesIO()
    write_mo(compiled, source)
    with ES_MO.open("rb") as handle:
        shipped = read_mo(handle)
    compiled.seek(0)
    expected = read_mo(compiled)

    def entries(catalogue: Catalog) -> dict[str, object]:
        return {str(m.id): m.string for m in catalogue if m.id}

    assert entries(shipped) == entries(expected)


def test_the_template_is_up_to_date_with_the_sources(tmp_path):
    """`pybabel extract` over the sources finds exactly the catalogue's messages: a new
    or changed partner-facing text fails here until `make i18n` is run."""
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "lazy_gettext",
            "--no-location",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    extracted = {_key(m.id) for m in _read(fresh) if m.id}
    committed = {_key(m.id) for m in _read(POT) if m.id}
    assert sorted(extracted - committed) == [], "new texts: run `make i18n`"
    assert sorted(committed - extracted) == [], "texts gone from the sources: run `make i18n`"


def test_validated_instruments_are_never_in_the_catalogue():
    from reconnect_clinic import measures

    msgids = {_key(m.id) for m in _read(POT) if m.id}
    for slug in ("phq9", "gad7", "csi16"):
        instrument = measures.get(slug)
        for item in instrument.items:
            assert item.text not in msgids, (slug, item.number)


# --- choosing the language ----------------------------------------------------------


def test_the_partners_choice_comes_first():
    assert i18n.pick_language("en", "es", lambda offered: "es") == "en"


def test_then_the_therapists_setting():
    assert i18n.pick_language(None, "es", lambda offered: "en") == "es"


def test_then_the_browser():
    assert i18n.pick_language(None, None, lambda offered: "es") == "es"


def test_then_english():
    assert i18n.pick_language(None, None, lambda offered: None) == "en"


def test_an_unknown_language_is_skipped():
    assert i18n.pick_language("xx", "yy", lambda offered: None) == "en"


def test_a_therapists_page_stays_english_whatever_the_browser_asks(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}", headers={"Accept-Language": "es"})
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "Saltar al contenido" not in page.text


def test_a_partner_page_follows_the_browser(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    page = partner.get("about", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in page.text
    assert "Paso 1 de 7" in page.text


def test_the_switch_is_kept_for_the_link(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    english = partner.get("about")
    assert 'hreflang="es"' in english.text
    partner.get("about?lang=es")
    later = partner.get("signs")  # no header, no parameter: the choice is kept
    assert "Cómo están las cosas entre ustedes" in later.text
    partner.get("signs?lang=en")
    assert "How things are between you" in partner.get("signs").text


def test_the_therapists_setting_applies_without_a_header(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    couple.partner_a.language = "es"
    app.extensions["reconnect_clinic"].db.session.commit()
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    assert "Sobre usted y su relación" in partner.get("about").text
    # The partner's own switch outranks it.
    assert "About you and your relationship" in partner.get("about?lang=en").text


def test_a_link_problem_page_follows_the_browser(client):
    page = client.get("/clinic/i/not-a-real-token", headers={"Accept-Language": "es"})
    assert page.status_code == 404
    assert "Este enlace no funciona" in page.text


# --- no partner-facing text left in English -----------------------------------------


class _Text(HTMLParser):
    """The visible text of a page (and its labels for screen readers), leaving out what
    is English on purpose: anything inside ``lang="en"`` (a validated instrument) and a
    partner's or therapist's own words."""

    SKIP = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self._stack: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        skipped = bool(self._stack and self._stack[-1])
        classes = (found.get("class") or "").split()
        skipped = (
            skipped
            or (found.get("lang") == "en" and tag != "html")
            or "own-words" in classes
            or tag in self.SKIP
        )
        if tag not in {"input", "br", "meta", "link", "img", "hr"}:
            self._stack.append(skipped)
        if not skipped:
            for name in ("aria-label", "title", "placeholder"):
                if found.get(name):
                    self.chunks.append(str(found[name]))

    def handle_endtag(self, tag: str) -> None:
        if self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._stack and self._stack[-1]:
            return
        text = " ".join(data.split())
        if text:
            self.chunks.append(text)


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.chunks


# Left as they are in every language: names, numbers and dates, marks, the language
# switch's own names, and services' proper names.
NEUTRAL = re.compile(r"^[\d\s·/.:,()\-–—%+]*$|^\d{4}-\d{2}-\d{2}|^[\w.-]+\.(org|com|uk)$")
PROPER = {
    "English",
    "Español",
    "No",  # the same word in Spanish
    "Reconnect Clinic (demo)",
    "Find A Helpline",
    "Samaritans",
    "Shout",
    "(.ics)",
}


def untranslated(english: str, spanish: str, *, also_neutral: set[str]) -> list[str]:
    """Text chunks the Spanish page shows exactly as the English one does."""
    shown_in_english = set(visible_text(english))
    return [
        chunk
        for chunk in visible_text(spanish)
        if chunk in shown_in_english
        and not NEUTRAL.match(chunk)
        and chunk not in PROPER
        and chunk not in also_neutral
    ]


def _both(browser: PartnerBrowser, page: str) -> tuple[str, str]:
    english = browser.get(f"{page}?lang=en").text
    spanish = browser.get(f"{page}?lang=es").text
    return english, spanish


def test_every_intake_page_is_wholly_spanish(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    names = {couple.partner_a.first_name, owner.display_name}
    answers = make.intake_answers(frequency="2", safety="yes", text="Nuestro texto")
    from reconnect_clinic.intake.content import pages_for
    from reconnect_clinic.taxonomy import load

    for spec in pages_for(load()):
        english, spanish = _both(partner, spec.slug)
        left = untranslated(english, spanish, also_neutral=names)
        assert left == [], (spec.slug, left)
        # Sent with a missing answer: the errors and the error summary in Spanish too.
        ref = link_ref_from(spanish)
        partner.client.post(f"{partner.base}/{spec.slug}", data={"link_ref": ref, "action": "next"})
        english, spanish = _both(partner, spec.slug)
        left = untranslated(english, spanish, also_neutral=names)
        assert left == [], (spec.slug, "with errors", left)
        partner.post(spec.slug, answers[spec.slug], action="save")


def test_the_support_offered_after_a_disclosure_is_wholly_spanish(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    answers = make.intake_answers(safety="yes")
    shown = {}
    for language, partner_row in (("en", couple.partner_a), ("es", couple.partner_b)):
        partner = PartnerBrowser(app, make.intake_link(owner, partner_row))
        partner.get(f"consent?lang={language}")  # the partner's choice, before any post
        partner.post("consent", answers["consent"], action="save")
        partner.post("safety", answers["safety"], action="save")
        # Offered once, on whatever page comes next.
        shown[language] = partner.get(f"about?lang={language}").text
    assert "Support, if you would like it" in shown["en"]
    assert "Apoyo, si lo desea" in shown["es"]
    names = {couple.partner_a.first_name, couple.partner_b.first_name}
    assert untranslated(shown["en"], shown["es"], also_neutral=names) == []


def test_the_link_problem_pages_are_wholly_spanish(client, make, app):
    for headers in ({"Accept-Language": "en"}, {"Accept-Language": "es"}):
        page = client.get("/clinic/i/not-a-real-token", headers=headers)
        if headers["Accept-Language"] == "en":
            english = page.text
        else:
            spanish = page.text
    assert untranslated(english, spanish, also_neutral=set()) == []


def test_the_homework_page_is_wholly_spanish(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    make.assignment(owner, couple, exercise="daily_check_in", frequency="daily", days=6)
    make.assignment(
        owner, couple, exercise="three_feeling_notes", frequency="weekly", times_per_week=3
    )
    partner = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    names = {couple.partner_a.first_name}
    english, spanish = _both(partner, "")
    assert untranslated(english, spanish, also_neutral=names) == []


# --- inside a host with a Flask-Babel of its own --------------------------------------


def test_a_hosts_own_babel_is_left_alone(tmp_path):
    app = Flask("host", root_path=str(tmp_path))
    app.config.update(
        SECRET_KEY="x",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'host.sqlite'}",
        RECONNECT_CLINIC_ENCRYPTION_KEYS=TEST_KEYS,
        RECONNECT_CLINIC_ENCRYPTION_KEY_ID="k1",
    )
    db = SQLAlchemy(app)

    def host_locale() -> str:
        return "de"

    babel = Babel(app, locale_selector=host_locale)
    ReconnectClinic().init_app(app, db=db, therapist_loader=lambda: None)
    assert app.extensions["babel"].instance is babel
    assert app.extensions["babel"].locale_selector is host_locale

    @app.route("/host")
    def host_page() -> str:
        return render_template_string(
            "{{ _('Skip to content') }}|{{ locale }}|{{ text }}",
            locale=str(get_locale()),
            text=host_gettext("Exit this page"),
        )

    with app.app_context():
        metadata.create_all(db.engine)
    client = app.test_client()
    clinic = client.get("/clinic/i/not-a-real-token", headers={"Accept-Language": "es"})
    assert "Este enlace no funciona" in clinic.text
    # The host's pages keep the host's locale and catalogue (which has no clinic text).
    assert client.get("/host", headers={"Accept-Language": "es"}).text == (
        "Skip to content|de|Exit this page"
    )


def test_a_standalone_app_gets_babel_with_the_clinics_language(app):
    assert "babel" in app.extensions
    assert app.extensions["babel"].locale_selector is i18n.current_language


@pytest.mark.parametrize("code", ["en", "es"])
def test_emails_are_written_in_the_language_forced(app, code):
    with app.test_request_context("/"), i18n.language(code):
        assert i18n.current_language() == code
        body = i18n.gettext("Hello %(name)s,", name="Ana")
    assert body == {"en": "Hello Ana,", "es": "Hola, Ana:"}[code]


def test_the_built_in_texts_of_the_settings_are_in_the_catalogue():
    """The default consent and crisis line (config.py) are shown to partners: each has its
    Spanish (i18n.CATALOGUE_EXTRAS must follow a change to them)."""
    from reconnect_clinic.config import DEFAULTS

    msgids = {_key(m.id) for m in _read(POT) if m.id}
    for key in ("RECONNECT_CLINIC_CONSENT_TEXT", "RECONNECT_CLINIC_CRISIS_TEXT"):
        assert DEFAULTS[key] in msgids, key
