"""Python's cyclic garbage collector, kept from walking what a scrape allocates.

A large scrape allocates a few hundred thousand acyclic objects (rows, figures, label texts)
that live until it ends and that reference counting then frees. The cyclic collector counts
them as they come and walks them, young and then older generations, over and over, though
none can be garbage: several hundred milliseconds of a scrape at the largest benchmark size
(docs/performance.md). So it is tuned at start-up, and paused while a collection or an
encoding allocates.
"""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pauses:
    """The pauses in progress (a collection, encodings in worker threads), and whether the
    collector was enabled when the first of them began."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.resume = False


_PAUSES = _Pauses()


def tune() -> None:
    """Freeze what start-up created and collect the youngest generation every 50 000
    allocations rather than 700: between scrapes the collector is left for what it is for,
    cycles."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside: nested and concurrent pauses (a collection while the
    previous outcome is encoded in a thread) resume the collector when the last one ends,
    and it then collects as usual whatever cycles were made meanwhile."""
    with _PAUSES.lock:
        if _PAUSES.count == 0:
            _PAUSES.resume = gc.isenabled()
            gc.disable()
        _PAUSES.count += 1
    try:
        yield
    finally:
        with _PAUSES.lock:
            _PAUSES.count -= 1
            if _PAUSES.count == 0 and _PAUSES.resume:
                gc.enable()
