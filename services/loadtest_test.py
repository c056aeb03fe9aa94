"""Tests of the load benchmark's accounting (the servers themselves are exercised by running it)."""

import time

from services import loadtest


class _ThisProcess:
    """Stands where a benchmarked server stands: its CPU time is this process's."""

    name = "self"

    def cpu(self) -> float:
        return time.process_time()


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_warm_up_is_not_counted_in_cpu_per_request():
    # The old benchmark charged warm-up CPU to the measured requests; measure() must see only
    # the CPU spent while the measured run executes.
    server = _ThisProcess()
    _burn(0.3)  # warm-up, outside the measurement
    result, cpu = loadtest.measure([server], lambda: _burn(0.05) or {"requests": 1})
    assert result == {"requests": 1}
    assert 0.04 <= cpu["self"] < 0.2
