"""Encryption at rest for free text: session notes, addenda, reflections, therapists'
notes on homework and partners' intake answers.

AES-256-GCM from ``cryptography``. Keys come from config, never from the database:
``RECONNECT_CLINIC_ENCRYPTION_KEYS`` maps a key id to a base64 key of 32 bytes, and
``RECONNECT_CLINIC_ENCRYPTION_KEY_ID`` names the one new values are sealed with. Old
keys stay listed until ``flask clinic rotate-keys`` has re-sealed everything.

Each value is bound to where it lives by associated data (table, column, row id): a
ciphertext copied into another row or column does not decrypt. A stored value reads
``v1.<key id>.<base64 of nonce + ciphertext>``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

PREFIX = "v1"
NONCE_BYTES = 12


class EncryptionError(ValueError):
    """A value cannot be sealed or opened: a missing key, or a value that is not what
    its place says it should be (tampered, or copied from elsewhere)."""


@dataclass(frozen=True)
class FieldCipher:
    keys: Mapping[str, bytes]
    current: str

    @classmethod
    def from_config(cls, keys: Mapping[str, str] | None, current: str | None) -> FieldCipher:
        """Check the configured keys; raises EncryptionError saying what is wrong."""
        if not keys or not current:
            raise EncryptionError(
                "reconnect_clinic encrypts free text at rest and needs keys: set "
                "RECONNECT_CLINIC_ENCRYPTION_KEYS = {'<id>': '<key>'} and "
                "RECONNECT_CLINIC_ENCRYPTION_KEY_ID = '<id>' (make a key with "
                "`flask clinic new-key`)"
            )
        decoded = {}
        for key_id, text in keys.items():
            if not key_id or "." in key_id:
                raise EncryptionError(f"encryption key id {key_id!r} must be non-empty, no dots")
            try:
                raw = base64.urlsafe_b64decode(text)
            except (binascii.Error, ValueError, TypeError):
                raise EncryptionError(f"encryption key {key_id!r} is not base64") from None
            if len(raw) != 32:
                raise EncryptionError(f"encryption key {key_id!r} must be 32 bytes (AES-256)")
            decoded[key_id] = raw
        if current not in decoded:
            raise EncryptionError(f"RECONNECT_CLINIC_ENCRYPTION_KEY_ID {current!r} is not a key")
        return cls(keys=decoded, current=current)

    def seal(self, plaintext: str, *, table: str, column: str, row_id: uuid.UUID) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current]).encrypt(
            nonce, plaintext.encode("utf-8"), _aad(table, column, row_id)
        )
        token = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{PREFIX}.{self.current}.{token}"

    def open(self, stored: str, *, table: str, column: str, row_id: uuid.UUID) -> str:
        try:
            prefix, key_id, token = stored.split(".", 2)
            raw = base64.urlsafe_b64decode(token)
        except (ValueError, binascii.Error):
            raise EncryptionError(
                f"{table}.{column} of {row_id} is not an encrypted value"
            ) from None
        if prefix != PREFIX:
            raise EncryptionError(f"{table}.{column} of {row_id}: unknown format {prefix!r}")
        key = self.keys.get(key_id)
        if key is None:
            raise EncryptionError(
                f"{table}.{column} of {row_id} was sealed with key {key_id!r}, which is not "
                "configured (keep old keys until `flask clinic rotate-keys` has run)"
            )
        try:
            plain = AESGCM(key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(table, column, row_id)
            )
        except InvalidTag:
            raise EncryptionError(
                f"{table}.{column} of {row_id} does not decrypt here (changed, or copied "
                "from another place)"
            ) from None
        return plain.decode("utf-8")

    def cipher_key(self, stored: str) -> str:
        """The id of the key that sealed ``stored``."""
        return stored.split(".", 2)[1]


def _aad(table: str, column: str, row_id: uuid.UUID) -> bytes:
    return f"{table}|{column}|{row_id}".encode()


def cipher() -> FieldCipher:
    """The current app's cipher (built and checked at ``init_app``)."""
    return current_app.extensions["reconnect_clinic"].cipher  # type: ignore[no-any-return]


def new_key() -> str:
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")


class Sealed:
    """A model attribute kept encrypted in the column mapped as ``<name>_sealed``.

    ``note.content = {...}`` seals the value for this row; reading opens it. JSON values
    (``as_json=True``) are stored as JSON text inside the seal. The row's id must be
    known first; every clinical model gets its id when it is constructed.
    """

    def __init__(self, column: str, *, as_json: bool = False) -> None:
        self.column = column
        self.as_json = as_json

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.storage = f"{name}_sealed"

    def __get__(self, obj: object, owner: type | None = None) -> object:
        if obj is None:
            return self
        stored = getattr(obj, self.storage)
        if stored is None:
            return {} if self.as_json else None
        text = cipher().open(
            stored,
            table=obj.__tablename__,
            column=self.column,
            row_id=obj.id,  # type: ignore[attr-defined]
        )
        return json.loads(text) if self.as_json else text

    def __set__(self, obj: object, value: object) -> None:
        if value is None:
            setattr(obj, self.storage, None)
            return
        if getattr(obj, "id", None) is None:
            raise EncryptionError(f"{type(obj).__name__}.{self.name} set before the row's id")
        text = json.dumps(value, sort_keys=True) if self.as_json else str(value)
        setattr(
            obj,
            self.storage,
            cipher().seal(
                text,
                table=obj.__tablename__,
                column=self.column,
                row_id=obj.id,  # type: ignore[attr-defined]
            ),
        )


# Every sealed field: (model, attribute), for key rotation and the records export.
def sealed_fields() -> list[tuple[type, str]]:
    from ..models import HomeworkAssignment, HomeworkCheckIn, IntakePage, NoteAddendum, SessionNote

    return [
        (SessionNote, "content"),
        (NoteAddendum, "body"),
        (IntakePage, "values"),
        (HomeworkCheckIn, "reflection"),
        (HomeworkAssignment, "therapist_note"),
    ]
