"""Configuration keys and their defaults.

Every key is prefixed ``RECONNECT_CLINIC_`` and set on the host app's ``config`` before
``init_app``; any key left unset takes the default below. README lists them for users.
"""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    # Where the blueprint is mounted.
    "RECONNECT_CLINIC_URL_PREFIX": "/clinic",
    # The layout every page extends. A host may name its own; it must define the blocks
    # ``title``, ``head`` (the plugin adds its stylesheet there) and ``content``.
    "RECONNECT_CLINIC_BASE_TEMPLATE": "reconnect_clinic/base.html",
    # Shown in the page header and, later, on the letterhead of reports.
    "RECONNECT_CLINIC_PRACTICE_NAME": "Reconnect Clinic",
    # Standalone login only: sign a therapist out after this many idle seconds, and after
    # this many seconds since login whatever they do.
    "RECONNECT_CLINIC_IDLE_TIMEOUT": 30 * 60,
    "RECONNECT_CLINIC_SESSION_LIFETIME": 12 * 60 * 60,
    # Host mode only: the endpoint of the host's login page, where a visitor who is not a
    # therapist is sent. ``None`` answers 401 instead.
    "RECONNECT_CLINIC_HOST_LOGIN_ENDPOINT": None,
    # Whether a therapist with ``is_admin`` sees every therapist's cases.
    "RECONNECT_CLINIC_ADMINS_SEE_ALL_CASES": False,
}


def apply_defaults(config: dict[str, Any]) -> None:
    """Fill in every unset key, leaving the host's own values alone."""
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
