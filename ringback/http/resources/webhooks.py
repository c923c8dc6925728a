"""Twilio webhooks: delivery status of our SMS and calls, and inbound SMS (opt-outs, replies).

Both answer TwiML (`<Response/>`, or a `<Message>` for HELP) with 200 whenever the signature is good,
even for steps or numbers we do not know: anything else makes Twilio retry a request that cannot
succeed. Work for an enrollment is handed to the supervisor, which applies it in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import falcon
from twilio.twiml.messaging_response import MessagingResponse

from ringback.actors.messages import Deliver
from ringback.commands.contact_events import ContactEvent, ContactEvents
from ringback.engine.events import DeliveryReported
from ringback.engine.sms_keywords import SmsIntent, classify
from ringback.http.resources.contact_events import ALL_CHANNELS
from ringback.http.twilio_signature import TwilioRequestVerifier
from ringback.providers.channels.base import SendError
from ringback.providers.channels.twilio_status import (
    IGNORED,
    StatusUpdate,
    call_status_update,
    message_status_update,
    should_hang_up,
)
from ringback.storage import contacts, enrollments

log = logging.getLogger(__name__)

HELP_TEXT = "Reply STOP to stop receiving messages from us, START to receive them again."
OPTED_OUT_BY_SMS = ContactEvent("opted out by SMS", ALL_CHANNELS, opt_out="sms")
REPLIED_BY_SMS = ContactEvent("replied by SMS")


def _answer(resp: falcon.Response, twiml: MessagingResponse | None = None) -> None:
    resp.status = falcon.HTTP_200
    resp.content_type = "text/xml; charset=utf-8"
    resp.text = str(twiml or MessagingResponse())


class TwilioStatusResource:
    """`POST /webhooks/twilio/status?step=<step id>`: Twilio's status callbacks for one step.

    A callback maps to a `DeliveryReported` whose rank lets the state machine ignore repeats and
    late arrivals. The asynchronous answering-machine callback (`AnsweredBy` without `CallStatus`)
    only comes for calls placed in "hangup" mode; when it reports a machine, the call is ended.
    """

    def __init__(
        self,
        verifier: TwilioRequestVerifier,
        tell_supervisor: Callable[[Any], None],
        hang_up: Callable[[str], None] | None,
    ) -> None:
        """A status report writes nothing here: the enrollment's actor applies it (in order) and persists it."""
        self._verifier = verifier
        self._tell = tell_supervisor
        self._hang_up = hang_up

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = self._verifier.form(req)
        found = enrollments.find_step(req.get_param("step") or "")
        if found is None:
            log.info("Twilio status callback for an unknown step; ignored")
        elif "AnsweredBy" in form and "CallStatus" not in form:
            self._machine_detection(form.get("CallSid", ""), form["AnsweredBy"])
        else:
            _, enrollment_id, index = found
            update = _status_update(form)
            if update.step_state is not None:
                self._tell(Deliver(enrollment_id, _reported(index, update, form)))
        _answer(resp)

    def _machine_detection(self, call_sid: str, answered_by: str) -> None:
        if self._hang_up is None or not call_sid or not should_hang_up(answered_by):
            return
        try:
            self._hang_up(call_sid)
        except SendError as error:  # the call may have ended on its own meanwhile
            log.warning("could not hang up call %s on an answering machine: %s", call_sid, error.code)


def _status_update(form: dict[str, str]) -> StatusUpdate:
    if "CallStatus" in form:
        return call_status_update(form["CallStatus"], _seconds(form.get("CallDuration", "")))
    if "MessageStatus" in form:
        return message_status_update(form["MessageStatus"], form.get("ErrorCode") or None)
    return IGNORED


def _seconds(text: str) -> int | None:
    """A whole number of seconds, or None. `str.isdigit` alone is not enough: "²" is a digit to it, not to int()."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def _reported(index: int, update: StatusUpdate, form: dict[str, str]) -> DeliveryReported:
    if update.step_state != "failed":
        return DeliveryReported(index, update.step_state, update.rank)
    message = form.get("ErrorMessage") or f"twilio reported {update.error_code}"
    return DeliveryReported(index, "failed", update.rank, update.error_code, message)


class TwilioSmsResource:
    """`POST /webhooks/twilio/sms`: an SMS to one of our numbers (the number's "A message comes in" URL).

    STOP and its synonyms suppress every contact holding the sender's number on every channel;
    START lifts the SMS suppression (for a contact that was not opted out it is an ordinary reply);
    HELP answers with how to opt out; anything else is a reply that stops the contacts' sequences
    when `reply_stops_sequence` is on. Twilio itself confirms STOP and START to the sender.
    """

    def __init__(
        self,
        verifier: TwilioRequestVerifier,
        events: ContactEvents,
        reply_stops_sequence: bool,
    ) -> None:
        self._verifier = verifier
        self._events = events
        self._reply_stops = reply_stops_sequence

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = self._verifier.form(req)
        intent = classify(form.get("Body", ""))
        if intent == SmsIntent.HELP:
            twiml = MessagingResponse()
            twiml.message(HELP_TEXT)
            _answer(resp, twiml)
            return
        sender = form.get("From", "")
        contact_ids = [contact_id for _, contact_id in contacts.contacts_by_phone(sender)] if sender else []
        if intent == SmsIntent.OPT_OUT:
            self._events.record(contact_ids, OPTED_OUT_BY_SMS)
        else:
            replied = self._events.opt_in_sms(contact_ids) if intent == SmsIntent.OPT_IN else contact_ids
            if self._reply_stops:
                self._events.record(replied, REPLIED_BY_SMS)
        _answer(resp)
