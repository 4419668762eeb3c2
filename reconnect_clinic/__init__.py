"""reconnect_clinic: a Flask extension for couples therapists.

Intake on the signs and causes of emotional neglect, homework from the healing steps,
and signed session reports printed as PDFs.
"""

from .extension import ReconnectClinic
from .security.accounts.therapists import (
    current_therapist,
    find_therapist_for_host_user,
    provision_therapist_for_host_user,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "ReconnectClinic",
    "__version__",
    "current_therapist",
    "find_therapist_for_host_user",
    "provision_therapist_for_host_user",
]
