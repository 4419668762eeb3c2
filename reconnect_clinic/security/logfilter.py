"""Keeping partners' link tokens out of logs.

A partner's link is the one address that carries its token (``/i/<token>``,
``/h/<token>``); the first request exchanges it for a session, but that one request is
still written to the server's access log, and to the error log if it fails. This filter
rewrites such paths to ``/i/[token]`` in any log record it sees. ``init_app`` puts it on
Werkzeug's logger (the development server's access log) and on the app's own logger;
behind gunicorn, add it to gunicorn's access logger too (README, "Deploying").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

_TOKEN_PATH = re.compile(r"(/[ih]/)[A-Za-z0-9_\-]{16,}")


def redact(text: str) -> str:
    return _TOKEN_PATH.sub(r"\1[token]", text)


class RedactLinkTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, Mapping):  # gunicorn's access log formats from a dict
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        elif isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install(*loggers: logging.Logger) -> None:
    for logger in loggers:
        if not any(isinstance(f, RedactLinkTokens) for f in logger.filters):
            logger.addFilter(RedactLinkTokens())
