"""Every module that declares routes, hooks or handlers for the clinic's blueprint, each
on its own ``routes = RouteTable()``; init_app gives :func:`route_tables` to
``create_blueprint``. A new views module is added here with one import line."""

from types import ModuleType

from . import errors, i18n  # noqa: F401
from .blueprint import RouteTable
from .cases import views as cases_views  # noqa: F401
from .fhir import views as fhir_views  # noqa: F401
from .homework import partner_views as homework_partner_views  # noqa: F401
from .homework import views as homework_views  # noqa: F401
from .intake import views as intake_views  # noqa: F401
from .measures import views as measures_views  # noqa: F401
from .notes import views as notes_views  # noqa: F401
from .ratings import views as ratings_views  # noqa: F401
from .reports import views as reports_views  # noqa: F401
from .risk import views as risk_views  # noqa: F401
from .security.accounts import views as security_views  # noqa: F401
from .security.links import views as link_views  # noqa: F401
from .tasks import views as task_views  # noqa: F401


def route_tables() -> list[RouteTable]:
    """The route table of every module imported above, in the order of the imports (the
    order their hooks run in; create_blueprint puts the read-only hook before them all)."""
    tables = [
        value.routes
        for value in globals().values()
        if isinstance(value, ModuleType) and isinstance(getattr(value, "routes", None), RouteTable)
    ]
    return tables
