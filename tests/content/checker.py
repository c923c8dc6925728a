"""The content rules of issue 12, checked on one generated sequence.

The checker knows nothing of the writers' phrase tables: it reads the text the lead would receive and looks
for what a sales lead would notice (a claim about a call that never happened, the sender introduced as the
lead's own company, an unanswered question, a foreign link). Each rule returns the problems it found.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringback.engine.content_guard import MAX_BODY_CHARS, MAX_SUBJECT_CHARS
from ringback.engine.model import Channel, StepContent, StepPlan

LEADS = Path(__file__).with_name("leads.jsonl")
RULES = (
    "identity",
    "skipped_step_claims",
    "main_ask",
    "language",
    "opt_out",
    "links",
    "lengths",
    "variety",
    "call_scripts",
)

SENDER = {"name": "Dana Whitfield", "company": "Ringback", "title": "Account Executive"}
ALLOWED_HOST = "ringback.example"
_SENDER_FIELDS = {
    "email": "dana@ringback.example",
    "phone": "+14155550100",
}
_GOAL = "Book a 15-minute discovery call. Mention the HubSpot and Salesforce integration."
TEMPLATES: dict[str, list[tuple[str, int]]] = {
    "voice_first": [("voice", 0), ("email", 600), ("sms", 86_400), ("email", 259_200)],
    "email_first": [("email", 0), ("sms", 3_600), ("voice", 86_400), ("email", 172_800)],
    "mixed": [("sms", 0), ("voice", 1_800), ("email", 86_400)],
}

# What a lead reads as "we called you" and "we will write to you", per language.
_CALL_CLAIM = re.compile(
    r"tried to (?:reach|call) you|by phone|called you|llamarle|por tel[eé]fono|le llam[eé]|vous joindre"
    r"|par t[eé]l[eé]phone|vous ai appel|telefonisch|angerufen|por telefone|liguei|tentei (?:ligar|falar)"
    r"|al telefono|provato a chiamar",
    re.IGNORECASE,
)
_MESSAGE_PROMISE = re.compile(
    r"send you (?:a|an) (?:message|email|text)|I'll also send|le enviar[eé]|te enviar[eé]|je vous envoie"
    r"|je vous enverrai|schicke Ihnen|sende Ihnen|vou (?:enviar|mandar)|Le invier[oò]|Le mander[oò]",
    re.IGNORECASE,
)
_TOPIC_WORDS = {
    "pricing": r"pric|precio|tarif|prix|preis|pre[cç]o|prezz|cost|devis|angebot|preventiv|or[cç]amento|quote",
    "demo": r"demo|d[eé]monstration|demonstra|dimostra",
    "trial": r"trial|prueba|essai|test|prova",
    "meeting": r"call|talk|chat|llamada|hablar|reuni|appel|[eé]chang|rendez|gespr[aä]ch|termin|convers|parl|"
    r"appuntament|incontr|sentiamo",
    "support": r"help|support|ayuda|soporte|aide|accompagn|hilfe|unterst[uü]tzung|ajuda|suporte|aiut|assistenza",
}
_LINK_LIKE = re.compile(r"\b(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:ly|com|net|org|io|test|co|me)\b(?:/\S*)?", re.I)
_CONTACT_LIKE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d ().-]{7,}\d")
_OPT_OUT = re.compile(r"\bSTOP\b")
_QUESTION = re.compile(r"[?¿]")
_MAX_SUBJECT = 78  # what a phone shows without cutting; the guard's hard cap is MAX_SUBJECT_CHARS


@dataclass(frozen=True)
class Lead:
    id: str
    language: str
    template: str
    contact: dict[str, Any]
    expect: dict[str, Any]

    @property
    def notes(self) -> str:
        return self.contact.get("notes", "")

    @property
    def phones(self) -> tuple[str, ...]:
        return tuple(self.contact.get("phone_numbers", ()))


@dataclass(frozen=True)
class Problem:
    rule: str
    message: str


def load_leads() -> list[Lead]:
    return [Lead(**json.loads(line)) for line in LEADS.read_text(encoding="utf-8").splitlines() if line.strip()]


def template_body(name: str) -> dict[str, Any]:
    """The template as a customer would POST it."""
    channels = sorted({channel for channel, _ in TEMPLATES[name]})
    return {
        "name": f"Inbound ({name})",
        "goal": _GOAL,
        "tone": "warm and concise",
        "allowed_channels": channels,
        "steps": [{"channel": channel, "delay_seconds": delay} for channel, delay in TEMPLATES[name]],
        "sender": {**SENDER, **_SENDER_FIELDS},
        "link_allowlist": [ALLOWED_HOST],
        "facts": ["Two-way sync with HubSpot and Salesforce", "SSO on the Enterprise plan"],
        "value_proposition": "call every web lead back within a minute",
        "sms_max_segments": 2,
    }


def reachable(lead: Lead, steps: Sequence[StepPlan]) -> tuple[StepPlan, ...]:
    """The steps that will run: a step whose channel the contact lacks is skipped."""
    has = {Channel.EMAIL: bool(lead.contact.get("emails")), Channel.SMS: bool(lead.phones)}
    has[Channel.VOICE] = has[Channel.SMS]
    return tuple(step for step in steps if has[step.channel])


def check(
    lead: Lead,
    steps: Sequence[StepPlan],
    contents: Mapping[int, StepContent],
    written_language: str | None,
    sms_segments: Mapping[int, int],
) -> list[Problem]:
    """Every problem of one generated sequence; `written_language` is what the text reads as."""
    runs = reachable(lead, steps)
    texts = {step.index: contents[step.index] for step in runs}
    problems: list[Problem] = []
    problems += _identity(lead, runs, texts)
    problems += _skipped_step_claims(runs, texts)
    problems += _main_ask(lead, runs, texts)
    if written_language != lead.language:
        problems.append(Problem("language", f"text reads as {written_language}, expected {lead.language}"))
    problems += _opt_out(lead, runs, texts)
    problems += _links(texts)
    problems += _lengths(runs, texts, sms_segments)
    problems += _variety(runs, texts)
    problems += _call_scripts(runs, texts)
    return problems


def _identity(lead: Lead, runs: Sequence[StepPlan], texts: Mapping[int, StepContent]) -> list[Problem]:
    problems = []
    first = texts[runs[0].index].body
    for part in (SENDER["name"].split()[0], SENDER["company"]):
        if part not in first:
            problems.append(Problem("identity", f"first step does not introduce the sender ({part!r} missing)"))
    company = lead.contact.get("company")
    for step in runs:
        body = texts[step.index].body
        if company and company in body:
            problems.append(Problem("identity", f"step {step.index} uses the lead's company {company!r}"))
    return problems


def _skipped_step_claims(runs: Sequence[StepPlan], texts: Mapping[int, StepContent]) -> list[Problem]:
    problems = []
    for position, step in enumerate(runs):
        body = texts[step.index].body
        called_before = any(earlier.channel is Channel.VOICE for earlier in runs[:position])
        if not called_before and step.channel is not Channel.VOICE and _CALL_CLAIM.search(body):
            problems.append(Problem("skipped_step_claims", f"step {step.index} mentions a call that never happened"))
        writes_later = any(later.channel is not Channel.VOICE for later in runs[position + 1 :])
        spoken = f"{body} {texts[step.index].voicemail or ''}"
        if step.channel is Channel.VOICE and not writes_later and _MESSAGE_PROMISE.search(spoken):
            problems.append(Problem("skipped_step_claims", f"step {step.index} promises a message that never comes"))
    return problems


def _main_ask(lead: Lead, runs: Sequence[StepPlan], texts: Mapping[int, StepContent]) -> list[Problem]:
    ask = lead.expect.get("ask")
    if not ask:
        return []
    first = texts[runs[0].index]
    text = f"{first.subject or ''} {first.body}"
    problems = []
    if ask in _TOPIC_WORDS and not re.search(_TOPIC_WORDS[ask], text, re.IGNORECASE):
        problems.append(Problem("main_ask", f"first step does not address the ask ({ask})"))
    for mention in lead.expect.get("mentions", ()):
        if not re.search(rf"(?<!\w){re.escape(mention)}(?!\w)", text):
            problems.append(Problem("main_ask", f"first step does not mention {mention!r}"))
    return problems


def _opt_out(lead: Lead, runs: Sequence[StepPlan], texts: Mapping[int, StepContent]) -> list[Problem]:
    first_sms = next((step for step in runs if step.channel is Channel.SMS), None)
    north_american = bool(lead.phones) and lead.phones[0].startswith("+1")
    if first_sms and north_american and not _OPT_OUT.search(texts[first_sms.index].body):
        return [Problem("opt_out", f"first SMS (step {first_sms.index}) to a +1 number has no opt-out text")]
    return []


def _links(texts: Mapping[int, StepContent]) -> list[Problem]:
    problems = []
    for index, content in texts.items():
        text = f"{content.subject or ''} {content.body} {content.voicemail or ''}"
        links = [link for link in _LINK_LIKE.findall(text) if ALLOWED_HOST not in link]
        contacts = _CONTACT_LIKE.findall(text)
        if links or contacts:
            problems.append(Problem("links", f"step {index} carries a foreign link or contact: {links + contacts}"))
    return problems


def _lengths(
    runs: Sequence[StepPlan], texts: Mapping[int, StepContent], sms_segments: Mapping[int, int]
) -> list[Problem]:
    problems = []
    for step in runs:
        content = texts[step.index]
        if max(len(content.body), len(content.voicemail or "")) > MAX_BODY_CHARS[step.channel]:
            problems.append(Problem("lengths", f"step {step.index} body is too long"))
        if content.subject and len(content.subject) > min(_MAX_SUBJECT, MAX_SUBJECT_CHARS):
            problems.append(Problem("lengths", f"step {step.index} subject is too long"))
        if step.channel is Channel.SMS and sms_segments[step.index] > 2:
            problems.append(Problem("lengths", f"step {step.index} SMS takes {sms_segments[step.index]} segments"))
    return problems


def _variety(runs: Sequence[StepPlan], texts: Mapping[int, StepContent]) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for step in runs:
        line = closing_line(step.channel, texts[step.index].body)
        if line in seen:
            problems.append(Problem("variety", f"steps {seen[line]} and {step.index} close with {line!r}"))
        seen.setdefault(line, step.index)
    return problems


def _call_scripts(runs: Sequence[StepPlan], texts: Mapping[int, StepContent]) -> list[Problem]:
    """A call speaks to a person with a question, and to a voicemail with none (nobody is there to answer)."""
    problems = []
    for step in runs:
        content = texts[step.index]
        if step.channel is not Channel.VOICE:
            continue
        if not content.voicemail:
            problems.append(Problem("call_scripts", f"step {step.index} has no voicemail script"))
        elif _QUESTION.search(content.voicemail):
            problems.append(Problem("call_scripts", f"step {step.index} asks a question on a voicemail"))
        if not _QUESTION.search(content.body):
            problems.append(Problem("call_scripts", f"step {step.index} asks a person who answers nothing"))
    return problems


def closing_line(channel: Channel, body: str) -> str:
    """The last sentence before any sign-off: what the lead reads last."""
    if channel is Channel.EMAIL:
        paragraphs = [part for part in body.split("\n\n") if part.strip()]
        body = paragraphs[-2] if len(paragraphs) > 1 else paragraphs[0]
    sentences = [part for part in re.split(r"(?<=[.!?])\s+", body.strip()) if part]
    return sentences[-1] if sentences else ""
