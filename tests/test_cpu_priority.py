"""A queue worker's lower CPU priority holds against other sessions
(reconnect_clinic/cpu_priority.py): the session's autogroup carries it, in the worker and
in each PDF worker, which leads a session of its own.

Without it, Linux's autogroups ranked a PDF worker at nice 19 or on SCHED_IDLE only
against its own session (itself), and a batch slowed the web as much as at nice 0
(bench/bench_queue.py measured the same reports per second at nice 0, 10 and --idle).
Each process that changes its priority here is a child of the test's own.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconnect_clinic import cpu_priority

ROOT = Path(__file__).resolve().parents[1]


def test_session_nice_follows_the_process_priority() -> None:
    assert cpu_priority.session_nice_for(0, idle=False) is None
    assert cpu_priority.session_nice_for(10, idle=False) == 10
    assert cpu_priority.session_nice_for(25, idle=False) == cpu_priority.IDLE_NICE
    assert cpu_priority.session_nice_for(0, idle=True) == cpu_priority.IDLE_NICE
    assert cpu_priority.session_nice_for(5, idle=True) == cpu_priority.IDLE_NICE


def test_an_autogroup_line_is_read() -> None:
    assert cpu_priority.parse_autogroup("/autogroup-85 nice 7\n") == ("/autogroup-85", 7)
    assert cpu_priority.parse_autogroup("") is None  # the default autogroup
    with pytest.raises(ValueError):
        cpu_priority.parse_autogroup("/autogroup-85 weight 7")


def test_a_cpu_cgroup_is_told_from_the_root(tmp_path: Path) -> None:
    v1_root = "4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/\n"
    assert not cpu_priority.in_cpu_cgroup(v1_root, tmp_path)
    assert cpu_priority.in_cpu_cgroup("1:cpu,cpuacct:/docker/abc\n", tmp_path)
    (tmp_path / "system.slice").mkdir()
    (tmp_path / "system.slice" / "cgroup.subtree_control").write_text("memory pids\n")
    assert not cpu_priority.in_cpu_cgroup("0::/system.slice/worker.service\n", tmp_path)
    (tmp_path / "system.slice" / "cgroup.subtree_control").write_text("cpu memory pids\n")
    assert cpu_priority.in_cpu_cgroup("0::/system.slice/worker.service\n", tmp_path)


@pytest.fixture
def fake_session(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """carry_into_session() of a session leader with autogroups on, at nice 10, whose
    autogroup is a file of the test's own (written through write_autogroup_nice)."""
    enabled = tmp_path / "sched_autogroup_enabled"
    enabled.write_text("1\n")
    cgroups = tmp_path / "cgroup"
    cgroups.write_text("0::/\n")
    group = tmp_path / "autogroup"
    group.write_text("/autogroup-1 nice 0\n")
    monkeypatch.setattr(cpu_priority, "AUTOGROUPS_ENABLED", enabled)
    monkeypatch.setattr(cpu_priority, "CGROUPS", cgroups)
    monkeypatch.setattr(cpu_priority, "AUTOGROUP", group)
    monkeypatch.setattr(cpu_priority, "own_priority", lambda: (10, False))
    monkeypatch.setattr(cpu_priority.os, "getsid", lambda pid: os.getpid())
    monkeypatch.setattr(cpu_priority, "RETRY_SECONDS", (0.001, 0.002))

    def write(nice: int) -> None:
        group.write_text(f"/autogroup-1 nice {nice}\n")

    monkeypatch.setattr(cpu_priority, "write_autogroup_nice", write)
    return group


def test_a_session_is_lowered_never_raised(fake_session: Path) -> None:
    assert cpu_priority.carry_into_session() == "set to 10"
    assert fake_session.read_text() == "/autogroup-1 nice 10\n"
    fake_session.write_text("/autogroup-1 nice 15\n")
    assert cpu_priority.carry_into_session() == "already 15"
    assert fake_session.read_text() == "/autogroup-1 nice 15\n"


