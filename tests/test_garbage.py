"""The cyclic collector's pauses: nested and concurrent ones resume it once, at the last end."""

import gc
import threading
from collections.abc import Iterator

import pytest

from exporter import garbage


@pytest.fixture(autouse=True)
def _enabled() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_a_pause_resumes_the_collector_even_after_an_error() -> None:
    def failing() -> None:
        with garbage.paused():
            assert not gc.isenabled()
            raise LookupError("inside the pause")

    with pytest.raises(LookupError, match="inside the pause"):
        failing()
    assert gc.isenabled()


def test_overlapping_pauses_resume_it_when_the_last_one_ends() -> None:
    inside, release, done = threading.Event(), threading.Event(), threading.Event()

    def encoding() -> None:
        with garbage.paused():
            inside.set()
            release.wait(10)
        done.set()

    with garbage.paused():  # the collection
        worker = threading.Thread(target=encoding)
        worker.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the encoding still runs
    release.set()
    assert done.wait(10)
    worker.join(10)
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled() -> None:
    gc.disable()
    with garbage.paused(), garbage.paused():
        pass
    assert not gc.isenabled()
