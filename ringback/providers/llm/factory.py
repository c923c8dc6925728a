"""Choose the writer from settings: Cohere (falling back to offline) when a key is set, offline otherwise."""

from __future__ import annotations

from collections.abc import Callable

from ringback.providers.llm.base import Writer
from ringback.providers.llm.cohere_writer import CohereWriter
from ringback.providers.llm.fallback import FallbackWriter
from ringback.providers.llm.offline import OfflineWriter
from ringback.providers.llm.simulated import SimulatedLatencyWriter


def build_writer(
    *,
    cohere_api_key: str | None,
    cohere_model: str,
    cohere_base_url: str | None,
    timeout_seconds: float,
    max_retries: int,
    simulated_latency_seconds: float = 0.0,
    on_fallback: Callable[[BaseException], None] | None = None,
) -> Writer:
    writer: Writer = OfflineWriter()
    if cohere_api_key:
        cohere = CohereWriter(
            cohere_api_key,
            model=cohere_model,
            base_url=cohere_base_url,
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
        )
        writer = FallbackWriter(cohere, writer, on_fallback=on_fallback)
    if simulated_latency_seconds > 0:
        writer = SimulatedLatencyWriter(writer, simulated_latency_seconds)
    return writer
