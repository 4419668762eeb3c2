"""Keeping partners' link tokens out of logs.

A partner's link is the one address that carries its token (``/i/<token>``,
``/h/<token>``, ``/m/<token>``, ``/r/<token>``: intake, homework, measures, rating); the
first request exchanges it for a session, but that one request is still written to the
server's access log, and to the error log if it fails. This filter rewrites such paths
to ``/i/[token]`` in any log record it sees. ``init_app`` puts it on
Werkzeug's logger (the development server's access log) and on the app's own logger;
behind gunicorn, run gunicorn with the logger class in ``security/links/gunicorn_logging.py``,
which puts it on gunicorn's access and error logs (README, "Deploying").

An access log writes the address as the client sent it, and a client may spell the
same link many ways that the server decodes back to it before routing: any character
percent-escaped (``%6E`` or ``%6e``, the ``i`` or ``h`` and the slashes too, even escaped
twice), slashes doubled, ``.`` and ``..`` segments. So every address is also read as the
server would decode it, and any segment of 16 or more characters after a link's letter
(either case, after any prefix), with whatever trails it up to the next ``/``, ``?`` or
``#``, is taken out, in whichever spelling it came. A host's own ``/i/`` (or ``/h/``...)
addresses lose such segments in the log too: a price worth paying for never logging a
working link.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, MutableMapping
from urllib.parse import quote, unquote

REDACTED = "[token]"
# A kind of link (i: intake, h: homework, m: measures, r: session rating) between
# slashes, and the segment after it that would be a token: as written (up to a query or
# fragment, which are kept), and as decoded (where a "?" or "#" may have been an
# escaped part of the path, so only a slash ends it).
_TOKEN_PATH = re.compile(r"(/+[iIhHmMrR]/+)[^/?#\s\"'<>]{16,}")
_DECODED_TOKEN_PATH = re.compile(r"(/+[iIhHmMrR]/+)[^/\s]{16,}")
# What a log line's addresses are read from: runs of characters that are neither space
# nor quotes (gunicorn quotes the request line, the referrer and the user agent).
_WORD = re.compile(r"[^\s\"'<>]+")
_DOT_SEGMENT = re.compile(r"/\.(?=/|\?|#|$)")
_PARENT_SEGMENT = re.compile(r"/(?!\.\.(?:/|$))[^/?#]+/\.\.(?=/|\?|#|$)")
_UNPRINTABLE = re.compile(r"[^\x21-\x7e]")
_DECODE_ROUNDS = 4  # escapes of escapes of escapes of ... a character


def redact(text: str) -> str:
    """``text`` with every link token taken out, however its address was spelled."""
    if "/" not in text and "%" not in text:  # no address, even an escaped one
        return text
    return _WORD.sub(_redact_word, text)


def _redact_word(match: re.Match[str]) -> str:
    # The path and the query are read apart, so a query after a link stays in the log
    # (a token may be in a query too, e.g. an escaped ``next=``).
    word = match.group(0)
    cut = word.find("?")
    if cut < 0:
        return _redact_part(word)
    return _redact_part(word[:cut]) + "?" + _redact_part(word[cut + 1 :])


def _redact_part(word: str) -> str:
    word = _TOKEN_PATH.sub(rf"\1{REDACTED}", word)
    if "%" not in word and "/." not in word:
        return word  # already as the server reads it
    decoded = _as_the_server_reads_it(word)
    if not _DECODED_TOKEN_PATH.search(decoded):
        return word
    # Logged decoded, then, with the token out; anything unprintable stays escaped, so
    # an escaped line break cannot forge a log line.
    redacted = _DECODED_TOKEN_PATH.sub(rf"\1{REDACTED}", decoded)
    return _UNPRINTABLE.sub(lambda m: quote(m.group(0)), redacted)


def _as_the_server_reads_it(word: str) -> str:
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote(word)
        if decoded == word:
            break
        word = decoded
    word = _DOT_SEGMENT.sub("", word)
    while True:
        resolved = _PARENT_SEGMENT.sub("", word, count=1)
        if resolved == word:
            return word
        word = resolved


class RedactLinkTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, MutableMapping):
            # gunicorn's access log formats from a dict of its own kind, which answers "-"
            # for atoms it lacks: changed in place, so it keeps doing so.
            for key, value in list(record.args.items()):
                if isinstance(value, str):
                    record.args[key] = redact(value)
        elif isinstance(record.args, Mapping):
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
