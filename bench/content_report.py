"""Write every corpus sequence (tests/content/leads.jsonl) as a Markdown report for people to read.

    python bench/content_report.py [--out var/content_report.md] [--cohere]

Each lead shows its notes, the resolved language, the plan as it runs (skipped steps and why) and every
generated step, with the checker's verdict. `--cohere` writes through the real cohere SDK against the fake
Cohere server and its prompt-reading stand-in model instead of the offline writer. Prints a summary as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the corpus and its checker live in tests/

from ringback.providers.llm.base import Writer
from ringback.providers.llm.cohere_writer import CohereWriter
from ringback.providers.llm.offline import OfflineWriter
from tests.content.checker import RULES, load_leads
from tests.content.pipeline import Generated, generate
from tests.content.prompt_model import answer
from tests.fakes.fake_cohere import FakeCohere, composed


def render(generated: Generated) -> str:
    lead, request = generated.lead, generated.request
    verdict = "passes every rule" if not generated.problems else f"{len(generated.problems)} problem(s)"
    lines = [
        f"## {lead.id} · {request.language} · {lead.template} · {verdict}",
        "",
        f"> {lead.notes}",
        "",
        f"Contact: {', '.join(f'{key}={value}' for key, value in lead.contact.items() if key != 'notes')}  ",
        f"Written by: `{generated.model}`",
        "",
    ]
    for problem in generated.problems:
        lines.append(f"- **{problem.rule}**: {problem.message}")
    for plan in sorted(request.steps, key=lambda p: p.index):
        if plan.index in request.skipped:
            lines += [f"### Step {plan.index} · {plan.channel.value} · skipped ({request.skipped[plan.index]})", ""]
            continue
        content = generated.contents[plan.index]
        lines += [f"### Step {plan.index} · {plan.channel.value}", ""]
        if content.subject:
            lines += [f"**{content.subject}**", ""]
        if content.voicemail is not None:
            lines += ["Live answer:", ""]
        lines += ["```text", content.body, "```", ""]
        if content.voicemail is not None:
            lines += ["Voicemail:", "", "```text", content.voicemail, "```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("var/content_report.md"))
    parser.add_argument("--cohere", action="store_true", help="write through the fake Cohere server")
    args = parser.parse_args()
    with ExitStack() as stack:
        writer: Writer = OfflineWriter()
        if args.cohere:
            fake = stack.enter_context(FakeCohere())
            fake.set_default(composed(answer))
            writer = CohereWriter("co-report-key", base_url=fake.url, timeout_seconds=5.0, max_retries=0)
        results = [generate(lead, writer) for lead in load_leads()]
    failing = Counter(problem.rule for result in results for problem in {p.rule: p for p in result.problems}.values())
    summary = {
        "writer": writer.name,
        "leads": len(results),
        "sendable": sum(not result.problems for result in results),
        "passing_per_rule": {rule: len(results) - failing[rule] for rule in RULES},
    }
    header = [
        "# ringback content report",
        "",
        f"{summary['sendable']} of {summary['leads']} sequences pass every rule (writer `{writer.name}`).",
        "",
        "| rule | leads passing |",
        "|---|---|",
        *(f"| {rule} | {count}/{len(results)} |" for rule, count in summary["passing_per_rule"].items()),
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(header + [render(result) for result in results]), encoding="utf-8")
    print(json.dumps({**summary, "report": str(args.out)}, indent=2))


if __name__ == "__main__":
    main()
