"""The web process's side: a small pool of persistent render workers.

Each worker is a ``python -c`` child (:data:`_BOOT`) that runs
:func:`.engine.worker_main` and renders one PDF at a time; they speak the frames of
:mod:`.protocol` over the child's stdin and stdout. The pool is per process and
thread-safe; a forked child (a gunicorn worker of a preloading master) gets its own.

What it guarantees
    - A render over its timeout raises :class:`PoolTimeout`; its worker is killed (and,
      should the parent fail to, kills itself by ``SIGALRM`` after a grace period), and
      a replacement starts at once, warm by the next request. Other renders go on.
    - A worker that dies (a crash, an OOM kill) fails only the render it was doing, with
      :class:`PoolError`; the next render starts a new worker in its place.
    - Waiting for a free worker is bounded by the same timeout; a worker's start is not.
    - Nothing leaks: a killed worker's font folder is removed by the parent, every
      process is waited for, the pipes are closed, and :func:`shutdown` (also run at
      exit) stops them all.

Why a hand-written pool and not pebble or ``concurrent.futures``
    ``concurrent.futures.ProcessPoolExecutor`` has neither guarantee: a timed-out task
    keeps running (``Future.cancel`` cannot stop it), and one dead worker breaks the
    whole executor (``BrokenProcessPool``), so it would need killing through its private
    ``_processes`` and rebuilding. pebble's ``ProcessPool`` does kill on timeout and
    replace dead workers, but its workers (``multiprocessing``) inherit the web
    process's environment, and identical bytes from every worker need a fixed
    ``PYTHONHASHSEED`` and locale, set before the interpreter starts; it would also
    need the worker's font folder reported back to remove after a kill, the same
    after-fork handling, and a new dependency. With those workarounds pebble would save
    perhaps half of this module's code, which is standard library only and gives exactly
    the guarantees above (tested in ``tests/test_pdf_pool.py``): not a clear win, so the
    hand-written pool stays.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import selectors
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

from ...config import DEFAULTS
from .protocol import FONT_DIR_PREFIX, FRAME, MAX_BODY, MAX_HEADER, frame

log = logging.getLogger(__name__)

# How long a new worker may take to import WeasyPrint and load fonts and stylesheet;
# not counted in the render timeout.
STARTUP_TIMEOUT = 60.0
# A worker kills itself (SIGALRM) this long after the timeout, should its parent fail to.
SELF_DESTRUCT_GRACE = 10.0

# Before any import, keep the real stdout for replies and send fd 1 to stderr.
_BOOT = (
    "import os, sys; reply_fd = os.dup(1); os.dup2(2, 1); sys.path.insert(0, sys.argv[1]); "
    "from reconnect_clinic.reports.pdf.engine import worker_main; worker_main(reply_fd)"
)
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[3])
# Rendered once by each worker :meth:`Pool.warm_up` starts, and thrown away: a new
# worker's first render also pays for what WeasyPrint and pydyf load on first use
# (layout and drawing code, font subsetting, the PDF/A profile), which a report would.
_WARM_UP_HTML = (
    b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Warm-up</title>'
    b"</head><body><h1>Warm-up</h1><p>Text in <strong>bold</strong> and <em>italic</em>."
    b"</p><ul><li>One</li><li>Two</li></ul><table><tr><th>A</th><td>1</td></tr></table>"
    b'<p class="report-footer">Warm-up</p></body></html>'
)


class PoolError(Exception):
    """A render could not be run: no worker could start, or the worker failed."""


class PoolTimeout(PoolError):
    """The render, or the wait for a free worker, took longer than the timeout."""


class _Expired(Exception):
    pass


class _WorkerFailed(Exception):
    pass


class _Worker:
    """One render process and the pipes to it."""

    def __init__(self) -> None:
        env = dict(os.environ)
        # Fixed hashing, so that every worker lays out and writes the same bytes.
        env["PYTHONHASHSEED"] = "0"
        # A fixed locale: fontconfig orders fonts for text without a known language by
        # the process's locale, and with fallback fonts packaged, a worker under
        # LANG=ja_JP would set such text in the CJK font, making other bytes.
        env["LC_ALL"] = env["LANG"] = "C.UTF-8"
        env.pop("LANGUAGE", None)
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter, our fixed code
            [sys.executable, "-c", _BOOT, _PACKAGE_PARENT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            env=env,
            close_fds=True,
            start_new_session=True,  # no terminal Ctrl+C: it ends when its stdin closes
        )
        stdin, stdout = self.process.stdin, self.process.stdout
        if stdin is None or stdout is None:  # pragma: no cover - PIPE always gives both
            raise OSError("no pipes to the PDF worker")
        self._stdin, self._stdout = stdin, stdout
        self._in, self._out = stdin.fileno(), stdout.fileno()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._out, selectors.EVENT_READ)
        self.ready = False
        self.font_dir: str | None = None
        self.session_priority = ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self) -> dict[str, Any]:
        try:
            header, _ = self._receive(time.monotonic() + STARTUP_TIMEOUT)
        except _Expired:
            raise _WorkerFailed(f"it did not start within {STARTUP_TIMEOUT:g} s") from None
        if not header.get("ready"):
            raise _WorkerFailed(str(header.get("error")))
        font_dir = str(header.get("font_dir") or "")
        if Path(font_dir).name.startswith(FONT_DIR_PREFIX):
            self.font_dir = font_dir
        self.session_priority = str(header.get("session_priority", ""))
        if self.session_priority.startswith("failed"):
            # The worker renders, but a batch on it would slow the web as at nice 0.
            log.warning(
                "a PDF worker could not lower its session's CPU priority: %s",
                self.session_priority,
            )
        self.ready = True
        return header

    def run(
        self, header: Mapping[str, Any], body: bytes, timeout: float
    ) -> tuple[dict[str, Any], bytes]:
        if not self.ready:
            self.wait_ready()
        deadline = time.monotonic() + timeout
        try:
            _write_all(self._in, frame(header, body))
        except OSError as exc:
            raise _WorkerFailed(f"it stopped taking work ({exc})") from None
        return self._receive(deadline)

    def _receive(self, deadline: float) -> tuple[dict[str, Any], bytes]:
        header_size, body_size = FRAME.unpack(self._read(FRAME.size, deadline))
        if header_size > MAX_HEADER or body_size > MAX_BODY:
            raise _WorkerFailed("it sent a malformed reply")
        try:
            header = json.loads(self._read(header_size, deadline))
        except ValueError:
            raise _WorkerFailed("it sent a malformed reply") from None
        return header, self._read(body_size, deadline)

    def _read(self, size: int, deadline: float) -> bytes:
        chunks = bytearray()
        while len(chunks) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Expired
            if not self._selector.select(remaining):
                continue
            chunk = os.read(self._out, min(size - len(chunks), 1 << 20))
            if not chunk:
                with suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=1)
                raise _WorkerFailed(f"it exited (status {self.process.returncode})")
            chunks += chunk
        return bytes(chunks)

    def stop_taking_work(self) -> None:
        """Close its stdin: an idle worker exits at once."""
        with suppress(OSError):
            self._stdin.close()

    def close(self, *, kill: bool) -> None:
        """End the process: closing its stdin lets it exit; ``kill`` does not wait."""
        self.stop_taking_work()
        if kill:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self._selector.close()
        self._stdout.close()
        if self.font_dir:
            shutil.rmtree(self.font_dir, ignore_errors=True)

    def abandon(self) -> None:
        """Forget the process without touching it (in a forked child: it is the
        parent's). Only this process's copies of the pipes are closed."""
        for stream in (self._stdin, self._stdout):
            with suppress(OSError):
                stream.close()
        self._selector.close()
        self.process.returncode = 0  # never waited for, never killed from here


def _start_worker() -> _Worker:
    try:
        return _Worker()
    except OSError as exc:
        raise PoolError(f"could not start a PDF worker: {exc}") from None


def _first_renders(workers: list[_Worker]) -> None:
    """Each of ``workers`` renders :data:`_WARM_UP_HTML` (all at once, then each reply
    is read); a reply that is not a PDF is a failed start."""
    header: dict[str, Any] = {
        "logo": None,
        "html_bytes": len(_WARM_UP_HTML),
        "images": [],
        "alarm": STARTUP_TIMEOUT + SELF_DESTRUCT_GRACE,
    }
    deadline = time.monotonic() + STARTUP_TIMEOUT
    for worker in workers:
        try:
            _write_all(worker._in, frame(header, _WARM_UP_HTML))
        except OSError as exc:
            raise _WorkerFailed(f"it stopped taking work ({exc})") from None
    for worker in workers:
        reply, _ = worker._receive(deadline)
        if not reply.get("ok"):
            raise _WorkerFailed(f"its first render failed: {reply.get('error')}")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Pool:
    """The render workers of one process: each runs one render at a time."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.size = int(DEFAULTS["RECONNECT_CLINIC_PDF_WORKERS"])
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._starting = 0
        self._changed = threading.Condition(threading.Lock())
        self._closed = False

    def resize(self, size: int) -> None:
        with self._changed:
            self.size = size
            self._changed.notify_all()

    def run(
        self, header: Mapping[str, Any], body: bytes, timeout: float
    ) -> tuple[dict[str, Any], bytes]:
        """Send one request to a free worker and return its reply and body."""
        worker = self._checkout(timeout)
        request = {**header, "alarm": timeout + SELF_DESTRUCT_GRACE}
        try:
            reply, pdf = worker.run(request, body, timeout)
        except _Expired:
            self._discard(worker, replace=True)
            raise PoolTimeout(
                f"the PDF took longer than {timeout:g} s to render and was stopped"
            ) from None
        except _WorkerFailed as exc:
            self._discard(worker, replace=False)
            raise PoolError(f"the PDF worker failed: {exc}") from None
        except BaseException:
            self._discard(worker, replace=True)  # interrupted mid-conversation
            raise
        self._checkin(worker)
        return reply, pdf

    def warm_up(self) -> None:
        with self._changed:
            missing = max(self.size - len(self._all) - self._starting, 0)
            self._starting += missing
        started: list[_Worker] = []
        ready = False
        try:
            for _ in range(missing):
                started.append(_start_worker())
            for worker in started:  # they start in parallel; wait for each
                worker.wait_ready()
            _first_renders(started)
            ready = True
        except _Expired:
            raise PoolError(
                f"a PDF worker's first render took over {STARTUP_TIMEOUT:g} s"
            ) from None
        except _WorkerFailed as exc:
            raise PoolError(f"the PDF worker failed: {exc}") from None
        finally:
            with self._changed:
                self._starting -= missing
                if ready:
                    self._all.update(started)
                    self._idle.extend(started)
                self._changed.notify_all()
            if not ready:
                for worker in started:
                    worker.close(kill=True)

    def _checkout(self, timeout: float) -> _Worker:
        deadline = time.monotonic() + timeout
        dead: list[_Worker] = []
        try:
            with self._changed:
                while True:
                    if self._closed:
                        raise PoolError("the PDF workers have been shut down")
                    while self._idle:
                        worker = self._idle.pop()
                        if worker.alive():
                            return worker
                        self._all.discard(worker)
                        dead.append(worker)
                    if len(self._all) + self._starting < self.size:
                        self._starting += 1
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise PoolTimeout(
                            f"all {self.size} PDF workers stayed busy for the whole "
                            f"render timeout ({timeout:g} s)"
                        )
                    self._changed.wait(remaining)
        finally:
            for worker in dead:
                worker.close(kill=True)
        try:
            worker = _start_worker()
        except BaseException:
            with self._changed:
                self._starting -= 1
                self._changed.notify()
            raise
        with self._changed:
            self._starting -= 1
            self._all.add(worker)
        return worker

    def _checkin(self, worker: _Worker) -> None:
        with self._changed:
            surplus = self._closed or len(self._all) > self.size
            if surplus:
                self._all.discard(worker)
            else:
                self._idle.append(worker)
            self._changed.notify()
        if surplus:
            worker.close(kill=False)

    def _remove(self, worker: _Worker) -> None:
        with self._changed:
            self._all.discard(worker)
            if worker in self._idle:
                self._idle.remove(worker)
            self._changed.notify()
        worker.close(kill=True)

    def _discard(self, worker: _Worker, *, replace: bool) -> None:
        """Kill ``worker`` and, after a timeout, start its replacement at once, so that
        it is warm by the next request."""
        self._remove(worker)
        if not replace:
            return
        with self._changed:
            if self._closed or len(self._all) + self._starting >= self.size:
                return
            self._starting += 1
        try:
            replacement: _Worker | None = _start_worker()
        except PoolError:
            log.exception("could not start a PDF worker")
            replacement = None
        with self._changed:
            self._starting -= 1
            if replacement is not None:
                self._all.add(replacement)
                self._idle.append(replacement)
            self._changed.notify()

    def processes(self) -> list[tuple[int, str | None]]:
        """Each worker's process id and font folder (for tests and diagnostics)."""
        with self._changed:
            return sorted((worker.process.pid, worker.font_dir) for worker in self._all)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            workers, self._idle = list(self._all), []
            self._all.clear()
            self._changed.notify_all()
        for worker in workers:  # all at once, then wait for each
            worker.stop_taking_work()
        for worker in workers:
            worker.close(kill=False)

    def abandon(self) -> None:
        for worker in list(self._all):
            worker.abandon()


_POOL: Pool | None = None
_POOL_LOCK = threading.Lock()


def get_pool() -> Pool:
    """This process's pool, made on first use (and anew in a forked child)."""
    global _POOL
    pool = _POOL
    if pool is not None and pool.pid == os.getpid():
        return pool
    with _POOL_LOCK:
        if _POOL is None or _POOL.pid != os.getpid():
            _POOL = Pool()
        return _POOL


def shutdown() -> None:
    """Stop this process's render workers (also done at exit)."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None and pool.pid == os.getpid():
        pool.close()


def _after_fork_in_child() -> None:
    # A forked child (e.g. a gunicorn worker of a preloading master) gets its own pool;
    # the parent's workers stay the parent's.
    global _POOL, _POOL_LOCK
    pool, _POOL = _POOL, None
    _POOL_LOCK = threading.Lock()
    if pool is not None:
        pool.abandon()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(shutdown)
