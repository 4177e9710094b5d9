"""Hybrid logical clock per device (docs/architecture.md, sync).

A timestamp is ``"<13-digit ms>-<5-digit counter>-<device id>"``, so plain string comparison
orders them and ties break by device. A device whose wall clock runs ahead cannot push the
clock arbitrarily far: :meth:`HybridClock.receive` refuses remote times more than
``max_drift_ms`` ahead of the local wall clock (the server flags such timestamps).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class HlcStamp:
    millis: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.millis:013d}-{self.counter:05d}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> HlcStamp:
        try:
            millis, counter, node = text.split("-", 2)
            return cls(int(millis), int(counter), node)
        except ValueError:
            raise ValueError(f"not a hybrid timestamp: {text!r}") from None


class HybridClock:
    def __init__(self, node: str, wall: Callable[[], float] = time.time, last: str | None = None,
                 max_drift_ms: int = 24 * 3600 * 1000):
        self.node = node
        self._wall = wall
        self._lock = threading.Lock()
        self._last = HlcStamp.parse(last) if last else HlcStamp(0, 0, node)
        self.max_drift_ms = max_drift_ms

    def now(self) -> str:
        with self._lock:
            wall = int(self._wall() * 1000)
            if wall > self._last.millis:
                self._last = HlcStamp(wall, 0, self.node)
            else:
                self._last = HlcStamp(self._last.millis, self._last.counter + 1, self.node)
            return str(self._last)

    def receive(self, remote: str) -> None:
        stamp = HlcStamp.parse(remote)
        with self._lock:
            wall = int(self._wall() * 1000)
            if stamp.millis > wall + self.max_drift_ms:
                return  # a clock far ahead: do not let it drag ours along
            if stamp.millis > self._last.millis:
                self._last = HlcStamp(stamp.millis, stamp.counter, self.node)
            elif stamp.millis == self._last.millis:
                self._last = HlcStamp(stamp.millis, max(stamp.counter, self._last.counter), self.node)

    @property
    def last(self) -> str:
        return str(self._last)
