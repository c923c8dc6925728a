"""Inbound SMS keywords: the whole message is the keyword, whatever its case, spacing or punctuation."""

from __future__ import annotations

import pytest

from ringback.engine.sms_keywords import SmsIntent, classify


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        "Stop",
        "  stop  ",
        "Stop.",
        "STOP!!",
        "¡Stop!",
        '"stop"',
        "stop\n",
        "STOPALL",
        "Stop all",
        "unsubscribe",
        "Cancel",
        "end",
        "QUIT",
        "revoke",
        "OPTOUT",
        "opt-out",
        "Opt out",
        "\uff33\uff34\uff2f\uff30",  # "STOP" in full-width letters, as some East Asian keyboards type it
    ],
)
def test_opt_out_keywords(body):
    assert classify(body) == SmsIntent.OPT_OUT


@pytest.mark.parametrize("body", ["START", "start", "Unstop", "yes", "Yes!"])
def test_opt_in_keywords(body):
    assert classify(body) == SmsIntent.OPT_IN


@pytest.mark.parametrize("body", ["HELP", "help?", "Info", " info. "])
def test_help_keywords(body):
    assert classify(body) == SmsIntent.HELP


@pytest.mark.parametrize(
    "body",
    [
        "please stop",
        "Stop calling me at work",
        "Can we talk tomorrow?",
        "stopp",
        "helpful, thanks",
        "",
        "...",
        "🙂",
    ],
)
def test_anything_else_is_a_reply(body):
    assert classify(body) == SmsIntent.REPLY
