"""Crisis resources: the packaged data per country, a practice's own list, which services
fit which disclosure, and the checks that stop start-up on a broken setting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from reconnect_clinic import ReconnectClinic
from reconnect_clinic.risk import Assessment, RiskKind, RiskStatus, intake_disclosures
from reconnect_clinic.risk.resources import (
    CrisisResourceError,
    builtin,
    configured,
    from_config,
    support_kinds,
)
from reconnect_clinic.state import get_state
from tests.helpers import TEST_KEYS

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _names(resources) -> list[str]:
    return [r.name for r in resources]


def _by_name(support, name):
    (found,) = (r for r in support.resources if r.name == name)
    return found


# --- the packaged data -------------------------------------------------------------------


def test_us_defaults():
    us = configured("US")
    assert us.emergency == "911"
    lifeline = _by_name(us, "988 Suicide & Crisis Lifeline")
    assert lifeline.call == "988"
    assert lifeline.text == "988"
    assert lifeline.kinds == {"self_harm"}
    hotline = _by_name(us, "National Domestic Violence Hotline")
    assert hotline.call == "1-800-799-7233"
    assert hotline.call_href == "tel:18007997233"
    assert (hotline.text_word, hotline.text) == ("START", "88788")
    assert hotline.text_href == "sms:88788?body=START"
    assert "safety" in hotline.kinds


def test_uk_defaults_under_either_code():
    uk = configured("UK")
    assert configured("GB") is uk
    assert configured("gb") is uk
    assert uk.emergency == "999"
    assert "press 55" in uk.emergency_note
    assert _by_name(uk, "Samaritans").call == "116 123"
    assert _by_name(uk, "National Domestic Abuse Helpline (Refuge)").call == "0808 2000 247"
    assert _by_name(uk, "Respect Phoneline").kinds == {"own_force"}


def test_generic_fallback_names_no_number():
    generic = configured("generic")
    assert configured(None) is generic
    assert configured("") is generic
    assert generic.emergency == ""
    assert _names(generic.for_kinds({"self_harm"})) == ["Find A Helpline"]


@pytest.mark.parametrize("code", ["US", "GB", "generic"])
@pytest.mark.parametrize("kind", ["safety", "self_harm", "own_force"])
def test_every_country_has_a_service_for_every_disclosure(code, kind):
    assert configured(code).for_kinds({kind})


def test_every_packaged_service_can_be_reached():
    for support in builtin().values():
        for resource in support.resources:
            # At least one way to reach the service.
            assert any((resource.call, resource.text, resource.url)), resource.name
            assert resource.about, resource.name
            if resource.url:
                assert resource.url.startswith("https://"), resource.name


# --- which services fit which disclosure -----------------------------------------------


def test_safety_shows_abuse_services_and_self_harm_shows_self_harm_services():
    us = configured("US")
    assert _names(us.for_kinds({"safety"})) == ["National Domestic Violence Hotline"]
    assert _names(us.for_kinds({"self_harm"})) == ["988 Suicide & Crisis Lifeline"]
    assert _names(us.for_kinds({"safety", "self_harm"})) == [
        "988 Suicide & Crisis Lifeline",
        "National Domestic Violence Hotline",
    ]
    assert us.for_kinds(set()) == ()


def test_own_force_shows_services_for_changing_it_not_for_victims():
    uk = configured("GB")
    assert _names(uk.for_kinds({"own_force"})) == ["Respect Phoneline"]


@pytest.mark.parametrize(
    ("safety", "wellbeing", "expected"),
    [
        ({"safety_afraid": "yes"}, {}, {"safety"}),
        ({"safety_weapon": "discuss"}, {}, {"safety"}),
        ({"safety_afraid": "no", "safety_note": "He reads my messages"}, {}, {"safety"}),
        ({"safety_own_force": "yes"}, {}, {"own_force"}),
        ({}, {"phq9_9": "1"}, {"self_harm"}),
        ({"safety_strangled": "yes"}, {"phq9_9": "3"}, {"safety", "self_harm"}),
        ({"safety_afraid": "no", "safety_note": "  "}, {"phq9_9": "0"}, set()),
    ],
)
def test_support_kinds_follow_the_disclosures(safety, wellbeing, expected):
    found = intake_disclosures({"safety": safety, "wellbeing": wellbeing}, at=T0)
    assert support_kinds(found) == expected


def test_the_therapists_own_assessment_calls_for_no_partner_service():
    from reconnect_clinic.risk import partner_risks

    (risk,) = partner_risks([], [Assessment(RiskKind.ACTIVE_AFFAIR, RiskStatus.OPEN, at=T0)])
    assert support_kinds(risk.disclosures) == frozenset()


# --- a practice's own list ---------------------------------------------------------------

OWN = [
    {
        "name": "Harbour Women's Aid",
        "kinds": ["safety"],
        "about": "Local support, any time.",
        "call": "0800 123 456",
    },
    {
        "name": "City Crisis Team",
        "kinds": ["self_harm", "own_force"],
        "about": "x",
        "url": "https://crisis.example.org/",
    },
]


def test_a_practices_own_list_replaces_the_countrys_and_keeps_its_emergency_number():
    support = configured("GB", OWN)
    assert _names(support.resources) == ["Harbour Women's Aid", "City Crisis Team"]
    assert support.emergency == "999"
    assert _names(support.for_kinds({"safety"})) == ["Harbour Women's Aid"]


@pytest.mark.parametrize(
    ("own", "message"),
    [
        ([], "non-empty list"),
        ("call 999", "non-empty list"),
        ({"name": "x"}, "non-empty list"),
        (
            [{"name": "A", "kinds": ["safety"], "about": "a", "phone": "1"}],
            "unknown field(s) 'phone'",
        ),
        (
            [{"name": "A", "kinds": ["ipv"], "about": "a", "call": "1"}],
            "'kinds' entry 1 is 'ipv'; expected one of 'safety', 'self_harm', 'own_force'",
        ),
        (
            [{"name": "A", "kinds": "safety", "about": "a", "call": "1"}],
            "'kinds' must be a list, got a string",
        ),
        ([{"name": "A", "kinds": ["safety"], "about": "a"}], "at least one of"),
        ([{"name": "A", "kinds": ["safety"], "about": "a", "call": "ring us"}], "phone number"),
        (
            [{"name": "A", "kinds": ["safety"], "about": "a", "url": "javascript:alert(1)"}],
            "https://",
        ),
        (
            [
                {
                    "name": "A",
                    "kinds": ["safety"],
                    "about": "a",
                    "text_word": "HI",
                    "url": "https://a.example/",
                }
            ],
            "needs a 'text'",
        ),
        (
            [{"name": " ", "kinds": ["safety"], "about": "a", "call": "1"}],
            "'name' must be text, not blank",
        ),
        ([{"kinds": ["safety"], "about": "", "call": "1"}], "'name' is missing"),
    ],
)
def test_a_broken_practice_list_is_refused_saying_why(own, message):
    with pytest.raises(CrisisResourceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        configured("US", own)


def test_an_unknown_country_is_refused_naming_the_choices():
    with pytest.raises(CrisisResourceError, match="'FR' has no built-in") as error:
        configured("FR")
    assert "generic" in str(error.value)


@pytest.mark.parametrize("url", [None, "", "/clinic/", "www.google.com", "javascript:void(0)"])
def test_the_quick_exit_address_must_be_a_full_web_address(url):
    with pytest.raises(CrisisResourceError, match="QUICK_EXIT_URL"):
        from_config(
            {"RECONNECT_CLINIC_QUICK_EXIT_URL": url, "RECONNECT_CLINIC_CRISIS_COUNTRY": "US"}
        )


# --- at start-up ------------------------------------------------------------------------


def _host(tmp_path, **config) -> tuple[Flask, SQLAlchemy]:
    app = Flask("host", root_path=str(tmp_path))
    app.config.update(
        SECRET_KEY="x",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'host.sqlite'}",
        RECONNECT_CLINIC_ENCRYPTION_KEYS=TEST_KEYS,
        RECONNECT_CLINIC_ENCRYPTION_KEY_ID="k1",
        **config,
    )
    return app, SQLAlchemy(app)


def test_init_app_loads_the_configured_resources(tmp_path):
    app, db = _host(tmp_path, RECONNECT_CLINIC_CRISIS_COUNTRY="UK")
    ReconnectClinic().init_app(app, db=db)
    assert get_state(app).crisis_support is configured("GB")


def test_init_app_defaults_to_the_us(tmp_path):
    app, db = _host(tmp_path)
    ReconnectClinic().init_app(app, db=db)
    assert get_state(app).crisis_support is configured("US")


def test_init_app_takes_a_practices_own_list(tmp_path):
    app, db = _host(tmp_path, RECONNECT_CLINIC_CRISIS_RESOURCES=OWN)
    ReconnectClinic().init_app(app, db=db)
    assert _names(get_state(app).crisis_support.resources) == [
        "Harbour Women's Aid",
        "City Crisis Team",
    ]


@pytest.mark.parametrize(
    "config",
    [
        {"RECONNECT_CLINIC_CRISIS_COUNTRY": "Atlantis"},
        {"RECONNECT_CLINIC_CRISIS_RESOURCES": [{"name": "No way to reach us"}]},
        {"RECONNECT_CLINIC_QUICK_EXIT_URL": "google"},
    ],
)
def test_a_broken_setting_stops_start_up(tmp_path, config):
    app, db = _host(tmp_path, **config)
    with pytest.raises(CrisisResourceError):
        ReconnectClinic().init_app(app, db=db)
