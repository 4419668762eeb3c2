"""A lower CPU priority that holds against the rest of the machine, autogroups included.

Linux's autogroups (``kernel.sched_autogroup_enabled``, on by default in most
distributions' kernels) share CPU time first between sessions, and only then between the
processes of one session: a process's nice value, or the idle scheduling class, ranks it
against its own session alone. A PDF worker leads a session of its own (so that a
terminal's Ctrl+C does not reach it), and so does a service a supervisor starts: at nice
19, or on SCHED_IDLE, each still had a full share against the web server's session, and a
batch of reports slowed the web as much as at nice 0. The session's rank is its
autogroup's own nice value, ``/proc/self/autogroup``; :func:`carry_into_session` lowers
it to what this process's priority asks, when the session is this process's own.

Autogroups apply only to processes in the root group of the cgroup CPU controller. In a
container, or a systemd unit or slice with that controller on, nothing here has an
effect (:func:`carry_into_session` says so): there the unit's ``CPUWeight=idle`` (or a low
``CPUWeight=``) is what ranks it against the web; ``Nice=`` ranks it only within its unit.
"""

from __future__ import annotations

import errno
import os
import random
import time
from pathlib import Path

AUTOGROUP = Path("/proc/self/autogroup")
AUTOGROUPS_ENABLED = Path("/proc/sys/kernel/sched_autogroup_enabled")
CGROUPS = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: What a process on the idle scheduling class asks of its session: the lowest rank.
IDLE_NICE = 19
# The kernel lets a process without CAP_SYS_ADMIN set an autogroup's nice once per tenth
# of a second, machine-wide (EAGAIN otherwise), and several PDF workers start together:
# retry at random moments until this deadline.
RETRY_SECONDS = (0.1, 0.3)
DEADLINE_SECONDS = 10.0


def session_nice_for(nice: int, idle: bool) -> int | None:
    """The nice a session should have for a process at ``nice`` (on the idle class if
    ``idle``), or None when the process asks for no lower priority than the default."""
    if idle:
        return IDLE_NICE
    return min(nice, IDLE_NICE) if nice > 0 else None


def parse_autogroup(text: str) -> tuple[str, int] | None:
    """``"/autogroup-85 nice 0"`` -> ``("/autogroup-85", 0)``; None for the empty text of
    a process in the default autogroup (one that no ``setsid`` has put in its own)."""
    if not text.strip():
        return None
    name, word, nice = text.split()
    if word != "nice":
        raise ValueError(f"not an autogroup line: {text!r}")
    return name, int(nice)


def own_priority() -> tuple[int, bool]:
    """This process's nice value and whether it is on the idle scheduling class."""
    idle = hasattr(os, "SCHED_IDLE") and os.sched_getscheduler(0) == os.SCHED_IDLE
    return os.getpriority(os.PRIO_PROCESS, 0), idle


def in_cpu_cgroup(cgroups: str, cgroup_root: Path = CGROUP_ROOT) -> bool:
    """Whether ``/proc/self/cgroup``'s text puts the process below the root of a cgroup
    CPU controller, where autogroups do not apply."""
    for line in cgroups.splitlines():
        _, controllers, path = line.split(":", 2)
        if path in ("", "/"):
            continue
        if "cpu" in controllers.split(","):  # cgroup v1
            return True
        if controllers == "":  # cgroup v2: is the CPU controller on for this group?
            parent = (cgroup_root / path.lstrip("/")).parent
            try:
                if "cpu" in (parent / "cgroup.subtree_control").read_text().split():
                    return True
            except OSError:
                continue
    return False


def carry_into_session() -> str:
    """Lower this process's autogroup to the nice its own priority asks for, if this
    process leads its session (then the autogroup holds only it and the children it
    started in it); never raise it. What was done, in a few words, for a log line:
    ``"set to 19"``, ``"not needed"``, ``"already 19"``, ``"no autogroups"``, ``"no
    effect in a CPU cgroup"``, ``"not a session leader"``, ``"in the default autogroup"``,
    or why it failed.

    A process that does not lead its session is left alone: its autogroup is shared (a
    terminal's, say), and lowering it would slow everything else started there."""
    wanted = session_nice_for(*own_priority())
    if wanted is None:
        return "not needed"
    try:
        if AUTOGROUPS_ENABLED.read_text().strip() != "1" or not AUTOGROUP.exists():
            return "no autogroups"
        if in_cpu_cgroup(CGROUPS.read_text()):
            return "no effect in a CPU cgroup"
        if os.getsid(0) != os.getpid():
            return "not a session leader"
        group = parse_autogroup(AUTOGROUP.read_text())
    except (OSError, ValueError) as error:
        return f"failed: {error}"
    if group is None:
        return "in the default autogroup"
    if group[1] >= wanted:
        return f"already {group[1]}"
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        try:
            write_autogroup_nice(wanted)
        except OSError as error:
            if error.errno == errno.EAGAIN and time.monotonic() < deadline:
                time.sleep(random.uniform(*RETRY_SECONDS))  # noqa: S311 - spacing, not secrets
                continue
            return f"failed: {error.strerror or error}"
        return f"set to {wanted}"


def write_autogroup_nice(nice: int) -> None:
    """Set this process's autogroup's nice value (``/proc/self/autogroup``)."""
    AUTOGROUP.write_text(f"{nice}\n")
