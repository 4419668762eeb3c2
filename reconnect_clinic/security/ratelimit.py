"""Counting failures (bad link tokens, failed logins) and refusing when there are too many.

Built on the ``limits`` package (the engine behind Flask-Limiter), used directly because
only failures count here: a partner using their own good link is never slowed down. The
storage is in memory by default; a practice running several worker processes points
``RECONNECT_CLINIC_RATELIMIT_STORAGE_URI`` at Redis so the workers share one count.

A shared store that fails (Redis down, unreachable, refusing) must not turn a sign-in
into an error page, nor lift the limits: the counting goes on in the process's own
memory, with a warning in the log, and the shared store is tried again after
``RETRY_SHARED_AFTER`` seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from limits import RateLimitItem, errors, parse, storage, strategies

logger = logging.getLogger(__name__)

#: Seconds between tries of a shared store that failed (meanwhile each process counts on
#: its own): short enough to share counts again soon, long enough that an outage does
#: not cost every sign-in a failed connection.
RETRY_SHARED_AFTER = 30.0
# A store that does not answer must not hold a sign-in for long either.
_REDIS_TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}
_T = TypeVar("_T")


def storage_options(storage_uri: str, namespace: str) -> dict[str, float | str | bool]:
    """What ``limits`` is given besides the address of the store: its errors raised as
    one kind (:class:`limits.errors.StorageError`), and for Redis short timeouts and keys
    of their own under ``reconnect_clinic:<namespace>`` (so that clearing one limiter's
    counts never touches another application's)."""
    options: dict[str, float | str | bool] = {"wrap_exceptions": True}
    if storage_uri.startswith(("redis", "valkey")):
        options.update(_REDIS_TIMEOUTS, key_prefix=f"reconnect_clinic:{namespace}")
    return options


@dataclass
class FailureLimiter:
    limiter: strategies.MovingWindowRateLimiter
    item: RateLimitItem
    namespace: str
    #: Where counts go while a shared store fails; None when the store is memory already.
    fallback: strategies.MovingWindowRateLimiter | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _shared_down_until: float = field(default=0.0, repr=False)

    @classmethod
    def create(cls, storage_uri: str, limit: str, namespace: str) -> FailureLimiter:
        shared = storage.storage_from_string(storage_uri, **storage_options(storage_uri, namespace))
        in_memory = isinstance(shared, storage.MemoryStorage)
        return cls(
            limiter=strategies.MovingWindowRateLimiter(shared),
            item=parse(limit),
            namespace=namespace,
            fallback=None
            if in_memory
            else strategies.MovingWindowRateLimiter(storage.MemoryStorage()),
        )

    def _run(self, operation: Callable[[strategies.MovingWindowRateLimiter], _T]) -> _T:
        """``operation`` on the shared store, or on the process's own memory while the
        shared store fails."""
        if self.fallback is None:
            return operation(self.limiter)
        if self.clock() >= self._shared_down_until:
            try:
                return operation(self.limiter)
            except errors.StorageError as error:
                self._shared_down_until = self.clock() + RETRY_SHARED_AFTER
                # At most one line per limiter every RETRY_SHARED_AFTER seconds.
                logger.warning(
                    "The rate-limit store (RECONNECT_CLINIC_RATELIMIT_STORAGE_URI) failed "
                    "(%s): %s counts are kept in this process's memory for the next %d s",
                    error,
                    self.namespace,
                    RETRY_SHARED_AFTER,
                )
        return operation(self.fallback)

    def blocked(self, key: str) -> bool:
        """Whether ``key`` has used up its failures for now."""
        return not self._run(lambda limiter: limiter.test(self.item, self.namespace, key))

    def fail(self, key: str) -> None:
        self._run(lambda limiter: limiter.hit(self.item, self.namespace, key))

    def attempt(self, key: str) -> bool:
        """Count a try before it is checked; False if ``key`` is over its limit. Counting
        first, in one step of the store (a lock in memory, a script in Redis), means that
        many tries sent at the same moment cannot all pass a check made before any of
        them failed: of any number sent at once, exactly the limit are let through."""
        return self._run(lambda limiter: limiter.hit(self.item, self.namespace, key))

    def succeeded(self, key: str) -> None:
        """Forget ``key``'s count: the try that was counted ahead turned out right."""
        self._run(lambda limiter: limiter.clear(self.item, self.namespace, key))

    def reset(self) -> None:
        """Forget every count of this limiter (tests)."""
        self._run(lambda limiter: limiter.storage.reset())
        if self.fallback is not None:
            self.fallback.storage.reset()
