"""What the web process and a render worker say to each other over the worker's pipes.

A frame is two big-endian lengths, a JSON header and a binary body. The parent sends a
request (header: ``alarm``, ``logo``, ``html_bytes``, ``images`` as ``[name, size]``;
body: the HTML's UTF-8 bytes, then each image); the worker answers first once with
``{"ready": ...}`` and then once per request (header: the reply of
:func:`.engine.render_here` without its PDF; body: the PDF).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import IO, Any

FRAME = struct.Struct(">II")
MAX_HEADER = 64 * 1024 * 1024
MAX_BODY = 1024 * 1024 * 1024
#: A worker's font folder is named so; the parent removes only a folder so named.
FONT_DIR_PREFIX = "reconnect-clinic-pdf-"


def frame(header: Mapping[str, Any], body: bytes = b"") -> bytes:
    """One frame: ``header`` as JSON, then ``body``."""
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return FRAME.pack(len(encoded), len(body)) + encoded + body


def read_frame(source: IO[bytes]) -> tuple[dict[str, Any], bytes] | None:
    """The next frame from a blocking stream, or None when it ends (the worker's side)."""
    prefix = source.read(FRAME.size)
    if len(prefix) < FRAME.size:
        return None
    header_size, body_size = FRAME.unpack(prefix)
    header = source.read(header_size)
    body = source.read(body_size)
    if len(header) < header_size or len(body) < body_size:
        return None
    return json.loads(header), body
