"""Client links: state rules, token handling and issuing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from reconnect_clinic.models import ClientLink
from reconnect_clinic.security.links.tokens import (
    LinkState,
    find_link,
    hash_token,
    issue_link,
    link_state,
    plausible_token,
)
from reconnect_clinic.state import db_session

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
EARLIER = NOW - timedelta(days=1)


@pytest.mark.parametrize(
    ("expires_at", "revoked_at", "used_at", "expected"),
    [
        (LATER, None, None, LinkState.USABLE),
        (LATER, None, EARLIER, LinkState.COMPLETED),
        (NOW, None, None, LinkState.EXPIRED),
        (EARLIER, None, EARLIER, LinkState.EXPIRED),
        (LATER, EARLIER, None, LinkState.REVOKED),
        (EARLIER, EARLIER, EARLIER, LinkState.REVOKED),
    ],
)
def test_link_state(expires_at, revoked_at, used_at, expected):
    state = link_state(now=NOW, expires_at=expires_at, revoked_at=revoked_at, used_at=used_at)
    assert state is expected


@pytest.mark.parametrize(
    ("token", "ok"),
    [
        ("a" * 43, True),
        ("short", False),
        ("a" * 101, False),
        ("a" * 30 + "/../" + "b" * 10, False),
        ("a" * 30 + " " + "b" * 10, False),
    ],
)
def test_plausible_token(token, ok):
    assert plausible_token(token) is ok


def test_only_the_hash_is_stored_and_a_new_link_replaces_the_old(app, make):
    owner = make.therapist()
    couple = make.couple(owner)
    first = issue_link(couple.partner_a, "intake", created_by=owner, lifetime=timedelta(days=14))
    db_session().commit()
    assert first.link.token_hash == hash_token(first.token)
    assert first.token not in first.link.token_hash
    assert len(first.token) >= 43
    assert find_link(first.token, "intake").id == first.link.id
    assert find_link(first.token, "homework") is None
    assert find_link("x" * 43, "intake") is None

    second = issue_link(couple.partner_a, "intake", created_by=owner, lifetime=timedelta(days=14))
    db_session().commit()
    assert second.token != first.token
    db_session().refresh(first.link)
    assert first.link.revoked_at is not None
    # A link for the other partner is untouched.
    issue_link(couple.partner_b, "intake", created_by=owner, lifetime=timedelta(days=14))
    db_session().commit()
    db_session().refresh(second.link)
    assert second.link.revoked_at is None
    assert db_session().scalar(sa.select(sa.func.count()).select_from(ClientLink)) == 3
