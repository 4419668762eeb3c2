"""gunicorn's logger, with partners' link tokens taken out of its access and error logs.

Run gunicorn with it (gunicorn is the host's, not a dependency of the clinic)::

    gunicorn --logger-class reconnect_clinic.security.links.gunicorn_logging.RedactingLogger ...

or ``logger_class = "reconnect_clinic.security.links.gunicorn_logging.RedactingLogger"`` in
``gunicorn.conf.py``. The master makes the logger before it forks the workers, so every
worker's lines pass the filter, in any access log format (see logfilter.py).
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from .logfilter import install


class RedactingLogger(Logger):
    def __init__(self, cfg: Any) -> None:
        super().__init__(cfg)
        install(self.access_log, self.error_log)
