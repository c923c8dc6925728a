"""TwiML for outbound voice steps, built in code so spoken text can never become markup.

The script comes from the LLM and is untrusted: it only ever reaches the document as the text
of a `<Say>` element, which the twilio library escapes, so `</Say><Dial>` is spoken, not obeyed.
"""

from __future__ import annotations

from typing import NamedTuple

from twilio.twiml.voice_response import VoiceResponse


class Voice(NamedTuple):
    locale: str  # the <Say language="..."> value
    name: str  # a Twilio <Say voice="..."> name that speaks that locale


# Amazon Polly voices as Twilio names them. The bare language picks the most widely understood
# locale; a regional tag ("pt-PT", "es-MX") picks the regional voice when we know one.
VOICES: dict[str, Voice] = {
    "en": Voice("en-US", "Polly.Joanna"),
    "en-gb": Voice("en-GB", "Polly.Amy"),
    "en-au": Voice("en-AU", "Polly.Nicole"),
    "es": Voice("es-ES", "Polly.Lucia"),
    "es-mx": Voice("es-MX", "Polly.Mia"),
    "es-us": Voice("es-US", "Polly.Lupe"),
    "fr": Voice("fr-FR", "Polly.Lea"),
    "fr-ca": Voice("fr-CA", "Polly.Chantal"),
    "de": Voice("de-DE", "Polly.Vicki"),
    "pt": Voice("pt-BR", "Polly.Camila"),
    "pt-pt": Voice("pt-PT", "Polly.Ines"),
    "it": Voice("it-IT", "Polly.Bianca"),
    "nl": Voice("nl-NL", "Polly.Lotte"),
}
DEFAULT_VOICE = VOICES["en"]

GOODBYE = "Sorry, we cannot continue this call right now. Thank you, and goodbye."
# A beat of silence lets the callee say "hello?" before the script starts talking over them.
PAUSE_SECONDS = 1


def voice_for(language: str) -> Voice:
    """The voice for an ISO 639-1 code or a regional tag; unknown languages fall back to English."""
    tag = language.strip().replace("_", "-").lower()
    return VOICES.get(tag) or VOICES.get(tag.split("-")[0], DEFAULT_VOICE)


def build_voice_twiml(script: str, language: str, connect_number: str | None = None, pause: bool = True) -> str:
    """A pause, the script spoken in `language`, then optionally a `<Dial>` to a human. A voicemail left
    after the beep needs no pause: the recording has started."""
    voice = voice_for(language)
    response = VoiceResponse()
    if pause:
        response.pause(length=PAUSE_SECONDS)
    response.say(script, voice=voice.name, language=voice.locale)
    if connect_number:
        response.dial(connect_number)
    return str(response)


def goodbye_twiml() -> str:
    """For a call we cannot script (unknown step): a polite sentence and a hang-up, never an error tone."""
    response = VoiceResponse()
    response.say(GOODBYE, voice=DEFAULT_VOICE.name, language=DEFAULT_VOICE.locale)
    response.hangup()
    return str(response)
