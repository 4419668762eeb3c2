"""The clinic's blueprint, made for each app by :func:`create_blueprint` from the route
tables of the views modules, and the decorators its views share.

Templates live under ``reconnect_clinic/`` in the template folder, so a host overrides
any page by placing a file of the same name in its own templates.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

from .csp import csp_nonce
from .state import config, get_state

if TYPE_CHECKING:
    from .models import Couple, Therapist
    from .state import ClinicState

TEMPLATE_FOLDER = str(files("reconnect_clinic.templates"))

#: The blueprint's name: every endpoint is ``reconnect_clinic.<view>``.
BLUEPRINT_NAME = "reconnect_clinic"

V = TypeVar("V", bound=Callable[..., Any])


@dataclass(frozen=True)
class Route:
    """One route a views module declares: what ``Blueprint.add_url_rule`` is given."""

    rule: str
    endpoint: str | None
    view: Callable[..., Any]
    options: dict[str, Any]


class RouteTable:
    """The routes, hooks and error handlers of one views module, written down where the
    module is read and put on a blueprint only when :func:`create_blueprint` makes one
    for an app. Its decorators are the blueprint's own (``route``, ``errorhandler``,
    ``before_request``, ...), so a views module reads as a Flask one does::

        routes = RouteTable()

        @routes.route("/couples/<uuid:couple_id>")
        @therapist_required
        @with_couple
        def couple_detail(therapist: Therapist, couple: Couple) -> ResponseReturnValue: ...
    """

    def __init__(self) -> None:
        self.routes: list[Route] = []
        # The hooks and handlers, each a call to make on the blueprint, in the order the
        # module declared them (Flask runs before_request hooks in that order).
        self._setup: list[Callable[[Blueprint], object]] = []

    def route(self, rule: str, **options: Any) -> Callable[[V], V]:
        def record(view: V) -> V:
            rest = dict(options)
            endpoint = rest.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, view, **rest)
            return view

        return record

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        **options: Any,
    ) -> None:
        if view_func is None:
            raise TypeError(f"route {rule!r} has no view")
        self.routes.append(Route(rule, endpoint, view_func, options))

    def errorhandler(self, code_or_exception: type[Exception] | int) -> Callable[[V], V]:
        def record(handler: V) -> V:
            self._setup.append(lambda bp: bp.register_error_handler(code_or_exception, handler))
            return handler

        return record

    def before_request(self, hook: V) -> V:
        self._setup.append(lambda bp: bp.before_request(hook))
        return hook

    def after_request(self, hook: V) -> V:
        self._setup.append(lambda bp: bp.after_request(hook))
        return hook

    def after_app_request(self, hook: V) -> V:
        self._setup.append(lambda bp: bp.after_app_request(hook))
        return hook

    def context_processor(self, processor: V) -> V:
        self._setup.append(lambda bp: bp.context_processor(processor))
        return processor

    def app_context_processor(self, processor: V) -> V:
        self._setup.append(lambda bp: bp.app_context_processor(processor))
        return processor

    def apply(self, bp: Blueprint) -> None:
        """Put this table's routes, then its hooks and handlers, on ``bp``."""
        for route in self.routes:
            bp.add_url_rule(route.rule, route.endpoint, route.view, **route.options)
        for setup in self._setup:
            setup(bp)


P = ParamSpec("P")


