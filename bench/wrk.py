"""Debian's `wrk` as the closed-loop load generator: its Lua script for starts, its command line, its output.

wrk is compiled C and costs the 2-core machine far less than any Python client would, so the `/healthz`
ceiling it measures is the server's, not the client's. This module stays free of sibling imports so the
unit tests can load it as `bench.wrk`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

INSTALL_HINT = "wrk is not installed: apt-get install wrk (Debian/Ubuntu), then run the benchmark again."
START_PATH = "/api/v1/sequences/start"

# One Lua state per wrk thread: `setup` numbers the threads from the main state, so thread id + a per-thread
# counter + the run prefix make every request a new lead with its own email and its own Idempotency-Key.
_START_SCRIPT = """\
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
end

local counter = 0
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. %(api_key)s,
}

function request()
  counter = counter + 1
  local lead = %(prefix)s .. "-" .. thread_id .. "-" .. counter
  headers["Idempotency-Key"] = lead
  local body = string.format(%(body)s, lead)
  return wrk.format("POST", %(path)s, headers, body)
end

-- The latency at every 0.1 %% (wrk's own --latency shows four percentiles), so that the runs of several wrk
-- processes can be pooled into one distribution. percentile(100) reads 0 in wrk 4.1: the last point is max.
function done(summary, latency, requests)
  for i = 1, %(grid)d - 1 do
    io.write(string.format("latency_grid %%d\\n", latency:percentile(i * 100 / %(grid)d)))
  end
  io.write(string.format("latency_grid %%d\\n", latency.max))
end
"""
GRID_POINTS = 1000  # latency grid of a start run: quantiles at 0.1 %, 0.2 %, ..., 99.9 %, then the max

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^([\d.]+)(us|ms|s|m|h)$")


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    latency_seconds: dict[int, float]  # percentile (50, 75, 90, 99) -> seconds
    non_2xx: int
    socket_errors: int
    latency_grid: tuple[float, ...] = ()  # seconds at GRID_POINTS equal steps of the distribution (start script)

    @property
    def ok_per_second(self) -> float:
        """2xx answers per second: a 429 or 500 is not throughput."""
        return (self.requests - self.non_2xx) / self.seconds if self.seconds else 0.0


def lua_string(value: str) -> str:
    """A Lua string literal. Printable ASCII only: JSON's escapes for it (\\" and \\\\) are Lua's too."""
    if not (value.isascii() and value.isprintable()):
        raise ValueError(f"not printable ASCII: {value!r}")
    return json.dumps(value)


def start_body(template_id: str, lead: str) -> str:
    """One new fast-path lead (auto_approve, an email of its own): the body both load generators send."""
    return json.dumps(
        {
            "template_id": template_id,
            "auto_approve": True,
            "contact": {"first_name": "Lead", "emails": [f"{lead}@bench.example.com"]},
        },
        separators=(",", ":"),
    )


def start_script(api_key: str, template_id: str, prefix: str) -> str:
    """The Lua script that makes each request a new lead, named prefix-thread-counter in email and key."""
    body = start_body(template_id, "__LEAD__").replace("%", "%%").replace("__LEAD__", "%s")
    return _START_SCRIPT % {
        "api_key": lua_string(api_key),
        "prefix": lua_string(prefix),
        "body": lua_string(body),
        "path": lua_string(START_PATH),
        "grid": GRID_POINTS,
    }


def command(url: str, seconds: float, connections: int, threads: int, script: str | None = None) -> list[str]:
    """The wrk command line; a generous --timeout so slow starts count as slow, not as socket errors."""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "60s"]
    if script:
        args += ["-s", script]
    return [*args, url]


def run(url: str, seconds: float, connections: int, threads: int, script: str | None = None) -> WrkResult:
    return run_all([command(url, seconds, connections, threads, script)])[0]


def run_all(commands: list[list[str]]) -> list[WrkResult]:
    """Several wrk processes at once (one per node of a cluster): their results in the order given."""
    processes = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for args in commands]
    outputs = [process.communicate() for process in processes]
    for args, process, (_, stderr) in zip(commands, processes, outputs, strict=True):
        if process.returncode != 0:
            raise subprocess.CalledProcessError(process.returncode, args, stderr=stderr)
    return [parse_output(stdout) for stdout, _ in outputs]


def ready_to_load(args) -> bool:
    """wrk is installed (else say how to get it); `--quick` shortens every run to a smoke test."""
    if not available():
        print(INSTALL_HINT, file=sys.stderr)
        return False
    if args.quick:
        args.duration = min(args.duration, 3.0)
    return True


def available() -> bool:
    return shutil.which("wrk") is not None


def parse_duration(text: str) -> float:
    """wrk's '3.27ms' / '1.08s' / '812.00us' / '1.00m' in seconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_output(text: str) -> WrkResult:
    """The figures of `wrk --latency` text output."""
    total = re.search(r"^\s*(\d+) requests in ([\d.]+\w+),", text, re.MULTILINE)
    if not total:
        raise ValueError(f"wrk output without a summary:\n{text}")
    latency = {
        int(p): parse_duration(value) for p, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", text, re.MULTILINE)
    }
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    grid = tuple(int(us) * 1e-6 for us in re.findall(r"^latency_grid (\d+)$", text, re.MULTILINE))
    return WrkResult(
        requests=int(total.group(1)),
        seconds=parse_duration(total.group(2)),
        latency_seconds=latency,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        latency_grid=grid,
    )
