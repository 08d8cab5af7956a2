"""Graceful stop: SIGTERM/SIGINT ask the loop to finish its iteration, checkpoint and exit."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any, Callable


class StopRequest:
    """Set by the first SIGTERM/SIGINT; a second one interrupts at once (KeyboardInterrupt)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name: str | None = None
        self._previous: dict[int, Any] = {}

    def __bool__(self) -> bool:
        return self._event.is_set()

    def request(self, reason: str = "request") -> None:
        self.signal_name = self.signal_name or reason
        self._event.set()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._event.is_set():
            raise KeyboardInterrupt(f"second {signal.Signals(signum).name}")
        self.request(signal.Signals(signum).name)

    def __enter__(self) -> "StopRequest":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def check(self) -> Callable[[], bool]:
        return lambda: bool(self)
