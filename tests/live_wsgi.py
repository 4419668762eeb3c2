"""The standalone app as gunicorn loads it for the live-server tests
(``gunicorn tests.live_wsgi:app``), configured from the environment that
``tests/live_server.py`` sets."""

from __future__ import annotations

import json
import os

from flask import Response

from reconnect_clinic.demo import create_app
from tests.live_server import WORKER_HEADER

app = create_app(
    {
        "SECRET_KEY": os.environ["LIVE_SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": os.environ["LIVE_DATABASE_URL"],
        "RECONNECT_CLINIC_ENCRYPTION_KEYS": json.loads(os.environ["LIVE_ENCRYPTION_KEYS"]),
        "RECONNECT_CLINIC_ENCRYPTION_KEY_ID": os.environ["LIVE_ENCRYPTION_KEY_ID"],
        "RECONNECT_CLINIC_ADMINS_SEE_ALL_CASES": True,
        # Not app.testing, so the lazy warm-up would start PDF workers in every server
        # (tests/test_warm_up.py turns it on where it is the subject).
        "RECONNECT_CLINIC_PDF_WARM_UP": os.environ.get("LIVE_PDF_WARM_UP") == "1",
        # Shared failure counts for the workers (tests/test_login_limits.py).
        "RECONNECT_CLINIC_RATELIMIT_STORAGE_URI": os.environ.get(
            "LIVE_RATELIMIT_STORAGE_URI", "memory://"
        ),
    },
    instance_path=os.environ["LIVE_INSTANCE_PATH"],
)


# Which worker answered: LiveServer.start waits until every worker has answered one.
@app.after_request
def _name_the_worker(response: Response) -> Response:
    response.headers[WORKER_HEADER] = str(os.getpid())
    return response
