"""A lower CPU priority that holds against the rest of the machine, autogroups included.

Linux's autogroups (``kernel.sched_autogroup_enabled``, on by default in most
distributions' kernels) share CPU time first between sessions, and only then between the
processes of one session: a process's nice value, or the idle scheduling class, ranks it
against its own session alone. A PDF worker leads a session of its own (so that a
terminal's Ctrl+C does not reach it), and so does a service a supervisor starts: at nice
19, or on SCHED_IDLE, each still had a full share against the web server's session, and a
batch of reports slowed the web as much as at nice 0. The session's rank is its
autogroup's own nice value, ``/proc/self/autogroup``; :func:`carry_into_session` sets it
to what this process's priority asks, when the session is this process's own.

Where the CPU controller of cgroups is on instead (systemd services with
``CPUWeight=``), autogroups do not apply and nothing here changes anything: the unit's
``CPUWeight=idle`` or ``Nice=`` is what counts there (README, "Job queue").
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

AUTOGROUP = Path("/proc/self/autogroup")
AUTOGROUPS_ENABLED = Path("/proc/sys/kernel/sched_autogroup_enabled")
#: What a process on the idle scheduling class asks of its session: the lowest rank.
IDLE_NICE = 19
# The kernel lets a process without CAP_SYS_ADMIN set an autogroup's nice once per tenth
# of a second, machine-wide (EAGAIN otherwise): two PDF workers start together.
_RETRY_SECONDS = 0.11
_TRIES = 20


def session_nice_for(nice: int, idle: bool) -> int | None:
    """The nice a session should have for a process at ``nice`` (on the idle class if
    ``idle``), or None when the process asks for no lower priority than the default."""
    if idle:
        return IDLE_NICE
    return min(nice, IDLE_NICE) if nice > 0 else None


def parse_autogroup(text: str) -> tuple[str, int]:
    """``"/autogroup-85 nice 0"`` -> ``("/autogroup-85", 0)``."""
    name, word, nice = text.split()
    if word != "nice":
        raise ValueError(f"not an autogroup line: {text!r}")
    return name, int(nice)


def own_priority() -> tuple[int, bool]:
    """This process's nice value and whether it is on the idle scheduling class."""
    idle = hasattr(os, "SCHED_IDLE") and os.sched_getscheduler(0) == os.SCHED_IDLE
    return os.getpriority(os.PRIO_PROCESS, 0), idle


def carry_into_session() -> str:
    """Give this process's autogroup the nice its own priority asks for, if this process
    leads its session (then the autogroup holds only it and the children it started in
    it). What was done, in a few words, for a log line: ``"set to 19"``, ``"not needed"``,
    ``"no autogroups"``, ``"not a session leader"``, or why it failed.

    A process that does not lead its session is left alone: its autogroup is shared (a
    terminal's, say), and lowering it would slow everything else started there."""
    wanted = session_nice_for(*own_priority())
    if wanted is None:
        return "not needed"
    try:
        if AUTOGROUPS_ENABLED.read_text().strip() != "1" or not AUTOGROUP.exists():
            return "no autogroups"
    except OSError:
        return "no autogroups"
    if os.getsid(0) != os.getpid():
        return "not a session leader"
    for _ in range(_TRIES):
        try:
            AUTOGROUP.write_text(f"{wanted}\n")
        except OSError as error:
            if error.errno == errno.EAGAIN:
                time.sleep(_RETRY_SECONDS)
                continue
            return f"failed: {error.strerror}"
        return f"set to {wanted}"
    return "failed: the kernel kept refusing (EAGAIN)"
