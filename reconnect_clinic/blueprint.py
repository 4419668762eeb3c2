"""The one blueprint every capability adds its routes to.

Templates live under ``reconnect_clinic/`` in the template folder, so a host overrides
any page by placing a file of the same name in its own templates.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib.resources import files
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Blueprint, abort, redirect, request, url_for
from werkzeug.wrappers import Response

from .state import config, get_state

if TYPE_CHECKING:
    from .models import Therapist

TEMPLATE_FOLDER = str(files("reconnect_clinic.templates"))

bp = Blueprint(
    "reconnect_clinic",
    __name__,
    template_folder=TEMPLATE_FOLDER,
    static_folder="static",
    static_url_path="/static",
)

F = TypeVar("F", bound=Callable[..., Any])


def therapist_required(view: F) -> F:
    """Let the view run only for a signed-in, active therapist.

    Standalone, anyone else is sent to the login page; inside a host, to the host's
    login endpoint when one is configured, otherwise answered 401.
    """
    from .security.accounts.therapists import current_therapist

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_therapist() is None:
            return login_redirect()
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def signed_in_therapist() -> Therapist:
    """The therapist of a view guarded by :func:`therapist_required`."""
    from .security.accounts.therapists import current_therapist

    therapist = current_therapist()
    if therapist is None:  # only if a view forgot its guard: fail closed
        abort(401)
    return therapist


def login_redirect() -> Response:
    if get_state().standalone_auth:
        return redirect(url_for("reconnect_clinic.login", next=request.full_path.rstrip("?")))
    endpoint = config("HOST_LOGIN_ENDPOINT")
    if endpoint:
        return redirect(url_for(endpoint, next=request.full_path.rstrip("?")))
    abort(401)


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    from .security.accounts.therapists import current_therapist

    return {
        "clinic_base_template": config("BASE_TEMPLATE"),
        "clinic_practice_name": config("PRACTICE_NAME"),
        "clinic_therapist": current_therapist(),
        "clinic_standalone_auth": get_state().standalone_auth,
    }
