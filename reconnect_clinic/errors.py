"""Error pages and response headers for every clinic page."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from .blueprint import bp
from .intake.views import rerender_expired_intake_page


@bp.errorhandler(CSRFError)
def _form_expired(error: CSRFError) -> Any:
    """A form sent with a missing or stale token. On an intake page the partner gets
    their answers back to send again; elsewhere, a plain page that says what to do."""
    page = (request.view_args or {}).get("page")
    if page:
        rerendered = rerender_expired_intake_page(page)
        if rerendered is not None:
            return rerendered
    client_page = request.endpoint not in (None,) and (
        request.endpoint.startswith("reconnect_clinic.intake")
    )
    return (
        render_template("reconnect_clinic/form_expired.html", client_page=client_page),
        400,
    )


@bp.after_request
def _private_headers(response: Response) -> Response:
    """Clinical pages are never cached or stored by browsers and proxies, and never
    leak their address to another site through the Referer header."""
    if request.endpoint != "reconnect_clinic.static":
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
