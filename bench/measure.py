"""Timing helpers shared by the benchmarks: CPU and wall time, repeats, the machine's load."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


def load() -> str:
    """The 1, 5 and 15-minute load averages and the CPU count, for every printed figure."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}/{fifteen:.1f} on {os.cpu_count()} CPUs"


@dataclass(frozen=True)
class Timing:
    """CPU (time.process_time) and wall seconds of each repeat of one measured call."""

    cpu: tuple[float, ...]
    wall: tuple[float, ...]

    def per(self, count: int, scale: float = 1.0) -> tuple[float, float, float, float]:
        """CPU min, CPU median, wall min, wall median, each divided by count and scaled."""
        k = scale / count
        return (
            min(self.cpu) * k,
            statistics.median(self.cpu) * k,
            min(self.wall) * k,
            statistics.median(self.wall) * k,
        )

    def rate(self, count: int) -> tuple[float, float]:
        """Items per CPU second: at the best repeat and at the median repeat."""
        return count / max(min(self.cpu), 1e-9), count / max(statistics.median(self.cpu), 1e-9)

    def describe(self, count: int, unit: str = "ms", scale: float = 1e3) -> str:
        """'CPU min/median x/y ms, wall min/median x/y ms' per item."""
        c0, c1, w0, w1 = self.per(count, scale)
        return f"CPU {c0:.3g}/{c1:.3g} {unit}, wall {w0:.3g}/{w1:.3g} {unit} (min/median)"


def timed(fn: Callable[[], object], repeat: int) -> Timing:
    """Call fn `repeat` times; return the CPU and wall time of each call."""
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return Timing(tuple(cpu), tuple(wall))
