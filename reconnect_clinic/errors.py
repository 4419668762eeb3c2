"""Error pages and response headers for every clinic page."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from .blueprint import bp

# Partner pages that are sent back: they carry a signed link reference that does the
# CSRF token's work (see security/link_session.py), so an app-wide CSRF check must not
# turn them away, or a partner who paused too long would lose what they typed.
PARTNER_POST_ENDPOINTS = frozenset(
    {"reconnect_clinic.intake_page", "reconnect_clinic.homework_check_in"}
)


@bp.errorhandler(CSRFError)
def _form_expired(error: CSRFError) -> Any:
    if request.endpoint in PARTNER_POST_ENDPOINTS:
        # The view itself refuses anything without a valid link reference.
        view = current_app.view_functions[request.endpoint]
        return current_app.ensure_sync(view)(**(request.view_args or {}))
    return render_template("reconnect_clinic/form_expired.html"), 400


@bp.after_request
def _private_headers(response: Response) -> Response:
    """Clinical pages are never cached or stored by browsers and proxies, never leak
    their address to another site through the Referer header, and are never framed."""
    if request.endpoint != "reconnect_clinic.static":
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = content_security_policy(
        inline_styles=request.endpoint in INLINE_STYLE_ENDPOINTS
    )
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


# Report previews carry SVG charts whose drawing instructions are style attributes.
INLINE_STYLE_ENDPOINTS = frozenset(
    {
        "reconnect_clinic.session_report_preview",
        "reconnect_clinic.progress_report",
        "reconnect_clinic.intake_summary",
    }
)


def content_security_policy(*, inline_styles: bool = False) -> str:
    """No inline script anywhere, nothing loaded from elsewhere, never framed."""
    style = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style}",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )
