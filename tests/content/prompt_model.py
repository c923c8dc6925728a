"""A stand-in for the LLM behind the fake Cohere server: it writes only from what the prompt says.

It rebuilds the writer's inputs from the system and user messages (sender, language, plan with the steps
that will not run, lead data, notes) and writes with the offline writer. If the prompt dropped something,
the answer shows it: a skipped call would be claimed, the ask missed, the wrong sender introduced. Like a
model steered by the notes, it also copies every link and number found in the notes into each step, so the
corpus proves the guard removes them.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from ringback.engine.model import Channel, GenerationRequest, StepPlan
from ringback.providers.llm.offline import OfflineWriter

_SENDER = re.compile(r"outreach as (?P<name>.+?)(?:, (?P<title>[^.]+?))? at (?P<company>[^.]+?)\. Introduce")
_PLAN = re.compile(r"^- step (\d+): (email|sms|voice), (.*)$", re.MULTILINE)
_WANTED = re.compile(r"^- step (\d+) \((email|sms|voice)\):", re.MULTILINE)
_SEGMENTS = re.compile(r"it must fit (\d+) SMS segments")
_STEERED = re.compile(r"(?:https?://|www\.)\S+|\+?\d[\d ]{7,}\d")


def answer(body: dict[str, Any]) -> str:
    system, user = (message["content"] for message in body["messages"])
    sender = _SENDER.search(system)
    plan = [(int(index), Channel(channel), rest) for index, channel, rest in _PLAN.findall(user)]
    notes = html.unescape(_between(user, "lead_notes"))
    request = GenerationRequest(
        template_name="",
        goal=_line(user, "Goal"),
        tone=_line(user, "Tone"),
        steps=tuple(StepPlan(index, channel, 0) for index, channel, _ in plan),
        wanted=tuple(int(index) for index, _ in _WANTED.findall(user)),
        language=re.search(r"Language to write in: .*\((\w+)\)", user).group(1),
        timezone=_line(user, "Lead's time zone"),
        first_name=json.loads(re.search(r"^first_name: (.*)$", user, re.MULTILINE).group(1)),
        notes=notes,
        sender_name=sender["name"] if sender else "",
        sender_title=(sender["title"] or "") if sender else "",
        sender_company=sender["company"] if sender else "",
        facts=tuple(re.findall(r"^- (?!step )(.+)$", user.split("Product facts you may state:")[1], re.MULTILINE)),
        skipped={index: "will not run" for index, _, rest in plan if rest.startswith("will not run")},
        sms_max_segments=int(match.group(1)) if (match := _SEGMENTS.search(user)) else 2,
        voice_connect="offering to connect the lead" in user,
    )
    steered = " ".join(_STEERED.findall(notes))
    steps = []
    for index, content in OfflineWriter().write(request).steps.items():
        body_text = f"{content.body} {steered}".strip()
        voicemail = f"{content.voicemail} {steered}".strip() if content.voicemail else None
        steps.append({"index": index, "subject": content.subject, "body": body_text, "voicemail": voicemail})
    return json.dumps({"steps": steps}, ensure_ascii=False)


def _line(user: str, label: str) -> str:
    return re.search(rf"^{re.escape(label)}: (.*)$", user, re.MULTILINE).group(1)


def _between(user: str, tag: str) -> str:
    return user.split(f"<{tag}>\n", 1)[1].split(f"\n</{tag}>", 1)[0]
