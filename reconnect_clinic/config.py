"""Configuration keys and their defaults.

Every key is prefixed ``RECONNECT_CLINIC_`` and set on the host app's ``config`` before
``init_app``; any key left unset takes the default below. README lists them for users.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    # Host mode only: what a user who is signed in to the host but is not one of the
    # clinic's therapists gets on a therapist's page. ``None`` answers 403 with a page
    # that says so (sending them to a login they have already passed would loop); an
    # endpoint name redirects there instead (the host's own "no access" page, say).
    "RECONNECT_CLINIC_NOT_THERAPIST_ENDPOINT": None,
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
    # None (the default): the Redis of RECONNECT_CLINIC_TASK_QUEUE when that is set,
    # else "memory://" (see ratelimit_storage_uri below for why).
    "RECONNECT_CLINIC_RATELIMIT_STORAGE_URI": None,
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
    # Content-Security-Policy of the clinic's own responses (never the host's other
    # pages): sources to add per directive, for a host layout that loads a stylesheet or
    # script from elsewhere, e.g. {"style-src": ["https://cdn.example.org"]}.
    "RECONNECT_CLINIC_CSP_EXTRA_SOURCES": None,
    # A fresh nonce per request, added to script-src and style-src and given to
    # templates as ``clinic_csp_nonce``, for a host layout's own inline <script>/<style>
    # (``<script nonce="{{ clinic_csp_nonce }}">``). Off: no inline script at all.
    "RECONNECT_CLINIC_CSP_NONCE": False,
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
    # A host that already sends mail (Flask-Mail, Flask-Mailman, a provider's API) gives
    # a callable ``send(to, subject, body)`` (or its import path, "pkg.mod:func") and the
    # clinic sends through it instead of its own SMTP settings. It must raise on failure.
    "RECONNECT_CLINIC_MAIL_SENDER": None,
    # When a partner's answer opens a risk (safety, self-harm), email the case's
    # therapist once: "a case needs your attention" and a link, naming no one. Needs SMTP;
    # `flask clinic send-risk-alerts` retries any that could not be sent.
    "RECONNECT_CLINIC_RISK_ALERT_EMAILS": True,
    # `flask clinic send-reminders` emails partners about homework due only when this is
    # on (and SMTP is set up).
    "RECONNECT_CLINIC_HOMEWORK_REMINDERS": False,
    # Measures repeated through treatment (measures/schedule.py, `flask clinic
    # send-measures`): a measures link goes out this many days before its due date (the
    # session's day, or the week's), and lives this many days. For "before every
    # session" an administration counts as missed once the session day has passed; for
    # "every N weeks" and "once", this many days after its due date.
    "RECONNECT_CLINIC_MEASURES_SEND_DAYS_BEFORE": 2,
    "RECONNECT_CLINIC_MEASURES_LINK_LIFETIME_DAYS": 10,
    "RECONNECT_CLINIC_MEASURES_MISSED_AFTER_DAYS": 7,
    # The CSI-16's and CSI-4's standard deviation and reliability, for their reliable
    # change (measures/change.py): none are on record in the clinic, so by default a CSI
    # change says "not computed". A practice that holds published figures gives them,
    # each with its source, which every verdict from them then names: {"csi16": {"sd":
    # ..., "reliability": ..., "source": "..."}, "csi4": {...}}. Checked at start-up.
    "RECONNECT_CLINIC_CSI_RELIABILITY": None,
    # Session ratings (ratings/): how long a partner's rating link works, and the
    # measure it asks. None asks the built-in four items (ratings/items.py, 0-10, not a
    # licensed instrument); a practice's own: {"slug", "title", "version", "low",
    # "high", "items": [[key, text, words for low, words for high], ...]}.
    "RECONNECT_CLINIC_RATING_LINK_LIFETIME_DAYS": 7,
    "RECONNECT_CLINIC_RATING_MEASURE": None,
    # Split-alliance alerts (ratings/alliance.py), on each rating's 0-10 score. These are
    # practice conventions, not validated cut-offs (the built-in items have no norms):
    # a gap of 3 between the partners' ratings of one session (three tenths of the
    # scale) is well past the point or two by which two people who found a session
    # equally useful tend to differ; a fall of 2 in one partner's rating from one session
    # to the next is past the wobble of a single rating, yet small enough to raise at
    # the very next session, before a partner who feels unheard stops coming. A practice
    # that finds too many or too few alerts changes them here.
    "RECONNECT_CLINIC_ALLIANCE_SPLIT_GAP": 3.0,
    "RECONNECT_CLINIC_ALLIANCE_DROP": 2.0,
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
    # PDF worker processes per web process. Two measured best on 2 cores
    # (bench/bench_first_pdf.py: one is a queue for the second therapist; three gave the
    # same PDFs per second as two, for another worker's memory in each web process).
    "RECONNECT_CLINIC_PDF_WORKERS": 2,
    # Start each web process's PDF workers (and load the chart fonts) in a background
    # thread at the first request it answers, so that its first report does not wait
    # for them (reconnect_clinic/warm_up.py; gunicorn's hook
    # reconnect_clinic.gunicorn_hooks does it before a worker serves at all). None: on,
    # except under app.testing; True: on; False: off.
    "RECONNECT_CLINIC_PDF_WARM_UP": None,
    # A job queue for long work (batch renders, signing's stored PDF, record exports,
    # homework reminders): unset, it runs in the request or the command, as always;
    # "redis://host:6379/0" puts it on RQ (pip install "reconnect-clinic[queue]"), run by
    # `flask clinic worker` on this or other machines (reconnect_clinic/tasks/).
    "RECONNECT_CLINIC_TASK_QUEUE": None,
    # The RQ queue's name (several practices, or tests, may share one Redis).
    "RECONNECT_CLINIC_TASK_QUEUE_NAME": "reconnect-clinic",
    # How a worker that is not started by `flask clinic worker` builds the app: the
    # import string of the host's app or app factory, e.g. "myhost.wsgi:create_app".
    # None: the worker's own app (the one `flask --app ... clinic worker` loaded).
    "RECONNECT_CLINIC_TASK_APP": None,
    # Seconds a finished job's result (a sealed PDF or zip) is kept in Redis for the
    # therapist to download; then it is gone and the work is asked for again.
    "RECONNECT_CLINIC_TASK_RESULT_TTL": 60 * 60,
    # Seconds one job may run before its worker stops it.
    "RECONNECT_CLINIC_TASK_TIMEOUT": 10 * 60,
}


def apply_defaults(config: dict[str, Any]) -> None:
    """Fill in every unset key, leaving the host's own values alone."""
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)


def ratelimit_storage_uri(config: Mapping[str, Any]) -> str:
    """Where the failure counts go: ``RECONNECT_CLINIC_RATELIMIT_STORAGE_URI`` if set;
    else the job queue's Redis (``RECONNECT_CLINIC_TASK_QUEUE``) if that is a Redis
    address; else each process's memory.

    Why the queue's Redis by default: a practice that runs a queue runs several
    processes, and counts kept per process multiply every limit by their number (with
    two gunicorn workers a "20 per hour" limit let 38 bad links through). The Redis is
    there and reachable already, the limiter's keys have a prefix of their own
    (``reconnect_clinic:<limiter>``) beside the queue's, and a store that fails costs
    nothing in availability: the counts fall back to memory, with a warning. A practice
    without a queue keeps memory: nothing else in it needs Redis, and a single-process
    deployment is counted exactly in memory."""
    configured = config.get("RECONNECT_CLINIC_RATELIMIT_STORAGE_URI")
    if configured:
        return str(configured)
    queue = config.get("RECONNECT_CLINIC_TASK_QUEUE")
    if isinstance(queue, str) and queue.startswith(("redis://", "rediss://")):
        return queue
    return "memory://"
