"""The FX clock: real time, or a test's clock (``app.config["FX_CLOCK"]``, a callable returning
unix seconds) so lock expiry and moving rates are driven by the test, never by sleeping."""

from __future__ import annotations

from flask import current_app, has_app_context

from ..ids import now as wall_clock


def now() -> int:
    clock = current_app.config.get("FX_CLOCK") if has_app_context() else None
    return int(clock()) if clock is not None else wall_clock()


class ManualClock:
    """A clock a test moves by hand: ``clock.advance(16 * 60)``."""

    def __init__(self, start: int | None = None) -> None:
        self.current = wall_clock() if start is None else start

    def __call__(self) -> int:
        return self.current

    def advance(self, seconds: int) -> None:
        self.current += seconds
