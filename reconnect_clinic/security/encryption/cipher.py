"""Encryption at rest for every clinical value: session notes, addenda and the stored
PDFs of signed reports, partners' intake answers, scores, flags and consent signatures,
measures' item points and totals, homework as given (with therapists' notes and reasons),
check-ins and therapists' own exercises. What stays in clear, and why, is listed in
``models/at_rest.py``.

AES-256-GCM from ``cryptography``. Keys come from config, never from the database:
``RECONNECT_CLINIC_ENCRYPTION_KEYS`` maps a key id to a base64 key of 32 bytes, and
``RECONNECT_CLINIC_ENCRYPTION_KEY_ID`` names the one new values are sealed with. Old
keys stay listed until ``flask clinic rotate-keys`` has re-sealed everything.

Each value is bound to where it lives by associated data (table, column, row id): a
ciphertext copied into another row or column does not decrypt. A stored text value reads
``v1.<key id>.<base64 of nonce + ciphertext>``; a stored binary value (a report's PDF,
kept in a binary column) is the same without the base64: ``b"v1.<key id>." + nonce +
ciphertext``.

This module is the cipher only; the model attribute that uses it, ``Sealed``, lives
beside the models in ``models/sealed.py``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PREFIX = "v1"
NONCE_BYTES = 12
# The fingerprint key's own HKDF context: never the key itself, nor the audit key.
FINGERPRINT_INFO = b"reconnect_clinic fingerprint key v1"


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
        raw = self._encrypt(plaintext.encode("utf-8"), _aad(table, column, row_id))
        token = base64.urlsafe_b64encode(raw).decode("ascii")
        return f"{PREFIX}.{self.current}.{token}"

    def open(self, stored: str, *, table: str, column: str, row_id: uuid.UUID) -> str:
        try:
            prefix, key_id, token = stored.split(".", 2)
            raw = base64.urlsafe_b64decode(token)
        except (ValueError, binascii.Error):
            raise EncryptionError(
                f"{table}.{column} of {row_id} is not an encrypted value"
            ) from None
        return self._decrypt(prefix, key_id, raw, table, column, row_id).decode("utf-8")

    def seal_bytes(self, plaintext: bytes, *, table: str, column: str, row_id: uuid.UUID) -> bytes:
        """Like :meth:`seal`, for binary columns: the same layout, with no base64."""
        raw = self._encrypt(plaintext, _aad(table, column, row_id))
        return f"{PREFIX}.{self.current}.".encode("ascii") + raw

    def open_bytes(self, stored: bytes, *, table: str, column: str, row_id: uuid.UUID) -> bytes:
        try:
            prefix, key_id, raw = bytes(stored).split(b".", 2)
            prefix_text, key_text = prefix.decode("ascii"), key_id.decode("ascii")
        except (ValueError, UnicodeDecodeError):
            raise EncryptionError(
                f"{table}.{column} of {row_id} is not an encrypted value"
            ) from None
        return self._decrypt(prefix_text, key_text, raw, table, column, row_id)

    def _encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + AESGCM(self.keys[self.current]).encrypt(nonce, plaintext, aad)

    def _decrypt(
        self, prefix: str, key_id: str, raw: bytes, table: str, column: str, row_id: uuid.UUID
    ) -> bytes:
        if prefix != PREFIX:
            raise EncryptionError(f"{table}.{column} of {row_id}: unknown format {prefix!r}")
        key = self.keys.get(key_id)
        if key is None:
            raise EncryptionError(
                f"{table}.{column} of {row_id} was sealed with key {key_id!r}, which is not "
                "configured (keep old keys until `flask clinic rotate-keys` has run)"
            )
        try:
            return AESGCM(key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(table, column, row_id)
            )
        except InvalidTag:
            raise EncryptionError(
                f"{table}.{column} of {row_id} does not decrypt here (changed, or copied "
                "from another place)"
            ) from None

    def fingerprint(self, context: str, fields: Mapping[str, str]) -> str:
        """A keyed hash (HMAC-SHA256, hex) of ``fields`` under a key derived (HKDF) from
        the current key; ``context`` names its use, so two uses never share one. Equal
        fields give equal fingerprints, so a unique column can hold it, and without the
        key it says nothing (not even by trying the few values a field can take). It
        changes with the current key: whoever stores one sets it again when the sealed
        value beside it is re-sealed (``flask clinic rotate-keys``)."""
        key = _fingerprint_key(self.keys[self.current])
        message = json.dumps({"context": context, **fields}, sort_keys=True)
        return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()

    def cipher_key(self, stored: str | bytes) -> str:
        """The id of the key that sealed ``stored`` (a text or a binary sealed value)."""
        if isinstance(stored, str):
            return stored.split(".", 2)[1]
        return bytes(stored).split(b".", 2)[1].decode("ascii", "replace")


@functools.cache
def _fingerprint_key(encryption_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=FINGERPRINT_INFO).derive(
        encryption_key
    )


def _aad(table: str, column: str, row_id: uuid.UUID) -> bytes:
    return f"{table}|{column}|{row_id}".encode()


def cipher() -> FieldCipher:
    """The current app's cipher (built and checked at ``init_app``)."""
    built: FieldCipher = current_app.extensions["reconnect_clinic"].cipher  # the ClinicState's
    return built


def new_key() -> str:
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")
