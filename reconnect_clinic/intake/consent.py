"""The consent a partner signs: the practice's consent text and, when the practice has
one, its "no-secrets" policy, as one document with a fingerprint.

What the consent page shows and what an intake stores as signed are both built here from
the same two settings, so they cannot drift apart; an intake keeps the text itself
(sealed) and its SHA-256, so a later change to the settings never rewrites what a
partner signed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import IntakeResponse

CONSENT_PAGE = "consent"
NO_SECRETS_HEADING = "Our no-secrets policy"


@dataclass(frozen=True, slots=True)
class ConsentDocument:
    """The consent as one partner reads and signs it."""

    text: str
    no_secrets_policy: str | None = None
    policy_heading: str = NO_SECRETS_HEADING

    @property
    def signed_text(self) -> str:
        """The exact words signed: the consent text, then the policy under its heading."""
        parts = [self.text.strip()]
        if self.no_secrets_policy:
            parts.append(f"{self.policy_heading}\n{self.no_secrets_policy.strip()}")
        return "\n\n".join(parts)

    @property
    def sha256(self) -> str:
        return consent_digest(self.signed_text)


def consent_digest(text: str) -> str:
    """SHA-256 (hex) of a consent text as stored: the same words, the same value."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def consent_document(text: str, no_secrets_policy: str | None) -> ConsentDocument:
    """The document for the practice's settings (a blank policy counts as none)."""
    policy = (no_secrets_policy or "").strip() or None
    return ConsentDocument(text=text, no_secrets_policy=policy)


def configured_consent() -> ConsentDocument:
    """The current app's consent (``RECONNECT_CLINIC_CONSENT_TEXT`` and
    ``RECONNECT_CLINIC_NO_SECRETS_POLICY``), in the partner's language (i18n.py).

    Only the built-in text has a translation: a practice's own text is shown, and
    signed, in its own words. The page and the signature both come from here, so what
    is stored as signed is what the partner read, in the language they read it in.
    """
    from .. import i18n
    from ..state import config

    def shown(text: str | None) -> str | None:
        # gettext("") would answer with the catalogue's header.
        return i18n.gettext(text) if text else text

    document = consent_document(
        shown(config("CONSENT_TEXT")) or "", shown(config("NO_SECRETS_POLICY"))
    )
    return replace(document, policy_heading=shown(NO_SECRETS_HEADING) or NO_SECRETS_HEADING)


def consent_pending(response: IntakeResponse, slugs: Sequence[str]) -> bool:
    """Whether this intake still waits for a consent that comes first (``slugs`` is the
    intake's page order): until it is signed, no other page is shown or saved."""
    if not slugs or slugs[0] != CONSENT_PAGE:
        return False
    return not any(page.page == CONSENT_PAGE and page.complete for page in response.pages)
