"""Imports every module that adds routes to the blueprint."""

from .cases import views as cases_views  # noqa: F401
from .security import views as security_views  # noqa: F401
