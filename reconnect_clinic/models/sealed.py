"""The ``Sealed`` attribute: a model's value kept encrypted in its own column.

It lives beside the models it describes and finds the cipher through the extension's
state (``get_state().cipher``); ``security/encryption/cipher.py`` holds only the cipher itself. The
sealed attributes are found on the mappers (:func:`sealed_fields`), never listed by hand.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, Generic, Protocol, Self, TypeVar, cast, overload

from ..security.encryption.cipher import EncryptionError
from ..state import get_state
from .base import ClinicModel

# What a sealed attribute reads as: ``Sealed[str]`` for text, ``Sealed[str | None]`` for
# text in a nullable column with no ``empty``, ``Sealed[list[int]]`` for a JSON list.
T = TypeVar("T")


class SealedRow(Protocol):
    """What a sealed value is bound to: its row's table and id (every clinical model)."""

    @property
    def __tablename__(self) -> str: ...

    @property
    def id(self) -> uuid.UUID: ...


class Sealed(Generic[T]):
    """A model attribute kept encrypted in the column mapped as ``<name>_sealed``.

    ``note.content = {...}`` seals the value for this row; reading opens it. Text is the
    default; ``as_json=True`` stores any JSON value (a dict, a list, a number) as JSON
    text inside the seal; ``as_bytes=True`` seals bytes into a binary column. A column
    holding nothing reads as ``empty()`` (``None`` unless given, e.g. ``empty=dict``).
    The row's id must be known first; every clinical model gets its id when it is
    constructed.

    The type it reads as is written where it is declared, ``total = Sealed[int]("total",
    as_json=True)``: nothing checks a value against it when it is opened, so it must say
    what the model seals there (and ``| None`` when the column may hold nothing and no
    ``empty`` is given).
    """

    def __init__(
        self,
        column: str,
        *,
        as_json: bool = False,
        as_bytes: bool = False,
        empty: Callable[[], T] | None = None,
    ) -> None:
        if as_json and as_bytes:
            raise ValueError("a sealed value is JSON or bytes, not both")
        self.column = column
        self.as_json = as_json
        self.as_bytes = as_bytes
        self.empty = empty

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.storage = f"{name}_sealed"

    def _place(self, obj: SealedRow) -> dict[str, Any]:
        """Where the value lives, which its seal is bound to."""
        return {
            "table": obj.__tablename__,
            "column": self.column,
            "row_id": obj.id,
        }

    # On the class (``MeasureResult.total``) the attribute itself, which ``sealed_fields``
    # finds; on a row, the opened value.
    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...

    @overload
    def __get__(self, obj: SealedRow, owner: type | None = None) -> T: ...

    def __get__(self, obj: SealedRow | None, owner: type | None = None) -> Self | T:
        if obj is None:
            return self
        # Nothing checks an opened value against T (JSON reads back as Any): what was
        # sealed here was a T, since ``__set__`` takes only one, and a column that may hold
        # nothing is declared with ``| None`` in its T.
        return cast(T, self._open(obj))

    def _open(self, obj: SealedRow) -> object:
        stored = getattr(obj, self.storage)
        if stored is None:
            return self.empty() if self.empty is not None else None
        place = self._place(obj)
        if self.as_bytes:
            return get_state().cipher.open_bytes(stored, **place)
        text = get_state().cipher.open(stored, **place)
        return json.loads(text) if self.as_json else text

    def __set__(self, obj: SealedRow, value: T) -> None:
        if value is None:
            setattr(obj, self.storage, None)
            return
        if getattr(obj, "id", None) is None:
            raise EncryptionError(f"{type(obj).__name__}.{self.name} set before the row's id")
        place = self._place(obj)
        if self.as_bytes:
            if not isinstance(value, bytes | bytearray | memoryview):
                raise TypeError(f"{type(obj).__name__}.{self.name} takes bytes")
            setattr(obj, self.storage, get_state().cipher.seal_bytes(bytes(value), **place))
            return
        text = json.dumps(value, sort_keys=True) if self.as_json else str(value)
        setattr(obj, self.storage, get_state().cipher.seal(text, **place))


def sealed_fields() -> list[tuple[type[Any], str]]:
    """Every sealed attribute of every model, as (model, attribute), found on the mappers
    so a new one is never missed (key rotation and the at-rest test walk this)."""
    # type[Any]: a mapped class, whose columns (``model.id``, ``model.<name>_sealed``)
    # callers use as SQL; no one static type has them for every model.
    found: list[tuple[type[Any], str]] = []
    for mapper in ClinicModel.registry.mappers:
        model = mapper.class_
        names = {
            name
            for klass in model.__mro__
            for name, value in vars(klass).items()
            if isinstance(value, Sealed)
        }
        found.extend((model, name) for name in names)
    return sorted(found, key=lambda field: (field[0].__tablename__, field[1]))
