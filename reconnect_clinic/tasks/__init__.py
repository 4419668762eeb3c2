"""Long work on a job queue, when one is configured (``RECONNECT_CLINIC_TASK_QUEUE``).

Unset, batch renders, signing's stored PDF, record exports and reminders run where they
are asked for, as they always have. Set to a Redis address, they run as RQ jobs on
workers (``flask clinic worker``, on this machine or others), and the web answers at once
with a progress page. :func:`render_session_report` renders one report for any queue to
call. ``queue.py`` puts work on the queue and reads it back, ``jobs.py`` is what workers
run, ``exports.py`` the record export itself, ``batches.py`` a therapist's batch of
session reports (one job per report, one ZIP), ``views.py`` the progress page, the
download and the batch's form (``forms.py``).
"""

from __future__ import annotations

from .jobs import load_app, render_session_report, use_app
from .queue import enabled

__all__ = ["enabled", "load_app", "render_session_report", "use_app"]
