"""The WeasyPrint and pydyf versions the PDF layer supports
(reconnect_clinic/reports/pdf/compat.py): the installed ones are inside compat's range,
setup.cfg bounds them to the same range, every private internal compat relies on
exists, and no other module reaches into a private internal.
"""

from __future__ import annotations

import configparser
import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from reconnect_clinic.reports.pdf import compat

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "reconnect_clinic"


def _requirement(name: str) -> str:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    lines = parser["options"]["install_requires"].split("\n")
    [line] = [line.strip() for line in lines if re.match(rf"\s*{name}\b", line)]
    return line


@pytest.mark.parametrize("name", sorted(compat.SUPPORTED))
def test_the_installed_version_is_supported(name: str) -> None:
    assert compat.is_supported(name, version(name)), (name, version(name))


@pytest.mark.parametrize("name", sorted(compat.SUPPORTED))
def test_setup_cfg_bounds_each_library_to_the_supported_range(name: str) -> None:
    lowest, first_unsupported = compat.SUPPORTED[name]
    low = ".".join(map(str, lowest))
    high = ".".join(map(str, first_unsupported))
    assert _requirement(name) == f"{name}>={low},<{high}"


def test_is_supported_keeps_to_the_range() -> None:
    assert compat.is_supported("weasyprint", "70.0")
    assert compat.is_supported("weasyprint", "70.2")
    assert not compat.is_supported("weasyprint", "69.9")
    assert not compat.is_supported("weasyprint", "71.0")
    assert not compat.is_supported("pydyf", "0.14.0")


def test_every_private_internal_compat_relies_on_exists() -> None:
    # In a child process, as a worker is: this test process never imports WeasyPrint.
    code = (
        "import json; from reconnect_clinic.reports.pdf import compat; "
        "print(json.dumps(compat.missing_internals()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(result.stdout) == []


# What counts as reaching into WeasyPrint's or pydyf's internals.
_PRIVATE = re.compile(
    r"weasyprint\.text\b|\bimport pydyf\b|\bpydyf\.|\._config\b|\._folder\b|_to_bytes"
    r"|FontConfiguration"
)


def test_no_module_but_compat_reaches_into_private_internals() -> None:
    users = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if _PRIVATE.search(path.read_text())
    )
    assert users == ["reports/pdf/compat.py"]


def test_only_the_pdf_layer_imports_weasyprint() -> None:
    importers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if re.search(r"^\s*(from|import)\s+weasyprint\b", path.read_text(), re.MULTILINE)
    )
    assert importers == [
        "reports/pdf/compat.py",
        "reports/pdf/engine.py",
        "reports/pdf/fetcher.py",
    ]
