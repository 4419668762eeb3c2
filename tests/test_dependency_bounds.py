"""The lower bounds setup.cfg declares are the versions CI tests with: every dependency
of the package is pinned at exactly its lower bound in .ci/lower-bounds.txt, which
`make test-lower-bounds` installs."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(.*)$")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def declared_lower_bounds() -> dict[str, str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    bounds = {}
    for line in config["options"]["install_requires"].splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = REQUIREMENT.match(line)
        assert match, line
        name, spec = match.groups()
        lower = re.search(r">=\s*([^,\s]+)", spec)
        assert lower, f"{name} in install_requires has no lower bound"
        bounds[_name(name)] = lower.group(1)
    return bounds


def pinned_versions() -> dict[str, str]:
    pins = {}
    for line in (ROOT / ".ci" / "lower-bounds.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_name(name)] = version
    return pins


def _release(version: str) -> tuple[int, ...]:
    parts = [int(p) for p in version.split(".")]
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts)


def test_every_dependency_is_tested_at_its_lower_bound():
    declared = declared_lower_bounds()
    pins = pinned_versions()
    assert sorted(pins) == sorted(declared)
    mismatched = {
        name: (bound, pins[name])
        for name, bound in declared.items()
        if _release(bound) != _release(pins[name])
    }
    assert mismatched == {}
