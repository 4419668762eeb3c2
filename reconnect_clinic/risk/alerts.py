"""The therapist's email when a disclosure opens a risk: one per risk opened, sent once,
naming no client and no answer ("a case needs your attention" and a link to the case).

Email can be read on a lock screen, forwarded or kept by a mail provider, so it says
nothing but that a case needs attention: the therapist signs in to see what.

Sending waits for the commit that stored the disclosure (a rolled-back save owes no
email): the operation queues the rows, and a hook after the request sends them. Each is
claimed before it goes out (``alerted_at`` set in a committed update that only one
sender can win) and released again if sending fails, so a retry, a second worker or
``flask clinic send-risk-alerts`` never sends it twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context, render_template, url_for

from ..mail import mail_enabled, public_url, send_mail
from ..models import Couple, Partner, RiskDisclosure, Therapist, utcnow
from ..security.audit.log import record_event
from ..state import config, db_session

log = logging.getLogger(__name__)
_QUEUE = "reconnect_clinic_risk_alerts"
SUBJECT = "A case needs your attention"


def enabled() -> bool:
    """Whether a new risk owes the therapist an email: SMTP is set up and the practice
    has not turned these emails off."""
    return bool(config("RISK_ALERT_EMAILS")) and mail_enabled()


def after_commit(disclosure_ids: Iterable[uuid.UUID]) -> None:
    """Queue these disclosures' emails for the end of the request (see the module)."""
    ids = list(disclosure_ids)
    if ids and has_app_context():
        g.setdefault(_QUEUE, []).extend(ids)


def send_queued(response: object) -> object:
    """After a request: send the emails its operations queued, once their rows are
    committed. Never fails the request: an email not sent stays due for the next try."""
    ids = g.pop(_QUEUE, None) if has_app_context() else None
    if not ids:
        return response
    session = db_session()
    try:
        # What the view did not commit is not kept (the request's end would roll it back
        # too): a disclosure rolled back is not found below and owes no email.
        session.rollback()
        send_due(ids)
    except Exception:  # the partner's page must not fail for an email
        session.rollback()
        log.exception("risk alert emails could not be sent; they stay due")
    return response


def due_rows(ids: Iterable[uuid.UUID] | None = None) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """(disclosure id, couple id, therapist's email) of every email due and not sent."""
    query = (
        sa.select(RiskDisclosure.id, Couple.id, Therapist.email)
        .join(Partner, Partner.id == RiskDisclosure.partner_id)
        .join(Couple, Couple.id == Partner.couple_id)
        .join(Therapist, Therapist.id == Couple.therapist_id)
        .where(
            RiskDisclosure.alert_due.is_(True),
            RiskDisclosure.alerted_at.is_(None),
            Couple.deleted_at.is_(None),
        )
        .order_by(RiskDisclosure.first_seen_at)
    )
    if ids is not None:
        query = query.where(RiskDisclosure.id.in_(list(ids)))
    return [
        (disclosure_id, couple_id, email)
        for disclosure_id, couple_id, email in db_session().execute(query)
    ]


def send_due(ids: Iterable[uuid.UUID] | None = None) -> tuple[int, int]:
    """Send each due email once, committing around each. Returns (sent, failed); a
    failed one is released, to be tried again."""
    session = db_session()
    rows = due_rows(ids)
    session.commit()
    sent = failed = 0
    for disclosure_id, couple_id, email in rows:
        claimed_at = utcnow()
        # An UPDATE's result is a CursorResult, with its rowcount (typed as any Result).
        claimed = cast(
            sa.CursorResult[Any],
            session.execute(
                sa.update(RiskDisclosure)
                .where(RiskDisclosure.id == disclosure_id, RiskDisclosure.alerted_at.is_(None))
                .values(alerted_at=claimed_at)
                .execution_options(synchronize_session=False)
            ),
        )
        session.commit()
        if claimed.rowcount != 1:
            continue  # another sender won it
        body = render_template(
            "reconnect_clinic/email/risk_alert.txt",
            url=couple_url(couple_id),
            practice=config("PRACTICE_NAME"),
        )
        try:
            send_mail(email, SUBJECT, body)
        except Exception:
            session.execute(
                sa.update(RiskDisclosure)
                .where(RiskDisclosure.id == disclosure_id, RiskDisclosure.alerted_at == claimed_at)
                .values(alerted_at=None)
                .execution_options(synchronize_session=False)
            )
            session.commit()
            log.warning("risk alert email to the therapist of a case failed; it stays due")
            failed += 1
            continue
        record_event(
            "risk.alert", actor=None, couple_id=couple_id, detail={"disclosure": str(disclosure_id)}
        )
        session.commit()
        sent += 1
    return sent, failed


def couple_url(couple_id: uuid.UUID) -> str:
    """The case's page as an absolute address (RECONNECT_CLINIC_PUBLIC_URL when set)."""
    path = url_for("reconnect_clinic.couple_detail", couple_id=couple_id)
    if has_request_context():
        return public_url(path)
    return str(config("PUBLIC_URL") or "").rstrip("/") + path
