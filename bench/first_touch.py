"""Time from the HTTP call to the first dispatch: step-1-first fast path vs whole-sequence-first.

A real server (waitress) on loopback, a live key whose channels are a recording adapter, and the
offline writer behind a simulated LLM latency. Two latency models are measured:
  - per_call:  every LLM call takes the same time (1.0 s), whatever it writes;
  - per_step:  a call costs 0.4 s plus 0.6 s per step written (time grows with output length).
Prints JSON and a markdown table. Usage: python bench/first_touch.py [--leads N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import threading
import time

from ringback.config import load_settings
from ringback.engine.model import Channel
from ringback.engine.template import parse_template
from ringback.http.app import HttpServer
from ringback.node import Node, Providers
from ringback.providers.channels.base import OutboundMessage, Receipt
from ringback.providers.llm.offline import OfflineWriter
from ringback.providers.llm.simulated import SimulatedLatencyWriter
from ringback.storage import accounts, templates

TEMPLATE = {
    "name": "Four steps",
    "goal": "Call back the inbound lead and book a discovery call.",
    "allowed_channels": ["email"],
    "steps": [{"channel": "email", "delay_seconds": d} for d in (0, 3600, 86400, 172800)],
    "sender": {"name": "Bench", "email": "bench@example.com"},
}
MODELS = {"per_call": (1.0, 0.0), "per_step": (0.4, 0.6)}


class RecordingChannel:
    """Notes the moment each step reaches the channel; sends nothing."""

    name = "bench"

    def __init__(self) -> None:
        self.first_at: dict[str, float] = {}
        self.arrived = threading.Condition()

    def send(self, message: OutboundMessage) -> Receipt:
        with self.arrived:
            self.first_at.setdefault(message.to, time.perf_counter())
            self.arrived.notify_all()
        return Receipt("bench", message.step_id)


def run(mode_split: bool, per_call: float, per_step: float, leads: int) -> list[float]:
    channel = RecordingChannel()
    writer = SimulatedLatencyWriter(OfflineWriter(), per_call, per_step_seconds=per_step)
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(
            env={},
            data_dir=data_dir,
            demo=False,
            fast_path_split_first_step=mode_split,
            writes_per_minute=100_000,
            reads_per_minute=100_000,
        )
        node = Node(settings, providers=Providers(writer=writer, live_channels={Channel.EMAIL: channel})).start()
        server = HttpServer(node.app, host="127.0.0.1", port=0, threads=4, max_body_bytes=65536).start()
        try:
            now = node.clock.now()
            workspace = accounts.create_workspace("bench", now)
            _, key = accounts.create_key(workspace.id, now, live=True)
            template_id = templates.create_template(workspace.id, parse_template(TEMPLATE), now)
            samples = []
            for i in range(leads):
                to = f"lead{i}@example.com"
                body = json.dumps(
                    {
                        "template_id": template_id,
                        "auto_approve": True,
                        "contact": {
                            "first_name": "Maria",
                            "emails": [to],
                            "notes": "Speaks Spanish. Asking about pricing.",
                        },
                    }
                )
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                started = time.perf_counter()
                conn.request(
                    "POST",
                    "/api/v1/sequences/start",
                    body,
                    {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                )
                response = conn.getresponse()
                response.read()
                assert response.status == 202, response.status
                with channel.arrived:
                    channel.arrived.wait_for(lambda to=to: to in channel.first_at, timeout=30)
                samples.append(channel.first_at[to] - started)
            return samples
        finally:
            server.close()
            node.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=10)
    args = parser.parse_args()
    results = []
    for model, (per_call, per_step) in MODELS.items():
        for label, split in (("step-1-first", True), ("whole-sequence-first", False)):
            samples = run(split, per_call, per_step, args.leads)
            results.append(
                {
                    "latency_model": model,
                    "mode": label,
                    "leads": len(samples),
                    "median_s": round(statistics.median(samples), 3),
                    "p95_s": round(sorted(samples)[max(0, int(len(samples) * 0.95) - 1)], 3),
                    "max_s": round(max(samples), 3),
                }
            )
    print(json.dumps(results, indent=2))
    print("\n| latency model | mode | leads | median s | p95 s | max s |\n|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['latency_model']} | {r['mode']} | {r['leads']} | {r['median_s']} | {r['p95_s']} | {r['max_s']} |")


if __name__ == "__main__":
    main()
