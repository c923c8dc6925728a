"""Adds a delay to every call, so benchmarks and fault-injection tests can mimic a real LLM's latency with
the offline writer and no network: a fixed part per call, plus an optional part per step written (a real
model's time grows with the length of what it writes)."""

from __future__ import annotations

import time
from collections.abc import Callable

from ringback.engine.model import GeneratedSteps, GenerationRequest
from ringback.providers.llm.base import Writer


class SimulatedLatencyWriter:
    def __init__(
        self,
        inner: Writer,
        latency_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
        per_step_seconds: float = 0.0,
    ) -> None:
        self.name = inner.name  # the inner writer still writes; the delay does not change the recorded model
        self._inner = inner
        self._latency_seconds = latency_seconds
        self._sleep = sleep
        self._per_step_seconds = per_step_seconds

    def write(self, request: GenerationRequest) -> GeneratedSteps:
        self._sleep(self._latency_seconds + self._per_step_seconds * len(request.wanted))
        return self._inner.write(request)
