"""Counting failures (bad link tokens, failed logins) and refusing when there are too many.

Built on the ``limits`` package (the engine behind Flask-Limiter), used directly because
only failures count here: a partner using their own good link is never slowed down. The
storage is in memory by default; a practice running several worker processes points
``RECONNECT_CLINIC_RATELIMIT_STORAGE_URI`` at Redis so the workers share one count.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem, parse, storage, strategies


@dataclass
class FailureLimiter:
    limiter: strategies.MovingWindowRateLimiter
    item: RateLimitItem
    namespace: str

    @classmethod
    def create(cls, storage_uri: str, limit: str, namespace: str) -> FailureLimiter:
        return cls(
            limiter=strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri)),
            item=parse(limit),
            namespace=namespace,
        )

    def blocked(self, key: str) -> bool:
        """Whether ``key`` has used up its failures for now."""
        return not self.limiter.test(self.item, self.namespace, key)

    def fail(self, key: str) -> None:
        self.limiter.hit(self.item, self.namespace, key)

    def attempt(self, key: str) -> bool:
        """Count a try before it is checked; False if ``key`` is over its limit. Counting
        first means that many tries sent at the same moment cannot all pass a check made
        before any of them failed (for guesses at a 6-digit code, that matters)."""
        return self.limiter.hit(self.item, self.namespace, key)

    def succeeded(self, key: str) -> None:
        """Forget ``key``'s count: the try that was counted ahead turned out right."""
        self.limiter.clear(self.item, self.namespace, key)

    def reset(self) -> None:
        self.limiter.storage.reset()