def test_the_kernels_rate_limit_is_waited_out(
    fake_session: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusals = [2]
    write = cpu_priority.write_autogroup_nice

    def busy(nice: int) -> None:
        if refusals[0]:
            refusals[0] -= 1
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
        write(nice)

    monkeypatch.setattr(cpu_priority, "write_autogroup_nice", busy)
    assert cpu_priority.carry_into_session() == "set to 10"
    assert refusals == [0]
    refusals[0] = 10**6
    fake_session.write_text("/autogroup-1 nice 0\n")
    monkeypatch.setattr(cpu_priority, "DEADLINE_SECONDS", 0.05)
    assert cpu_priority.carry_into_session() == "failed: Resource temporarily unavailable"


def test_no_autogroup_of_its_own_or_a_cpu_cgroup_is_left_alone(fake_session: Path) -> None:
    fake_session.write_text("")
    assert cpu_priority.carry_into_session() == "in the default autogroup"
    fake_session.write_text("/autogroup-1 nice 0\n")
    cpu_priority.CGROUPS.write_text("1:cpu,cpuacct:/docker/abc\n")
    assert cpu_priority.carry_into_session() == "no effect in a CPU cgroup"
    assert fake_session.read_text() == "/autogroup-1 nice 0\n"


def _autogroups_on() -> bool:
    try:
        return cpu_priority.AUTOGROUPS_ENABLED.read_text().strip() == "1"
    except OSError:
        return False


needs_autogroups = pytest.mark.skipif(
    not _autogroups_on(), reason="Linux autogroups are off here (kernel.sched_autogroup_enabled)"
)

# A child that lowers its priority, then reports what carry_into_session did and what its
# autogroup now says.
_CHILD = """
import json, os, sys
from reconnect_clinic import cpu_priority
nice, idle = int(sys.argv[1]), sys.argv[2] == "idle"
os.setpriority(os.PRIO_PROCESS, 0, nice)
if idle:
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
done = cpu_priority.carry_into_session()
group = cpu_priority.parse_autogroup(cpu_priority.AUTOGROUP.read_text())
print(json.dumps({"done": done, "group_nice": group and group[1]}))
"""


def _child(nice: int, idle: bool, own_session: bool) -> dict[str, object]:
    if os.getpriority(os.PRIO_PROCESS, 0) > nice:
        pytest.skip("the tests run above this nice value already; a child cannot go lower")
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(nice), "idle" if idle else "normal"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        start_new_session=own_session,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


@needs_autogroups
def test_a_session_leader_carries_its_nice_into_its_autogroup() -> None:
    assert _child(7, idle=False, own_session=True) == {"done": "set to 7", "group_nice": 7}


@needs_autogroups
def test_the_idle_class_puts_its_session_last() -> None:
    assert _child(0, idle=True, own_session=True) == {"done": "set to 19", "group_nice": 19}


@needs_autogroups
def test_a_shared_session_is_left_alone() -> None:
    ours = cpu_priority.parse_autogroup(cpu_priority.AUTOGROUP.read_text())
    child = _child(7, idle=False, own_session=False)
    assert child["done"] == "not a session leader"
    assert child["group_nice"] == (ours and ours[1])
    assert cpu_priority.parse_autogroup(cpu_priority.AUTOGROUP.read_text()) == ours


@needs_autogroups
def test_a_default_priority_changes_nothing() -> None:
    assert _child(0, idle=False, own_session=True) == {"done": "not needed", "group_nice": 0}


# A process on the idle class (as `flask clinic worker --idle`) starts one PDF worker and
# reports what that worker's autogroup says.
_POOL_CHILD = """
import json, os
from reconnect_clinic import cpu_priority
from reconnect_clinic.reports.pdf import pool
os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
workers = pool.Pool()
workers.resize(1)
workers.warm_up()
try:
    (worker,) = workers._all
    path = f"/proc/{worker.process.pid}/autogroup"
    with open(path) as group:
        line = group.read()
    print(json.dumps({
        "reported": worker.session_priority,
        "group_nice": (cpu_priority.parse_autogroup(line) or ("", None))[1],
        "class_idle": os.sched_getscheduler(worker.process.pid) == os.SCHED_IDLE,
    }))
finally:
    workers.close()
"""


@needs_autogroups
def test_a_pdf_worker_of_an_idle_worker_puts_its_own_session_last() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _POOL_CHILD],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "reported": "set to 19",
        "group_nice": 19,
        "class_idle": True,
    }


def test_nothing_is_done_where_autogroups_are_off(fake_session: Path) -> None:
    cpu_priority.AUTOGROUPS_ENABLED.write_text("0\n")
    assert cpu_priority.carry_into_session() == "no autogroups"
    assert fake_session.read_text() == "/autogroup-1 nice 0\n"
