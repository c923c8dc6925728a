"""SMS craft that carriers and the law care about: how many segments a text costs, and opt-out wording.

A segment holds 160 GSM-7 characters (153 when the text is split) or 70 UCS-2 characters (67 split); a
single character outside GSM-7 (an emoji, "ő", a curly quote) switches the whole text to UCS-2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ringback.engine.enrollment import StepState
from ringback.engine.model import Channel, GenerationRequest, StepContent, StepStatus

# GSM 03.38 basic set; the extension set costs two septets each.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
# Countries whose carriers (CTIA in the US, CASL in Canada) expect opt-out wording in the first text.
OPT_OUT_REGIONS = ("+1",)
OPT_OUT_TEXT = {
    "en": "Reply STOP to opt out.",
    "es": "Responda STOP para darse de baja.",
    "fr": "Répondez STOP pour vous désabonner.",
    "de": "Antworten Sie STOP zum Abmelden.",
    "pt": "Responda STOP para sair.",
    "it": "Rispondi STOP per non ricevere altri messaggi.",
}


def is_gsm7(text: str) -> bool:
    return all(char in _GSM_BASIC or char in _GSM_EXTENDED for char in text)


def segments(text: str) -> int:
    """How many SMS segments `text` is billed as."""
    if is_gsm7(text):
        units, single, multi = len(text) + sum(char in _GSM_EXTENDED for char in text), 160, 153
    else:
        units, single, multi = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / multi)


def has_opt_out(text: str) -> bool:
    """Whether a text tells how to opt out: carriers key on STOP, whatever the language around it."""
    return "STOP" in text


def needs_opt_out(phone: str | None) -> bool:
    """Whether a first text to this E.164 number should carry opt-out wording."""
    return bool(phone) and phone.startswith(OPT_OUT_REGIONS)


def opt_out_step(steps: Sequence[StepState]) -> int | None:
    """The index of the sequence's first text that will run, when its number expects opt-out wording.
    Generated content gets the wording added (`finish_text`); a reviewer's edit must keep it."""
    first = next((s for s in steps if s.channel is Channel.SMS and s.status != StepStatus.SKIPPED), None)
    return first.index if first is not None and needs_opt_out(first.recipient) else None


def opt_out_text(language: str) -> str:
    return OPT_OUT_TEXT.get(language, OPT_OUT_TEXT["en"])


def finish_text(request: GenerationRequest, index: int, content: StepContent) -> StepContent:
    """A guarded SMS made ready to send, whoever wrote it: the first text of the sequence gets opt-out wording
    where expected, and the body is cut on a word boundary until the whole fits the template's segments."""
    first_text = next((plan.index for plan in request.runs if plan.channel is Channel.SMS), None)
    suffix = ""
    if request.sms_opt_out and index == first_text and not has_opt_out(content.body):
        suffix = " " + opt_out_text(request.language)
    words = content.body.split(" ")
    while len(words) > 1 and segments(" ".join(words) + suffix) > request.sms_max_segments:
        words.pop()
    return StepContent(body=" ".join(words).rstrip(" ,;:") + suffix, subject=content.subject)
