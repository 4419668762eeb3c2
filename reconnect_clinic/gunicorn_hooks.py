"""gunicorn server hooks: each worker warms up its PDF workers before it takes a request.

gunicorn is the host's server, not a dependency of the clinic. Use this module as the
configuration file::

    gunicorn -c python:reconnect_clinic.gunicorn_hooks 'myapp:app'

or, with a ``gunicorn.conf.py`` of your own, take the hook from here::

    from reconnect_clinic.gunicorn_hooks import post_worker_init  # noqa: F401

The hook runs in each worker after gunicorn forks it (never in the master, so nothing
started is shared across the fork, ``--preload`` or not) and waits until the worker's
PDF workers are ready (see ``reconnect_clinic.warm_up``). It reads the settings
(``RECONNECT_CLINIC_PDF_WORKERS``) from the Flask app gunicorn loaded, found through
WSGI middleware that keeps the wrapped app as ``.app`` (Werkzeug's ``ProxyFix`` does);
without one it uses the defaults. A failure is logged and the worker starts anyway: its
first report starts the PDF workers itself.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from .warm_up import warm_up_reports

log = logging.getLogger(__name__)


def flask_app(wsgi: object) -> Flask | None:
    """The Flask app inside ``wsgi`` (itself, or wrapped as ``.app`` a few times over)."""
    for _ in range(8):
        if isinstance(wsgi, Flask):
            return wsgi
        wsgi = getattr(wsgi, "app", None)
        if wsgi is None:
            return None
    return None


def post_worker_init(worker: Any) -> None:
    """gunicorn's hook: warm up this worker's reports before it serves."""
    app = flask_app(getattr(worker, "wsgi", None))
    try:
        warm_up_reports(app)
    except Exception:
        log.warning("Warming up the PDF workers failed", exc_info=True)
