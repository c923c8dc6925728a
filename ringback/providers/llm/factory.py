"""Choose the writer from settings: Cohere or an OpenAI-compatible server (each falling back to offline), or
the offline writer alone."""

from __future__ import annotations

from collections.abc import Callable

from ringback.config import LLM_PROVIDERS, default_llm_provider
from ringback.providers.llm.base import Writer
from ringback.providers.llm.cohere_writer import CohereWriter
from ringback.providers.llm.fallback import FallbackWriter
from ringback.providers.llm.offline import OfflineWriter
from ringback.providers.llm.openai_writer import OpenAIWriter
from ringback.providers.llm.simulated import SimulatedLatencyWriter


def build_writer(
    *,
    cohere_api_key: str | None,
    cohere_model: str,
    cohere_base_url: str | None,
    timeout_seconds: float,
    max_retries: int,
    provider: str | None = None,
    openai_base_url: str | None = None,
    openai_model: str | None = None,
    openai_api_key: str | None = None,
    simulated_latency_seconds: float = 0.0,
    on_fallback: Callable[[BaseException], None] | None = None,
) -> Writer:
    provider = provider or default_llm_provider(cohere_api_key)
    if provider not in LLM_PROVIDERS:
        raise ValueError(f"unknown LLM provider {provider!r}; one of {', '.join(LLM_PROVIDERS)}")
    writer: Writer = OfflineWriter()
    if provider == "cohere":
        if not cohere_api_key:
            raise ValueError("the cohere provider needs an API key")
        cohere = CohereWriter(
            cohere_api_key,
            model=cohere_model,
            base_url=cohere_base_url,
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
        )
        writer = FallbackWriter(cohere, writer, on_fallback=on_fallback)
    elif provider == "openai":
        if not (openai_base_url and openai_model):
            raise ValueError("the openai provider needs a base URL and a model")
        remote = OpenAIWriter(
            openai_base_url,
            openai_model,
            openai_api_key,
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
        )
        writer = FallbackWriter(remote, writer, on_fallback=on_fallback)
    if simulated_latency_seconds > 0:
        writer = SimulatedLatencyWriter(writer, simulated_latency_seconds)
    return writer
