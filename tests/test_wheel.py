"""The package works when built as a wheel and installed into a fresh virtual environment:
templates, static files, taxonomy data and migrations travel inside the installed package.

The wheel is built without network access (``--no-build-isolation``), from a copy of the
source tree so that the build leaves no ``build/`` or ``*.egg-info`` in the repository.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent

# Files that must be inside the installed package, as wheel paths.
REQUIRED_IN_WHEEL = [
    "reconnect_clinic/__init__.py",
    "reconnect_clinic/py.typed",
    "reconnect_clinic/templates/reconnect_clinic/base.html",
    "reconnect_clinic/templates/reconnect_clinic/login.html",
    "reconnect_clinic/migrations/env.py",
    "reconnect_clinic/migrations/script.py.mako",
    "reconnect_clinic/migrations/versions/0001_initial.py",
    "reconnect_clinic/static/clinic.css",
    "reconnect_clinic/taxonomy/data/emotional_neglect.toml",
    "reconnect_clinic/homework/data/exercises.toml",
    "reconnect_clinic/risk/data/crisis_resources.toml",
    "reconnect_clinic/templates/reconnect_clinic/email/intake_link.txt",
    "reconnect_clinic/static/clinic.js",
    "reconnect_clinic/reports/assets/report.css",
    "reconnect_clinic/security/accounts/data/common_passwords.txt",
    "reconnect_clinic/reports/assets/fonts/Inter-Regular.otf",
    "reconnect_clinic/reports/assets/fonts/OFL.txt",
    "reconnect_clinic/reports/assets/fonts/NotoSansArabic-Regular.ttf",
    "reconnect_clinic/reports/assets/fonts/NotoSansCJKsc-Regular.otf",
    "reconnect_clinic/reports/assets/fonts/OFL-Noto.txt",
    "reconnect_clinic/migrations/versions/0004_notes.py",
]

# Run by the fresh venv's interpreter, from a directory outside the repository.
SMOKE_SCRIPT = textwrap.dedent(
    """
    import sys
    from importlib.resources import files
    from pathlib import Path

    venv, work, repo = (Path(arg).resolve() for arg in sys.argv[1:4])

    import reconnect_clinic

    package = Path(reconnect_clinic.__file__).resolve().parent
    assert package.is_relative_to(venv), f"imported {package}, not the installed wheel"
    assert not any(Path(p).resolve() == repo for p in sys.path if p), sys.path
    editable = [name for name in sys.modules if name.startswith("__editable__")]
    assert not editable, f"the editable install's finder is active: {editable}"

    import sqlalchemy as sa

    from reconnect_clinic import migrate, taxonomy
    from reconnect_clinic.demo import create_app
    from reconnect_clinic.demo import db

    script_location = Path(migrate.alembic_config().get_main_option("script_location"))
    assert script_location.resolve().is_relative_to(venv), script_location

    url = f"sqlite:///{work / 'wheel.sqlite'}"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True},
        instance_path=str(work / "instance"),
    )

    result = app.test_cli_runner().invoke(args=["clinic", "db-upgrade"])
    assert result.exit_code == 0, (result.output, result.exception)
    head = migrate.head_revision()
    assert head and f"at revision {head}" in result.output, result.output
    print(result.output.strip())

    with app.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
        assert "clinic_therapist" in tables and "clinic_alembic_version" in tables, tables
        template = app.jinja_env.get_template("reconnect_clinic/base.html")
        assert Path(template.filename).resolve().is_relative_to(venv), template.filename

    client = app.test_client()
    page = client.get("/clinic/login")
    assert page.status_code == 200, page.status_code
    assert "Sign in" in page.text, page.text[:500]

    css = client.get("/clinic/static/clinic.css")
    assert css.status_code == 200, css.status_code
    assert css.data == (files("reconnect_clinic") / "static" / "clinic.css").read_bytes()
    css.close()

    version = taxonomy.load().version
    assert version, "taxonomy has no version"
    print("taxonomy", version)

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    print("WHEEL OK")
    """
)


def _missing_build_requirements() -> list[str]:
    """The pyproject build requirements this interpreter lacks (``--no-build-isolation``
    builds with whatever is installed here, and pip does not check it)."""
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    missing = []
    for spec in requires:
        requirement = Requirement(spec)
        try:
            version = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(f"{spec} (not installed)")
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            missing.append(f"{spec} (found {version})")
    return missing


def _copy_sources(destination: Path) -> None:
    """Copy what git would ship (tracked and new, unignored files) to ``destination``."""
    try:
        listing = subprocess.run(
            [
                "git",
                "-C",
                str(REPO),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        shutil.copytree(
            REPO,
            destination,
            ignore=shutil.ignore_patterns(
                ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "instance", ".*cache"
            ),
        )
        return
    for name in filter(None, listing.split("\0")):
        source = REPO / name
        if source.is_file():  # tracked files deleted in the work tree are skipped
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(command)} exited {result.returncode}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result


def _build_litter() -> set[str]:
    return {
        path.name
        for path in REPO.iterdir()
        if path.name in {"build", "dist"} or path.name.endswith(".egg-info")
    }


def test_wheel_installs_and_runs_in_a_fresh_venv(tmp_path: Path) -> None:
    missing = _missing_build_requirements()
    if missing:
        pytest.skip(
            "building the wheel without network (--no-build-isolation) needs the build "
            f"requirements in {sys.executable}; missing: {', '.join(missing)}"
        )

    # Build from a copy of the sources, so the repository gets no build litter.
    litter_before = _build_litter()
    source = tmp_path / "src"
    _copy_sources(source)
    dist = tmp_path / "dist"
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(source),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "-w",
            str(dist),
        ],
        cwd=tmp_path,
    )
    assert _build_litter() == litter_before, "the build left files in the repository"
    # setuptools warns of a folder of files the package configuration does not name: the
    # packages in setup.cfg name every folder the wheel carries.
    build_output = built.stdout + built.stderr
    assert "Package would be ignored" not in build_output, build_output
    wheels = list(dist.glob("reconnect_clinic-*.whl"))
    assert len(wheels) == 1, wheels
    wheel = wheels[0]

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        licenses = [archive.read(n) for n in names if ".dist-info/" in n and n.endswith("/LICENSE")]
    # The licence travels in the wheel's metadata (setup.cfg's license_files).
    assert licenses == [(source / "LICENSE").read_bytes()], f"LICENSE not in {wheel.name}"
    for required in REQUIRED_IN_WHEEL:
        assert required in names, f"{required} missing from {wheel.name}"
    # Every page template and migration in the sources is shipped, not just the first ones.
    for html in (source / "templates").rglob("*.html"):
        shipped = "reconnect_clinic/templates/" + html.relative_to(source / "templates").as_posix()
        assert shipped in names, f"{shipped} missing from {wheel.name}"
    for script in (source / "migrations" / "versions").glob("*.py"):
        shipped = f"reconnect_clinic/migrations/versions/{script.name}"
        assert shipped in names, f"{shipped} missing from {wheel.name}"
    # Every module and data file of the package's own folder, in every subfolder (a new
    # subpackage left out of setup.cfg's list would otherwise be missing without a word).
    for path in (source / "reconnect_clinic").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            shipped = path.relative_to(source).as_posix()
            assert shipped in names, f"{shipped} missing from {wheel.name}"
    assert not [n for n in names if "tests" in Path(n).parts], "the wheel ships tests"
    top_level = {name.split("/", 1)[0] for name in names}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"reconnect_clinic"}, top_level

    # A fresh venv, with the wheel installed and nothing else.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    _run(
        [
            str(bin_dir / "pip"),
            "install",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            str(wheel),
        ],
        env=env,
        cwd=tmp_path,
    )

    # The dependencies come from this (outer) venv through a .pth file, so CI needs no
    # network to install them again. A directory named in a .pth file is only appended to
    # sys.path: it is not itself scanned for .pth files, so the outer venv's
    # __editable__...pth never runs, the editable install's finder is NOT activated, and
    # `import reconnect_clinic` finds the installed wheel (the new venv's own site-packages
    # also comes first on sys.path).
    inner_site = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        env=env,
    ).stdout.strip()
    outer_paths = dict.fromkeys(
        [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    )
    (Path(inner_site) / "outer_venv_dependencies.pth").write_text("\n".join(outer_paths) + "\n")

    work = tmp_path / "work"
    work.mkdir()
    script = work / "smoke.py"
    script.write_text(SMOKE_SCRIPT)
    # -I: isolated mode (no PYTHON* variables, no user site, script dir not on sys.path).
    result = subprocess.run(
        [str(python), "-I", str(script), str(venv), str(work), str(REPO)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=work,
        env=env,
    )
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, f"smoke script exited {result.returncode}\n{output}"
    assert "WHEEL OK" in result.stdout, f"smoke script exited {result.returncode}\n{output}"
