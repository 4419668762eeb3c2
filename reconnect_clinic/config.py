"""Configuration keys and their defaults.

Every key is prefixed ``RECONNECT_CLINIC_`` and set on the host app's ``config`` before
``init_app``; any key left unset takes the default below. README lists them for users.
"""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    # Keys that encrypt free text at rest (notes, addenda, reflections, intake answers):
    # {"<key id>": "<base64 32-byte key>"}, and the id of the key new values use. No
    # default: the app refuses to start without them. `flask clinic new-key` makes one.
    "RECONNECT_CLINIC_ENCRYPTION_KEYS": None,
    "RECONNECT_CLINIC_ENCRYPTION_KEY_ID": None,
    # Keys that MAC the audit log's chain (HMAC-SHA256, see security/audit/log.py), in the
    # same shape: {"<key id>": "<base64 key of 32 bytes or more>"} and the id new lines
    # use. Each line records its key's id, so old keys stay listed for good (the log is
    # append-only: a rotation never rewrites lines). Unset, one key per encryption key
    # is derived from it (HKDF-SHA256) under the same id, so a deployment needs no new
    # setting; `flask clinic audit-keys` prints them in this form, to carry them over
    # before an encryption key is retired.
    "RECONNECT_CLINIC_AUDIT_KEYS": None,
    "RECONNECT_CLINIC_AUDIT_KEY_ID": None,
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
    # A form post (a session note) that arrives after the idle limit is kept, sealed in
    # the database, and put back into the form when the same therapist signs in again
    # within this many seconds; older ones are deleted unread.
    "RECONNECT_CLINIC_KEPT_FORM_LIFETIME": 12 * 60 * 60,
    # Therapist pages warn this many seconds before the idle sign-out, with a "Stay signed
    # in" button (and typing counts as activity), when JavaScript runs.
    "RECONNECT_CLINIC_IDLE_WARNING": 2 * 60,
    # Host mode only: the endpoint of the host's login page, where a visitor who is not a
    # therapist is sent. ``None`` answers 401 instead.
    "RECONNECT_CLINIC_HOST_LOGIN_ENDPOINT": None,
    # Records of a closed case are kept this many years after the later of its last
    # session and its closing; then `flask clinic purge` may remove them.
    "RECONNECT_CLINIC_RETENTION_YEARS": 7,
    # Whether a therapist with ``is_admin`` sees every therapist's cases.
    "RECONNECT_CLINIC_ADMINS_SEE_ALL_CASES": False,
    # How long a partner's private link works after it is made.
    "RECONNECT_CLINIC_LINK_LIFETIME_DAYS": 14,
    # Homework links live longer: a partner keeps using theirs while the work goes on.
    "RECONNECT_CLINIC_HOMEWORK_LINK_LIFETIME_DAYS": 90,
    # A partner's browser forgets their link after this many idle seconds (they open the
    # link again to carry on; everything saved stays saved).
    "RECONNECT_CLINIC_LINK_IDLE_TIMEOUT": 2 * 60 * 60,
    # How long a page a partner has open can still be sent and saved (it carries a signed
    # reference to their link, so a long pause never loses what they typed).
    "RECONNECT_CLINIC_FORM_LIFETIME": 24 * 60 * 60,
    # The address partners' links start with, e.g. "https://clinic.example.org". Unset,
    # links use the address of the request that made them (behind a proxy, set this or
    # use Werkzeug's ProxyFix so links are not made with an internal host name).
    "RECONNECT_CLINIC_PUBLIC_URL": None,
    # Bad link tokens one address may try before it is refused for a while.
    "RECONNECT_CLINIC_BAD_LINK_LIMIT": "20 per hour",
    # Standalone sign-in tries allowed per account and per address before sign-in is
    # refused for a while. Each try is counted before its password is checked; a
    # complete sign-in clears its account's count, never its address's (see
    # security/accounts/views.py), so one address makes at most this many tries, right or wrong.
    "RECONNECT_CLINIC_LOGIN_FAILURE_LIMIT": "10 per 15 minutes",
    # Where failure counts are kept: "memory://" per process, or e.g. "redis://host:6379"
    # (pip install "reconnect-clinic[redis]") for counts shared by every worker. A store
    # that fails is logged and replaced by each process's own memory for 30 s at a time.
    "RECONNECT_CLINIC_RATELIMIT_STORAGE_URI": "memory://",
    # The practice's consent text, shown on the intake's consent page and signed by name.
    # Each intake keeps the exact text its partner signed (sealed) and its SHA-256, so
    # changing this later never rewrites what was signed.
    "RECONNECT_CLINIC_CONSENT_TEXT": (
        "I agree to take part in couples therapy with this practice. I understand that my "
        "answers to this questionnaire go to my therapist, are kept confidentially as part "
        "of my clinical record, and are not shown to my partner where the form says they "
        "are private. I understand the limits of confidentiality: my therapist may need to "
        "act if someone is at risk of serious harm. I can ask questions about this at any "
        "time and can withdraw my consent by telling my therapist."
    ),
    # Put the consent page first in the intake instead of last: a partner then signs
    # before answering anything, and no other page can be saved until they have.
    "RECONNECT_CLINIC_CONSENT_FIRST": False,
    # The practice's "no-secrets" policy (what the therapist does with something one
    # partner tells them privately), as text. When set, it is shown with the consent under
    # its own heading and is part of the text each partner signs. None: no such policy.
    "RECONNECT_CLINIC_NO_SECRETS_POLICY": None,
    # Shown on the safety and wellbeing pages of the intake.
    "RECONNECT_CLINIC_CRISIS_TEXT": (
        "If you are in danger right now, or thinking about ending your life, please call "
        "your local emergency number or go to the nearest emergency department."
    ),
    # Crisis services a partner sees on the page right after they disclose something
    # (a safety answer or note, PHQ-9 item 9 above 0): the built-in ones of this country
    # ("US", "GB" or "UK", or "generic" for the local emergency number and a directory of
    # helplines; see reconnect_clinic/risk/data/crisis_resources.toml and its sources).
    "RECONNECT_CLINIC_CRISIS_COUNTRY": "US",
    # The practice's own services instead of the country's (the country still gives the
    # emergency number): a list of dicts with name, kinds (any of "safety", "self_harm",
    # "own_force"), about, and one or more of call, text (+ text_word) and url. None
    # uses the built-in ones. Checked at start-up.
    "RECONNECT_CLINIC_CRISIS_RESOURCES": None,
    # Where "Exit this page" on every partner page leads. An ordinary, neutral page that
    # anyone might have open and that loads fast everywhere; the partner's page is
    # replaced in the browser's history and the browser's open links are forgotten.
    "RECONNECT_CLINIC_QUICK_EXIT_URL": "https://www.google.com/",
    # Email for partners' links. With no host set, nothing is emailed: the therapist
    # copies the link instead.
    "RECONNECT_CLINIC_SMTP_HOST": None,
    "RECONNECT_CLINIC_SMTP_PORT": 587,
    "RECONNECT_CLINIC_SMTP_USERNAME": None,
    "RECONNECT_CLINIC_SMTP_PASSWORD": None,
    "RECONNECT_CLINIC_SMTP_STARTTLS": True,
    "RECONNECT_CLINIC_MAIL_FROM": "clinic@localhost",
    # When a partner's answer opens a risk (safety, self-harm), email the case's
    # therapist once: "a case needs your attention" and a link, naming no one. Needs SMTP;
    # `flask clinic send-risk-alerts` retries any that could not be sent.
    "RECONNECT_CLINIC_RISK_ALERT_EMAILS": True,
    # `flask clinic send-reminders` emails partners about homework due only when this is
    # on (and SMTP is set up).
    "RECONNECT_CLINIC_HOMEWORK_REMINDERS": False,
    # Note templates beyond DAP and SOAP: {"slug": {"title": ..., "sections":
    # [[key, heading, hint], ...]}}.
    "RECONNECT_CLINIC_NOTE_TEMPLATES": {},
    "RECONNECT_CLINIC_DEFAULT_NOTE_TEMPLATE": "dap",
    # Letterhead of reports.
    "RECONNECT_CLINIC_PRACTICE_ADDRESS": "",
    # Path of the practice's logo (PNG or JPEG) for reports; None for none.
    "RECONNECT_CLINIC_PDF_LOGO": None,
    # Seconds a PDF render may take before it is stopped.
    "RECONNECT_CLINIC_PDF_TIMEOUT": 20,
    # PDF worker processes per web process.
    "RECONNECT_CLINIC_PDF_WORKERS": 2,
}


def apply_defaults(config: dict[str, Any]) -> None:
    """Fill in every unset key, leaving the host's own values alone."""
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
