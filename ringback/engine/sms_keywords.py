"""What an inbound SMS asks for: opt out, opt back in, help, or none of these (a reply).

Carriers and Twilio treat a message as a keyword only when the keyword is the whole message, so
"stop" and "Stop!" opt out while "please stop by tomorrow" is an ordinary reply. We follow that
rule, ignoring case, surrounding spaces and punctuation, spaces or hyphens inside ("opt-out") and
compatibility forms (full-width letters from East Asian keyboards).
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class SmsIntent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    REPLY = "reply"


OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})

_EDGES = re.compile(r"^[\W_]+|[\W_]+$")  # anything but letters and digits, at either end
_INNER = re.compile(r"[\s_-]+")


def normalize(body: str) -> str:
    """The message as a candidate keyword: no surrounding punctuation or spaces, no inner gaps, upper case."""
    text = unicodedata.normalize("NFKC", body)
    return _INNER.sub("", _EDGES.sub("", text)).upper()


def classify(body: str) -> SmsIntent:
    word = normalize(body)
    if word in OPT_OUT_WORDS:
        return SmsIntent.OPT_OUT
    if word in OPT_IN_WORDS:
        return SmsIntent.OPT_IN
    if word in HELP_WORDS:
        return SmsIntent.HELP
    return SmsIntent.REPLY
