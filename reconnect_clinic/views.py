"""Imports every module that adds routes or handlers to the blueprint."""

from . import errors  # noqa: F401
from .blueprint import bp
from .cases import views as cases_views  # noqa: F401
from .homework import views as homework_views  # noqa: F401
from .intake import views as intake_views  # noqa: F401
from .notes import views as notes_views  # noqa: F401
from .readonly import read_without_transaction
from .reports import views as reports_views  # noqa: F401
from .risk import views as risk_views  # noqa: F401
from .security.accounts import views as security_views  # noqa: F401
from .security.links import views as link_views  # noqa: F401

# First of the blueprint's hooks: a hook before it that reads (the sign-in checks load
# the therapist) would open the transaction the read-only view means to go without.
bp.before_request_funcs.setdefault(None, []).insert(0, read_without_transaction)
