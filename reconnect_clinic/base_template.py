"""Checking the host's base template (``RECONNECT_CLINIC_BASE_TEMPLATE``) for the blocks
every clinic page fills.

The clinic's layout (``reconnect_clinic/_layout.html``) extends the configured base and
fills its ``title``, ``head`` (the clinic's stylesheet and script) and ``content`` blocks.
Jinja drops a block the base never renders without a word, so a base without ``head``
serves every clinic page unstyled and without its script, and one without ``content``
serves them empty. The check follows the base's own ``{% extends %}`` chain: a block only
counts when the chain's top template renders it (directly, or inside a block it renders).
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask, request
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    TemplateNotFound,
    TemplateSyntaxError,
    nodes,
)

from .blueprint import TEMPLATE_FOLDER

# The blocks reconnect_clinic/_layout.html fills.
REQUIRED_BLOCKS = ("title", "head", "content")


class BaseTemplateError(RuntimeError):
    """The configured base template lacks blocks the clinic's pages fill."""


def rendered_blocks(env: Environment, name: str) -> set[str] | None:
    """The blocks the template ``name`` renders, following its ``{% extends %}`` chain.

    None when the chain cannot be followed without rendering (an ``extends`` whose
    template is chosen at run time). Raises jinja2's TemplateNotFound or
    TemplateSyntaxError as loading the template would.
    """
    if env.loader is None:
        return None
    chain: list[nodes.Template] = []
    seen: set[str] = set()
    current: str | None = name
    while current is not None and current not in seen:
        seen.add(current)
        source, filename, _ = env.loader.get_source(env, current)
        tree = env.parse(source, current, filename)
        chain.append(tree)
        extends = tree.find(nodes.Extends)
        if extends is None:
            current = None
        elif isinstance(extends.template, nodes.Const) and isinstance(extends.template.value, str):
            current = extends.template.value
        else:
            return None
    # Definitions from the most derived template up; any of them may be rendered (the
    # most derived one, and the ones above it through super()).
    definitions: dict[str, list[nodes.Block]] = {}
    for tree in chain:
        for block in tree.find_all(nodes.Block):
            definitions.setdefault(block.name, []).append(block)
    rendered: set[str] = set()
    todo = [block.name for block in _direct_blocks(chain[-1])]
    while todo:
        block_name = todo.pop()
        if block_name in rendered:
            continue
        rendered.add(block_name)
        for definition in definitions.get(block_name, []):
            todo.extend(block.name for block in _direct_blocks(definition))
    return rendered


def missing_blocks(env: Environment, name: str) -> list[str]:
    """The required blocks the base template ``name`` does not render ([] when all are
    there, or when its chain cannot be followed)."""
    rendered = rendered_blocks(env, name)
    if rendered is None:
        return []
    return [block for block in REQUIRED_BLOCKS if block not in rendered]


def check_base_template(env: Environment, name: str) -> None:
    """Raise BaseTemplateError naming the required blocks ``name`` lacks."""
    missing = missing_blocks(env, name)
    if missing:
        listed = ", ".join(missing)
        raise BaseTemplateError(
            f"RECONNECT_CLINIC_BASE_TEMPLATE {name!r} does not render the block(s) {listed}: "
            "every clinic page fills `title` (inside <title>), `head` (inside <head>: the "
            "clinic's stylesheet and script) and `content` (inside <body>). Add "
            + " ".join(f"{{% block {block} %}}{{% endblock %}}" for block in missing)
            + " to it (or to the template it extends)."
        )


def check_now(app: Flask) -> bool:
    """Check ``app``'s base template now, before the clinic is registered on it.

    True when checked; False when the template cannot be loaded yet (it comes from a
    blueprint registered later, or uses a Jinja extension the host adds later): then
    :func:`check_at_first_request`. Raises BaseTemplateError when blocks are missing.
    It parses with an environment of its own, so that the app's ``jinja_env`` is not
    created before the host has finished setting it up.
    """
    options = dict(app.jinja_options)
    # The app's templates and those of blueprints registered so far, then the clinic's
    # (its blueprint is registered after them), as Flask's own environment looks.
    options.setdefault(
        "loader",
        ChoiceLoader([app.create_global_jinja_loader(), FileSystemLoader(TEMPLATE_FOLDER)]),
    )
    env = Environment(**options)  # noqa: S701 - parsed, never rendered
    try:
        check_base_template(env, app.config["RECONNECT_CLINIC_BASE_TEMPLATE"])
    except (TemplateNotFound, TemplateSyntaxError):
        return False
    return True


def check_at_first_request(app: Flask) -> None:
    """Check ``app``'s base template with its own Jinja environment at the first request
    to a clinic page (the host's pages are left alone); that request and every later
    one to the clinic fails with BaseTemplateError while blocks are missing."""
    checked = False

    def _check_base_template() -> None:
        nonlocal checked
        if checked or "reconnect_clinic" not in request.blueprints:
            return
        check_base_template(app.jinja_env, app.config["RECONNECT_CLINIC_BASE_TEMPLATE"])
        checked = True

    app.before_request(_check_base_template)


def _direct_blocks(node: nodes.Node) -> Iterator[nodes.Block]:
    """The blocks inside ``node`` that are not inside another block of it."""
    for child in node.iter_child_nodes():
        if isinstance(child, nodes.Block):
            yield child
        else:
            yield from _direct_blocks(child)
