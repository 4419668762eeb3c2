"""Error pages, and the security headers of every response under the clinic."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from .blueprint import BLUEPRINT_NAME, RouteTable
from .csp import content_security_policy, csp_nonce
from .state import config

routes = RouteTable()

# Partner pages that are sent back: they carry a signed link reference that does the
# CSRF token's work (see security/links/session.py), so an app-wide CSRF check must not
# turn them away, or a partner who paused too long would lose what they typed.
PARTNER_POST_ENDPOINTS = frozenset(
    {
        "reconnect_clinic.intake_page",
        "reconnect_clinic.homework_check_in",
        "reconnect_clinic.measures_form",
        "reconnect_clinic.rating_page",
    }
)
# Every page a partner reaches through their private link, and the partners' "Exit this
# page" (tests/test_route_matrix.py checks this list against the matrix's partner rows).
PARTNER_ENDPOINTS = PARTNER_POST_ENDPOINTS | {
    "reconnect_clinic.link_open",
    "reconnect_clinic.intake_resume",
    "reconnect_clinic.intake_done",
    "reconnect_clinic.homework_mine",
    "reconnect_clinic.homework_calendar",
    "reconnect_clinic.measures_done",
    "reconnect_clinic.quick_exit",
}
_STATIC_ENDPOINTS = frozenset({"reconnect_clinic.static", "static"})


@routes.errorhandler(CSRFError)
def _form_expired(error: CSRFError) -> Any:
    if request.endpoint in PARTNER_POST_ENDPOINTS:
        # The view itself refuses anything without a valid link reference.
        view = current_app.view_functions[request.endpoint]
        return current_app.ensure_sync(view)(**(request.view_args or {}))
    return render_template("reconnect_clinic/form_expired.html"), 400


@routes.after_app_request
def _clinic_headers(response: Response) -> Response:
    """Every response under the clinic's address carries its security headers: its own
    pages, and also what no view of it produced (a 404 or 405 no route matched, an
    error handler's page, a redirect). An app-level hook, because the blueprint's own
    after_request never runs for a request no route of it matched; it acts only under
    the clinic's prefix (or on the clinic's own routes when it has none), so the host's
    other pages keep their own headers."""
    if in_clinic(request.path, request.blueprint, config("URL_PREFIX")):
        # The policy only on what the clinic itself answered: a page no route of it
        # matched (the host's own 404 page, say) is the host's, in the host's layout,
        # and keeps the host's policy. The other headers stay: its address may still
        # name a partner's link.
        add_security_headers(response, policy=request.blueprint == BLUEPRINT_NAME)
    return response


def in_clinic(path: str, blueprint: str | None, prefix: str | None) -> bool:
    """Whether a request for ``path`` (matched to ``blueprint``, None when no route
    matched) is the clinic's. With no prefix the clinic shares the host's address space,
    and only its own routes are its."""
    if blueprint == BLUEPRINT_NAME:
        return True
    if not prefix:
        return False
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def add_security_headers(response: Response, *, policy: bool = True) -> Response:
    """Put the clinic's headers on ``response``, for the current request, with its
    Content-Security-Policy unless ``policy`` is False. The standalone app (demo.py)
    runs it on every response it sends."""
    headers = security_headers(
        request.endpoint,
        secure=request.is_secure,
        policy=content_security_policy(config("CSP_EXTRA_SOURCES"), csp_nonce()),
    )
    if not policy:
        del headers["Content-Security-Policy"]
    response.headers.update(headers)
    return response


def security_headers(
    endpoint: str | None, *, secure: bool, policy: str | None = None
) -> dict[str, str]:
    """The headers of a response to a request for ``endpoint`` (None when no route
    matched): never cached or stored by browsers and proxies (except static files),
    never framed, never sniffed, no inline script (``policy``, else the default
    policy), and a Referer as ``referrer_policy`` decides."""
    headers = {
        "Referrer-Policy": referrer_policy(endpoint),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": policy or content_security_policy(),
    }
    if endpoint not in _STATIC_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    if secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def referrer_policy(endpoint: str | None) -> str:
    """``same-origin`` on therapists' pages, ``no-referrer`` everywhere else.

    Why not ``no-referrer`` everywhere: over HTTPS, Flask-WTF's CSRFProtect (the demo's,
    and the one README recommends to hosts) refuses any post whose ``Referer`` is
    missing or names another origin (``WTF_CSRF_SSL_STRICT``, on by default). That check
    is worth keeping, on top of the form's token: it stops a form sent from a page of
    another origin, such as a plain-HTTP neighbour that planted a cookie. So a
    therapist's page must let the browser send a Referer back to the clinic itself.

    Why ``same-origin``: the browser then sends the page's address to the clinic's own
    server only, which logged that address when it served the page anyway, and sends
    nothing at all to any other site. ``strict-origin`` would pass the check too, but
    would tell every site a therapist follows a link to which clinic they came from. An
    ``Origin`` check of our own would need the same change (under ``no-referrer`` a
    browser sends ``Origin: null``) and would repeat Flask-WTF's comparison of scheme,
    host and port.

    Partner pages stay ``no-referrer``: their addresses name a partner's link (the first
    one carries its token), and their posts are let in by the signed link reference
    they carry (security/links/session.py), which needs no Referer. So does anything
    else (a 404 or 405 no route matched, the demo's ``/``): no form is sent from there.
    """
    if endpoint is None or endpoint in PARTNER_ENDPOINTS or endpoint in _STATIC_ENDPOINTS:
        return "no-referrer"
    if endpoint.startswith(BLUEPRINT_NAME + "."):
        return "same-origin"
    return "no-referrer"
