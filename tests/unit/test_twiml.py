"""TwiML for voice steps: the right voice per language, and spoken text that can never become markup."""

from xml.etree import ElementTree

import pytest

from ringback.providers.channels.twiml import DEFAULT_VOICE, build_voice_twiml, voice_for


def parse(twiml: str) -> ElementTree.Element:
    root = ElementTree.fromstring(twiml)
    assert root.tag == "Response"
    return root


@pytest.mark.parametrize(
    ("language", "locale", "voice"),
    [
        ("en", "en-US", "Polly.Joanna"),
        ("es", "es-ES", "Polly.Lucia"),
        ("fr", "fr-FR", "Polly.Lea"),
        ("de", "de-DE", "Polly.Vicki"),
        ("pt", "pt-BR", "Polly.Camila"),
        ("it", "it-IT", "Polly.Bianca"),
        ("pt-PT", "pt-PT", "Polly.Ines"),
        ("es_MX", "es-MX", "Polly.Mia"),
        ("de-AT", "de-DE", "Polly.Vicki"),
    ],
)
def test_say_uses_a_voice_that_speaks_the_language(language, locale, voice):
    say = parse(build_voice_twiml("Hola", language)).find("Say")
    assert say.get("language") == locale
    assert say.get("voice") == voice


def test_unknown_language_falls_back_to_english():
    assert voice_for("xx") == DEFAULT_VOICE


def test_pause_then_script_then_nothing_without_a_connect_number():
    root = parse(build_voice_twiml("Hola María, le llamo de Acme.", "es"))
    assert [child.tag for child in root] == ["Pause", "Say"]
    assert root.find("Say").text == "Hola María, le llamo de Acme."


def test_dials_the_connect_number_after_the_script():
    root = parse(build_voice_twiml("Un momento.", "es", connect_number="+34911234567"))
    assert [child.tag for child in root] == ["Pause", "Say", "Dial"]
    assert root.find("Dial").text == "+34911234567"


def test_script_is_escaped_and_cannot_inject_verbs():
    script = "Prices < 5 & \"quotes\" 'too' </Say><Dial>+15550000000</Dial><Say>"
    twiml = build_voice_twiml(script, "en")
    root = parse(twiml)
    assert [child.tag for child in root] == ["Pause", "Say"]
    assert root.find("Say").text == script
    assert "<Dial>" not in twiml and "&lt;/Say&gt;" in twiml
