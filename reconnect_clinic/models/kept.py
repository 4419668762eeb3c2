"""What a therapist had typed when the idle sign-out struck, kept until they sign in."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import TABLE_PREFIX, ClinicModel, RecordMixin
from .sealed import Sealed


class KeptForm(RecordMixin, ClinicModel):
    """A form post that arrived after the idle limit, kept server-side (never in the
    cookie: it is clinical text), sealed, for the therapist of the expired session only.
    It goes back into the form once that therapist has signed in again, then is deleted;
    it is never saved or signed from here (see ``security/accounts/kept_posts.py``)."""

    __tablename__ = f"{TABLE_PREFIX}kept_form"
    __table_args__ = (sa.UniqueConstraint("therapist_id", "path"),)

    therapist_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey(f"{TABLE_PREFIX}therapist.id"), index=True
    )
    # The page the form belongs to (a path of this site), where the text goes back.
    path: Mapped[str] = mapped_column(sa.String(500))
    # The posted fields, {name: [values]}, sealed: read and write ``fields``.
    fields_sealed: Mapped[str | None] = mapped_column("fields", sa.Text, default=None)
    fields = Sealed[dict[str, list[str]]]("fields", as_json=True, empty=dict)