def therapist_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Let the view run only for a signed-in, active therapist.

    Standalone, anyone else is sent to the login page; inside a host, to the host's
    login endpoint when one is configured, otherwise answered 401.
    """
    from .security.accounts.therapists import current_therapist

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if current_therapist() is None:
            return not_a_therapist_answer() if signed_in_to_host() else login_redirect()
        return view(*args, **kwargs)

    return wrapped


def with_couple(
    view: Callable[Concatenate[Therapist, Couple, P], ResponseReturnValue],
) -> Callable[..., ResponseReturnValue]:
    """Give the view the signed-in therapist and the couple of the URL's ``couple_id``,
    in place of that id; 404 for a couple the therapist may not see (security/access.py),
    so another therapist cannot learn that the case exists.

    Goes under :func:`therapist_required`, which answers someone signed out::

        @routes.route("/couples/<uuid:couple_id>/sessions/<uuid:session_id>")
        @therapist_required
        @with_couple
        def session_view(therapist: Therapist, couple: Couple, session_id: uuid.UUID): ...
    """
    from .security.access import couple_or_404

    # Typed as taking anything: Flask passes ``couple_id`` by keyword, which a
    # ``Concatenate`` (positional only) cannot say.
    @functools.wraps(view)
    def wrapped(couple_id: uuid.UUID, *args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        therapist = signed_in_therapist()
        return view(therapist, couple_or_404(couple_id, therapist), *args, **kwargs)

    return wrapped


def signed_in_therapist() -> Therapist:
    """The therapist of a view guarded by :func:`therapist_required`."""
    from .security.accounts.therapists import current_therapist

    therapist = current_therapist()
    if therapist is None:  # only if a view forgot its guard: fail closed
        abort(401)
    return therapist


def signed_in_to_host() -> bool:
    """Whether a host's Flask-Login user is signed in (host mode only): someone who is
    not one of the clinic's therapists, when the clinic found no therapist for them.
    Standalone, the only users are therapists."""
    if get_state().standalone_auth or getattr(current_app, "login_manager", None) is None:
        return False
    return bool(current_user.is_authenticated)


def not_a_therapist_answer() -> ResponseReturnValue:
    """What a host's signed-in user who is not a therapist gets: the host's own page when
    RECONNECT_CLINIC_NOT_THERAPIST_ENDPOINT names one, else a 403 page that says so.
    Never the login page: they have signed in already, and would be sent round again."""
    endpoint = config("NOT_THERAPIST_ENDPOINT")
    if endpoint:
        return redirect(url_for(endpoint))
    return render_template("reconnect_clinic/not_a_therapist.html"), 403


def login_redirect() -> Response:
    if get_state().standalone_auth:
        return redirect(url_for("reconnect_clinic.login", next=request.full_path.rstrip("?")))
    endpoint = config("HOST_LOGIN_ENDPOINT")
    if endpoint:
        return redirect(url_for(endpoint, next=request.full_path.rstrip("?")))
    abort(401)


def create_blueprint(
    state: ClinicState, tables: Iterable[RouteTable], *, url_prefix: str | None = None
) -> Blueprint:
    """A new blueprint for one app, with the routes, hooks and handlers of ``tables``
    (reconnect_clinic/views.py lists them; init_app passes them in), as Flask-Security's
    ``create_blueprint`` builds its own from the app's state. Each app gets its own, so
    nothing one app registers reaches another's."""
    from .readonly import read_without_transaction

    bp = Blueprint(
        BLUEPRINT_NAME,
        __name__,
        url_prefix=url_prefix,
        template_folder=TEMPLATE_FOLDER,
        static_folder="static",
        static_url_path="/static",
    )
    # First of the blueprint's hooks: a hook before it that reads (the sign-in checks
    # load the therapist) would open the transaction the read-only view means to go
    # without.
    bp.before_request(read_without_transaction)

    @bp.context_processor
    def template_globals() -> dict[str, Any]:
        from .security.accounts.therapists import current_therapist

        return {
            "clinic_base_template": config("BASE_TEMPLATE"),
            "clinic_practice_name": config("PRACTICE_NAME"),
            "clinic_therapist": current_therapist(),
            "clinic_standalone_auth": state.standalone_auth,
            # For a host layout's own inline script or style (RECONNECT_CLINIC_CSP_NONCE);
            # None when off. A host base template extended by a clinic page is rendered
            # here too, so the clinic's pages are the only ones that need it.
            "clinic_csp_nonce": csp_nonce(),
        }

    for table in tables:
        table.apply(bp)
    return bp
