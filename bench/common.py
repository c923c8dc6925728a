"""Helpers shared by the durability benchmarks (and the 10k passivation test): bulk rows, process figures.

`seed_enrollments` writes what a node would have persisted after running many leads, straight into
the tables in a few large transactions, because creating 100k enrollments through the API would take
longer than the measurement itself. Only the seeding bypasses the engine: everything measured
afterwards runs through the real supervisor, actors, pools and sandbox channel.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ringback.cluster.partitions import partition_of
from ringback.engine.model import EnrollmentStatus, StepStatus
from ringback.engine.template import parse_template
from ringback.ids import new_id
from ringback.storage import accounts, templates
from ringback.storage.models import Contact, ContactEmail, Enrollment, Sequence, Step, database_proxy

TWO_STEP_EMAIL = {
    "name": "Two emails",
    "goal": "Follow up with the lead and book a call.",
    "allowed_channels": ["email"],
    "steps": [{"channel": "email", "delay_seconds": 0}, {"channel": "email", "delay_seconds": 2 * 24 * 3600}],
    "sender": {"name": "Bench", "email": "bench@example.com"},
}
CHUNK = 500  # rows per INSERT: well under SQLite's bound-variable limit for these tables


@dataclass(frozen=True)
class Seeded:
    workspace_id: str
    api_key: str
    template_id: str
    enrollment_ids: list[str]


def seed_enrollments(count: int, now: datetime, due_at: datetime, *, interrupted: bool = False) -> Seeded:
    """`count` active sandbox enrollments of TWO_STEP_EMAIL whose second step is due at `due_at`.

    Step 0 has gone out (`sent`), or, with `interrupted`, was caught by a crash in `sending`: the
    state a kill -9 between the commit and the send leaves behind, which start-up recovery must resume.
    """
    workspace = accounts.create_workspace("bench", now)
    _, key = accounts.create_key(workspace.id, now, live=False)
    template_id = templates.create_template(workspace.id, parse_template(TWO_STEP_EMAIL), now)
    ids: list[str] = []
    for start in range(0, count, CHUNK):
        with database_proxy.atomic():
            numbers = range(start, min(start + CHUNK, count))
            ids.extend(_insert_chunk(workspace.id, template_id, numbers, now, due_at, interrupted))
    return Seeded(workspace.id, key, template_id, ids)


def _insert_chunk(
    workspace_id: str, template_id: str, numbers: range, now: datetime, due_at: datetime, interrupted: bool
) -> list[str]:
    contacts, emails, sequences, rows, steps = [], [], [], [], []
    later_delay = TWO_STEP_EMAIL["steps"][1]["delay_seconds"]
    for n in numbers:
        contact_id, sequence_id, enrollment_id = new_id("ct"), new_id("seq"), new_id("enr")
        address = f"lead{n}@example.com"
        contacts.append(
            {
                "id": contact_id,
                "workspace": workspace_id,
                "first_name": f"Lead{n}",
                "primary_email": address,
                "primary_email_lower": address,
                "created_at": now,
                "updated_at": now,
            }
        )
        emails.append({"contact": contact_id, "position": 0, "email": address, "email_lower": address})
        sequences.append(
            {
                "id": sequence_id,
                "workspace": workspace_id,
                "template": template_id,
                "contact": contact_id,
                "model": "offline",
                "created_at": now,
            }
        )
        rows.append(
            {
                "id": enrollment_id,
                "workspace": workspace_id,
                "sequence": sequence_id,
                "contact": contact_id,
                "template": template_id,
                "status": EnrollmentStatus.ACTIVE.value,
                "mode": "test",
                "auto_approve": True,
                "language": "en",
                "language_source": "default",
                "timezone": "UTC",
                "timezone_candidates": ["UTC"],
                "timezone_source": "default",
                "anchor_at": now,
                "next_wake_at": None if interrupted else due_at,
                "generation_attempts": 1,
                "partition": partition_of(enrollment_id),
                "created_at": now,
                "updated_at": now,
            }
        )
        first = (
            {"status": StepStatus.SENDING.value}
            if interrupted
            else {"status": StepStatus.SENT.value, "provider": "sandbox", "provider_id": f"sbx_{n}", "sent_at": now}
        )
        for index, delay, scheduled_for, state in (
            (0, 0, now, first),
            (1, later_delay, due_at, {"status": StepStatus.SCHEDULED.value}),
        ):
            steps.append(
                {
                    "id": new_id("stp"),
                    "enrollment": enrollment_id,
                    "index": index,
                    "channel": "email",
                    "delay_seconds": delay,
                    "recipient": address,
                    "scheduled_for": scheduled_for,
                    "subject": f"Step {index + 1}",
                    "body": f"Hello Lead{n}, this is step {index + 1}.",
                    "attempts": 1 - index,
                    "provider": None,
                    "provider_id": None,
                    "sent_at": None,
                    "updated_at": now,
                    **state,
                }
            )
    Contact.insert_many(contacts).execute()
    ContactEmail.insert_many(emails).execute()
    Sequence.insert_many(sequences).execute()
    Enrollment.insert_many(rows).execute()
    Step.insert_many(steps).execute()
    return [row["id"] for row in rows]


def in_fresh_process(func: Callable[..., dict], *args: object) -> dict:
    """Run one measurement in a new interpreter, so its RSS and threads owe nothing to the previous one."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_put_result, args=(results, func, args))
    child.start()
    result = results.get()
    child.join()
    return result


def _put_result(results: multiprocessing.Queue, func: Callable[..., dict], args: tuple) -> None:
    results.put(func(*args))


def seeded_elsewhere(func: Callable[..., None], *args: object) -> None:
    """Seed in a forked child, so the measuring process's RSS is the node's alone."""
    child = multiprocessing.get_context("fork").Process(target=func, args=args)
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"seeding failed with exit code {child.exitcode}")


def rss_mb() -> float:
    """Resident set size of this process now (Linux)."""
    return _status_kb("VmRSS") / 1024


def peak_rss_mb() -> float:
    return _status_kb("VmHWM") / 1024


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def threads() -> int:
    return threading.active_count()


def report(title: str, rows: list[dict]) -> None:
    """JSON for machines, then a markdown table for the README / the closing note."""
    print(json.dumps({"benchmark": title, "results": rows}, indent=2))
    columns = list(rows[0])
    print(f"\n### {title}\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")


def print_figures(rows: Iterable[tuple[str, str | tuple[str, ...]]], columns: Mapping[str, Mapping]) -> None:
    """A markdown table, one row per (label, key or keys) and one column per run; rows no run has are left out."""
    print("| figure | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for label, keys in rows:
        keys = keys if isinstance(keys, tuple) else (keys,)
        if all(key not in figures for figures in columns.values() for key in keys):
            continue
        cells = [" / ".join(_cell(figures.get(key)) for key in keys) for figures in columns.values()]
        print(f"| {label} | " + " | ".join(cells) + " |")


def _cell(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)
