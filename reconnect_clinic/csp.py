"""The clinic's Content-Security-Policy: closed by default, opened only as far as the
host configures (RECONNECT_CLINIC_CSP_EXTRA_SOURCES, RECONNECT_CLINIC_CSP_NONCE).
Plain functions; errors.py puts the header on the clinic's own responses."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from flask import g

from .state import config

# The directives a host may add sources to. The rest (object-src, base-uri,
# frame-ancestors, form-action) stay closed: no host layout needs them opened, and each
# guards against a whole kind of attack.
CSP_DIRECTIVES = ("default-src", "script-src", "style-src", "img-src", "font-src", "connect-src")
_BASE_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "object-src": ("'none'",),
    "base-uri": ("'none'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}


class CSPConfigError(ValueError):
    """RECONNECT_CLINIC_CSP_EXTRA_SOURCES names a directive that cannot be opened, or a
    source that would break the header."""


def checked_extra_sources(extra: Mapping[str, Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
    """The host's added sources, checked: known directives only, and sources without the
    characters that would end a directive or the header (so a typo cannot open or
    close more than it says)."""
    if not extra:
        return {}
    checked: dict[str, tuple[str, ...]] = {}
    for directive, sources in extra.items():
        if directive not in CSP_DIRECTIVES:
            raise CSPConfigError(
                f"RECONNECT_CLINIC_CSP_EXTRA_SOURCES: {directive!r} cannot be given sources;"
                f" use one of {', '.join(CSP_DIRECTIVES)}"
            )
        if isinstance(sources, str):
            raise CSPConfigError(
                f"RECONNECT_CLINIC_CSP_EXTRA_SOURCES[{directive!r}] must be a list of"
                f" sources, not the string {sources!r}"
            )
        for source in sources:
            if not source or any(c in source for c in " ;,\r\n") or source != source.strip():
                raise CSPConfigError(
                    f"RECONNECT_CLINIC_CSP_EXTRA_SOURCES[{directive!r}]: {source!r} is not"
                    " a single source (no spaces, commas, semicolons or line breaks)"
                )
        checked[directive] = tuple(sources)
    return checked


def content_security_policy(
    extra: Mapping[str, Sequence[str]] | None = None, nonce: str | None = None
) -> str:
    """No inline script or style anywhere (report previews' charts draw with SVG
    presentation attributes, which CSP does not count as inline style), nothing loaded
    from elsewhere, never framed; plus what the host added (``extra``, checked by
    :func:`checked_extra_sources`) and a per-request ``nonce`` for the host layout's own
    inline script and style, when configured."""
    policy = {name: list(sources) for name, sources in _BASE_POLICY.items()}
    for directive, sources in checked_extra_sources(extra).items():
        policy.setdefault(directive, ["'self'"])
        policy[directive].extend(s for s in sources if s not in policy[directive])
    if nonce:
        for directive in ("script-src", "style-src"):
            policy[directive].append(f"'nonce-{nonce}'")
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


def csp_nonce() -> str | None:
    """This request's nonce when RECONNECT_CLINIC_CSP_NONCE is on (made once, on first
    use), else None."""
    if not config("CSP_NONCE"):
        return None
    if "reconnect_clinic_csp_nonce" not in g:
        g.reconnect_clinic_csp_nonce = secrets.token_urlsafe(18)
    nonce: str = g.reconnect_clinic_csp_nonce
    return nonce
