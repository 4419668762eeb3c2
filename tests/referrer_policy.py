"""What a browser puts in the ``Referer`` and ``Origin`` headers of a form post, decided
from the ``Referrer-Policy`` of the page that holds the form, as the W3C Referrer Policy
and the WHATWG Fetch standards say; and a test client that posts forms that way.

Tests of HTTPS set-ups use it instead of writing a Referer by hand: a header value that
merely passes the server's check would prove nothing about what browsers send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from werkzeug.datastructures import Headers

from tests.helpers import FreshContextClient

# Every policy the standard defines; a header naming none of them leaves the default.
POLICIES = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "same-origin",
        "origin",
        "strict-origin",
        "origin-when-cross-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)
DEFAULT_POLICY = "strict-origin-when-cross-origin"  # what browsers use without a header
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_policy(header: str | None) -> str:
    """The policy a ``Referrer-Policy`` header sets: the last token a browser knows
    (the header may list fallbacks), else the default."""
    policy = DEFAULT_POLICY
    for token in (header or "").split(","):
        token = token.strip().lower()
        if token in POLICIES:
            policy = token
    return policy


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return (parts.scheme, parts.hostname or "", parts.port or _DEFAULT_PORTS[parts.scheme])


def _trustworthy(url: str) -> bool:
    """A "potentially trustworthy" URL: HTTPS, or plain HTTP to this machine."""
    parts = urlsplit(url)
    return parts.scheme == "https" or parts.hostname in ("localhost", "127.0.0.1", "::1")


def _serialise_origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], "", "", ""))


def referrer(policy: str, document_url: str, target_url: str) -> str | None:
    """The ``Referer`` a request from ``document_url`` to ``target_url`` carries under
    ``policy`` (Referrer Policy, "determine request's referrer"), or None for none."""
    parts = urlsplit(document_url)
    full = urlunsplit(
        (parts.scheme, parts.netloc.rpartition("@")[2], parts.path or "/", parts.query, "")
    )
    origin = _serialise_origin(document_url) + "/"
    if len(full) > 4096:
        full = origin
    same = _origin(document_url) == _origin(target_url)
    downgrade = _trustworthy(document_url) and not _trustworthy(target_url)
    if policy == "no-referrer":
        return None
    if policy == "origin":
        return origin
    if policy == "unsafe-url":
        return full
    if policy == "strict-origin":
        return None if downgrade else origin
    if policy == "same-origin":
        return full if same else None
    if policy == "origin-when-cross-origin":
        return full if same else origin
    if policy == "no-referrer-when-downgrade":
        return None if downgrade else full
    assert policy == "strict-origin-when-cross-origin", policy
    if same:
        return full
    return None if downgrade else origin


def origin_header(policy: str, document_url: str, target_url: str) -> str:
    """The ``Origin`` of a form post (Fetch, "append a request Origin header"): the
    page's origin, or ``null`` where the policy withholds it."""
    serialised = _serialise_origin(document_url)
    if policy == "no-referrer":
        return "null"
    downgrade = urlsplit(document_url).scheme == "https" and not _trustworthy(target_url)
    if policy in ("no-referrer-when-downgrade", "strict-origin", DEFAULT_POLICY) and downgrade:
        return "null"
    if policy == "same-origin" and _origin(document_url) != _origin(target_url):
        return "null"
    return serialised


def form_post_headers(
    policy_header: str | None, document_url: str, target_url: str
) -> dict[str, str]:
    """The headers a browser adds to a form on ``document_url`` (served with
    ``policy_header``) when it is sent to ``target_url``."""
    policy = parse_policy(policy_header)
    headers = {"Origin": origin_header(policy, document_url, target_url)}
    sent = referrer(policy, document_url, target_url)
    if sent is not None:
        headers["Referer"] = sent
    return headers


@dataclass(frozen=True)
class Page:
    url: str  # as the browser's address bar shows it
    policy: str | None  # the page's Referrer-Policy header


class BrowserClient(FreshContextClient):
    """A test client that behaves, for forms, as a browser at ``public_url`` does.

    Every request goes to ``public_url`` (set it to an ``https://`` address for TLS), or,
    with ``proxy`` set, to that internal address with the ``X-Forwarded-*`` headers a
    TLS-terminating proxy adds, as the browser's request reaches an app behind one. The
    last HTML page received is the page on screen; a POST is that page's form being
    sent, with the ``Referer`` and ``Origin`` its ``Referrer-Policy`` allows.
    """

    public_url = "https://clinic.test"
    proxy: str | None = None  # e.g. "http://backend.internal:8000"
    client_address = "203.0.113.7"  # the browser's address, as the proxy forwards it
    page: Page | None = None

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if not args or not isinstance(args[0], str):
            return super().open(*args, **kwargs)  # a redirect being followed
        path = args[0]
        target = urljoin(self.public_url + "/", path)
        headers = Headers(kwargs.pop("headers", None) or {})
        method = kwargs.get("method", "GET").upper()
        if method == "POST" and self.page is not None:
            for name, value in form_post_headers(self.page.policy, self.page.url, target).items():
                headers.setdefault(name, value)
        if self.proxy is None:
            kwargs["base_url"] = self.public_url
        else:
            public = urlsplit(self.public_url)
            kwargs["base_url"] = self.proxy
            headers["X-Forwarded-Proto"] = public.scheme
            headers["X-Forwarded-Host"] = public.netloc
            headers["X-Forwarded-For"] = self.client_address
        response = super().open(path, *args[1:], headers=headers, **kwargs)
        if response.mimetype == "text/html" and not 300 <= response.status_code < 400:
            shown = response.request.full_path.rstrip("?")
            self.page = Page(
                urljoin(self.public_url + "/", shown), response.headers.get("Referrer-Policy")
            )
        return response
