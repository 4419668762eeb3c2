"""Operations on a therapist's second factor: checking a code or a recovery code at
sign-in, issuing recovery codes, turning the second factor off. They flush; the view or
command commits once."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, cast

import sqlalchemy as sa

from ...models import RecoveryCode, Therapist, utcnow
from ...state import db_session
from .totp import accepted_step, new_recovery_codes, normalise_recovery_code
from .totp import recovery_code_hash as _hash


class Factor(StrEnum):
    """What proved the second factor."""

    APP_CODE = "app_code"
    RECOVERY_CODE = "recovery_code"


def check_second_factor(therapist: Therapist, text: str | None) -> Factor | None:
    """Accept ``text`` as the therapist's current app code or as one of their unused
    recovery codes, and spend it: an app code's time step is remembered and a recovery
    code is marked used, so that neither works a second time. None if it is neither."""
    step = accepted_step(therapist.totp_secret, text, after=therapist.totp_last_step)
    if step is not None:
        # Only a later step is stored: of two requests with codes of different steps,
        # the earlier one cannot move the mark back. (An UPDATE's result is a
        # CursorResult, with its rowcount; Session.execute types it as any Result.)
        updated = cast(
            sa.CursorResult[Any],
            db_session().execute(
                sa.update(Therapist)
                .where(
                    Therapist.id == therapist.id,
                    sa.or_(Therapist.totp_last_step.is_(None), Therapist.totp_last_step < step),
                )
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)
            ),
        )
        if updated.rowcount == 1:
            therapist.totp_last_step = step
            return Factor.APP_CODE
        return None
    if normalise_recovery_code(text) is None:
        return None
    # One statement marks the code used only if it is still unused, so two sign-ins with
    # the same code at the same moment cannot both pass.
    spent = cast(
        sa.CursorResult[Any],
        db_session().execute(
            sa.update(RecoveryCode)
            .where(
                RecoveryCode.therapist_id == therapist.id,
                RecoveryCode.code_hash == _hash(therapist.id, text or ""),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow(), updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ),
    )
    return Factor.RECOVERY_CODE if spent.rowcount == 1 else None


def issue_recovery_codes(therapist: Therapist) -> list[str]:
    """New recovery codes for ``therapist``, replacing every earlier one (used or not).
    The plain codes are returned to be shown once; only their hashes are stored."""
    db_session().execute(sa.delete(RecoveryCode).where(RecoveryCode.therapist_id == therapist.id))
    codes = new_recovery_codes()
    db_session().add_all(
        RecoveryCode(therapist_id=therapist.id, code_hash=_hash(therapist.id, code))
        for code in codes
    )
    db_session().flush()
    return codes


def recovery_codes_left(therapist: Therapist) -> int:
    return (
        db_session().scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.therapist_id == therapist.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def turn_off_second_factor(therapist: Therapist) -> None:
    """Back to password-only sign-in: the secret and every recovery code are removed."""
    therapist.totp_secret = None
    therapist.totp_last_step = None
    db_session().execute(sa.delete(RecoveryCode).where(RecoveryCode.therapist_id == therapist.id))
    db_session().flush()
