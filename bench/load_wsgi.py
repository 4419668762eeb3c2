"""The apps bench/bench_load.py serves with gunicorn, configured from the environment.

    gunicorn --chdir bench 'load_wsgi:clinic()'    # the clinic (the standalone app)
    gunicorn --chdir bench 'load_wsgi:bare()'      # the bare baseline (bench/bare_app.py)

Factories rather than module-level apps, so that bench_load.py can import
:func:`clinic_config` to seed with an app configured exactly as the server's.

The clinic's rate limits are left at their defaults: they count failures only (unknown
link tokens, wrong passwords), and a load of good requests from one address never
reaches them.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

DATABASE_URL_ENV = "RECONNECT_BENCH_DATABASE_URL"
SECRET_KEY_ENV = "RECONNECT_BENCH_SECRET_KEY"  # noqa: S105 - a variable's name
ENCRYPTION_KEY_ENV = "RECONNECT_BENCH_ENCRYPTION_KEY"
INSTANCE_PATH_ENV = "RECONNECT_BENCH_INSTANCE_PATH"
# Optional (bench_first_pdf.py): RECONNECT_CLINIC_PDF_WARM_UP ("on" or "off") and
# RECONNECT_CLINIC_PDF_WORKERS; unset, the clinic's defaults.
PDF_WARM_UP_ENV = "RECONNECT_BENCH_PDF_WARM_UP"
PDF_WORKERS_ENV = "RECONNECT_BENCH_PDF_WORKERS"
KEY_ID = "bench"


def clinic_config(database_url: str, secret_key: str, encryption_key: str) -> dict[str, Any]:
    """The clinic's configuration for the benchmark, as the demo would be deployed."""
    return {
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RECONNECT_CLINIC_ENCRYPTION_KEYS": {KEY_ID: encryption_key},
        "RECONNECT_CLINIC_ENCRYPTION_KEY_ID": KEY_ID,
        "RECONNECT_CLINIC_PRACTICE_NAME": "Harbour Street Counselling",
    }


def clinic() -> Flask:
    """The clinic's standalone app (``reconnect_clinic.demo.create_app``), which on SQLite
    applies ``configure_sqlite`` as the README's Deploying section says."""
    from reconnect_clinic.demo import create_app

    config = clinic_config(
        os.environ[DATABASE_URL_ENV], os.environ[SECRET_KEY_ENV], os.environ[ENCRYPTION_KEY_ENV]
    )
    if PDF_WARM_UP_ENV in os.environ:
        config["RECONNECT_CLINIC_PDF_WARM_UP"] = os.environ[PDF_WARM_UP_ENV] == "on"
    if PDF_WORKERS_ENV in os.environ:
        config["RECONNECT_CLINIC_PDF_WORKERS"] = int(os.environ[PDF_WORKERS_ENV])
    return create_app(config, instance_path=os.environ[INSTANCE_PATH_ENV])


def bare() -> Flask:
    """The bare baseline page (bench/bare_app.py)."""
    from bare_app import create_bare_app

    return create_bare_app(os.environ[DATABASE_URL_ENV])
