"""Key rotation: re-seal every encrypted value under the current key."""

from __future__ import annotations

import sqlalchemy as sa

from ...models.sealed import sealed_fields
from ...state import db_session
from .cipher import cipher

# Stored report PDFs are large: fewer of them are held in memory at once.
BYTES_BATCH = 20


def rotate_keys(batch: int = 500) -> dict[str, int]:
    """Open each sealed value with whichever configured key sealed it and seal it again
    with the current key (flushed in batches; the CLI commits). Returns counts per field,
    for every sealed attribute of every model (``sealed_fields`` finds them)."""
    current = cipher()
    session = db_session()
    counts: dict[str, int] = {}
    for model, name in sealed_fields():
        column = getattr(model, f"{name}_sealed")
        key = f"{model.__tablename__}.{name}"
        size = min(batch, BYTES_BATCH) if getattr(model, name).as_bytes else batch
        counts[key] = 0
        last_id = None
        while True:
            query = sa.select(model).where(column.is_not(None)).order_by(model.id).limit(size)
            if last_id is not None:
                query = query.where(model.id > last_id)
            rows = session.scalars(query).all()
            if not rows:
                break
            for row in rows:
                stored = getattr(row, f"{name}_sealed")
                if current.cipher_key(stored) != current.current:
                    setattr(row, name, getattr(row, name))  # opens with the old, seals anew
                    counts[key] += 1
            session.flush()
            last_id = rows[-1].id
    return counts
