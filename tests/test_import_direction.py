"""Dependencies run one way: models <- queries/operations/services <- views.

Every module of the package is parsed (not imported) and every ``import`` in it is read,
at the top AND inside functions and ``TYPE_CHECKING`` blocks: an import inside a function
is still a dependency, and the cycles this guards against hid exactly there. A failure
prints each offending import as ``module:line -> imported module``.
"""

from __future__ import annotations

import ast
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import reconnect_clinic

PACKAGE = reconnect_clinic.__name__

# Modules that are not views but import them to register their routes on the
# blueprint. Each is listed with its reason; nothing else below a view may import one.
WIRING = {
    # init_app imports reconnect_clinic.views (which imports every views module) so the
    # blueprint has its routes before it is registered on the app.
    f"{PACKAGE}.extension": "init_app imports the views to register the routes",
}

# What the cipher primitives are: models may import these (and only these) from security.
CRYPTO_PRIMITIVES = {f"{PACKAGE}.security.encryption.cipher"}

# Layers a model must never reach for, by the module's last name.
ABOVE_MODELS = {"queries", "operations", "service"}


@dataclass(frozen=True)
class Import:
    module: str
    line: int
    imported: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} -> {self.imported}"


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: name -> (source file, is a package)."""
    found = {PACKAGE: (Path(reconnect_clinic.__file__), True)}
    for info in pkgutil.walk_packages(reconnect_clinic.__path__, prefix=f"{PACKAGE}."):
        folder = Path(info.module_finder.path)  # type: ignore[union-attr]
        last = info.name.rsplit(".", 1)[1]
        path = folder / last / "__init__.py" if info.ispkg else folder / f"{last}.py"
        found[info.name] = (path, info.ispkg)
    return found


MODULES = _modules()


def _known(name: str) -> str | None:
    """The package module ``name`` is, or lies in (``a.b.Thing`` -> ``a.b``)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> list[Import]:
    path, is_package = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            # ``from .homework import views`` imports the module homework.views;
            # ``from .homework.views import x`` imports homework.views for x.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            target = _known(name)
            if target is not None and target != module:
                found.append(Import(module, node.lineno, target))
    return found


IMPORTS = [edge for module in sorted(MODULES) for edge in _imports(module)]


def _last(module: str) -> str:
    return module.rpartition(".")[2]


def is_view(module: str) -> bool:
    """A views module: ``views.py`` or ``*_views.py`` (e.g. security/links/views.py)."""
    return _last(module) == "views" or _last(module).endswith("_views")


def _report(offenders: list[Import]) -> str:
    lines = "\n".join(f"  {edge}" for edge in offenders)
    print(lines)
    return f"{len(offenders)} import(s) against the direction:\n{lines}"


def test_the_walk_finds_the_package_and_its_views():
    assert f"{PACKAGE}.models.people" in MODULES
    assert is_view(f"{PACKAGE}.security.links.views")
    assert any(
        edge.module == f"{PACKAGE}.views" and edge.imported == f"{PACKAGE}.homework.views"
        for edge in IMPORTS
    )


def test_the_walk_sees_imports_inside_functions():
    # extension.py imports the views inside init_app, not at the top.
    assert any(
        edge.module == f"{PACKAGE}.extension" and edge.imported == f"{PACKAGE}.views"
        for edge in IMPORTS
    )


def test_the_wiring_list_names_real_modules():
    assert set(WIRING) <= set(MODULES)


def test_no_module_below_the_views_imports_a_view():
    offenders = [
        edge
        for edge in IMPORTS
        if is_view(edge.imported) and not is_view(edge.module) and edge.module not in WIRING
    ]
    assert offenders == [], _report(offenders)


def test_models_import_nothing_above_them():
    models = f"{PACKAGE}.models"
    offenders = [
        edge
        for edge in IMPORTS
        if (edge.module == models or edge.module.startswith(f"{models}."))
        and (
            _last(edge.imported) in ABOVE_MODELS
            or is_view(edge.imported)
            or (
                edge.imported.startswith(f"{PACKAGE}.security")
                and edge.imported not in CRYPTO_PRIMITIVES
            )
        )
    ]
    assert offenders == [], _report(offenders)


def test_the_cipher_primitives_import_no_models():
    # The other half of the old cycle: models use the cipher, the cipher knows no model.
    models = f"{PACKAGE}.models"
    offenders = [
        edge
        for edge in IMPORTS
        if edge.module in CRYPTO_PRIMITIVES
        and (edge.imported == models or edge.imported.startswith(f"{models}."))
    ]
    assert offenders == [], _report(offenders)
