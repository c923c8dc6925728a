"""`POST /webhooks/twilio/voice?step=<step id>`: what a call says, decided when Twilio reaches someone.

The call is placed with this URL and answering-machine detection, so Twilio posts `AnsweredBy` here: a
person hears the live-answer script (and is put through to the template's connect number), a machine gets
the voicemail script after the beep (`engine.voice`). The request is signed like every Twilio webhook (403
when forged). A step we cannot script gets a polite goodbye, never an error: Twilio would read an error
page's tone to the lead.
"""

from __future__ import annotations

import logging

import falcon

from ringback.engine.voice import spoken_for
from ringback.http.twilio_signature import TwilioRequestVerifier
from ringback.ids import looks_like
from ringback.providers.channels.twiml import build_voice_twiml, goodbye_twiml
from ringback.storage.voice_calls import call_scripts

log = logging.getLogger(__name__)


class TwilioVoiceResource:
    def __init__(self, verifier: TwilioRequestVerifier) -> None:
        self._verifier = verifier

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = self._verifier.form(req)
        step_id = req.get_param("step") or ""
        scripts = call_scripts(step_id) if looks_like(step_id, "stp") else None
        resp.status = falcon.HTTP_200
        resp.content_type = "text/xml; charset=utf-8"
        if scripts is None:
            log.info("Twilio asked for the script of an unknown call step; said goodbye")
            resp.text = goodbye_twiml()
            return
        spoken = spoken_for(scripts, form.get("AnsweredBy", ""))
        resp.text = build_voice_twiml(
            spoken.text, spoken.language, spoken.connect_number, pause=not spoken.after_beep
        )
