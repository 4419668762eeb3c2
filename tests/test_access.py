"""The ownership decision behind every couple query, as a plain function."""

from __future__ import annotations

import uuid

import pytest

from reconnect_clinic.security.access import may_access_couple

OWNER, OTHER = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(
    ("therapist_id", "is_admin", "admins_see_all", "expected"),
    [
        (OWNER, False, False, True),
        (OWNER, True, False, True),
        (OTHER, False, False, False),
        (OTHER, False, True, False),
        (OTHER, True, False, False),
        (OTHER, True, True, True),
    ],
)
def test_may_access_couple(therapist_id, is_admin, admins_see_all, expected):
    assert (
        may_access_couple(
            therapist_id=therapist_id,
            therapist_is_admin=is_admin,
            couple_therapist_id=OWNER,
            admins_see_all=admins_see_all,
        )
        is expected
    )
