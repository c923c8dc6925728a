"""SMS and voice through the real twilio SDK.

Two facts about twilio 9.x shape this module (DESIGN §11): its default HTTP client has no timeout,
so we pass one that does; and `edge`/`region` can only rewrite `*.twilio.com` host names, so a
different API base (the fake server in tests, a proxy) is set on the `api` domain itself.

A call's TwiML is fetched from our signed endpoint (`message.voice_url`, `/webhooks/twilio/voice`), which
reads Twilio's `AnsweredBy` and speaks the live-answer script to a person and the voicemail script to a
machine (`engine.voice`).

Answering machines (`machine_detection`):
- "off": no detection; the live script plays to whoever or whatever answers.
- "voicemail": `DetectMessageEnd` — Twilio fetches the TwiML once a machine's greeting has ended
  (beep), so the voicemail script lands in the voicemail; a human hears the live script as soon as they
  are detected.
- "hangup": asynchronous AMD (`Enable` + `AsyncAmd`). The script starts at once; when Twilio posts
  the detection result (`AnsweredBy`) to the status callback URL and `twilio_status.should_hang_up`
  says it is a machine or fax, the webhook calls `TwilioChannel.hang_up(CallSid)`, which ends the
  call through the REST API. Without a callback URL nobody can act on the result.
A message with `voicemail=False` turns "voicemail" into "hangup" for that call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from ringback.engine.model import Channel
from ringback.providers.channels.base import (
    OutboundMessage,
    PermanentSendError,
    Receipt,
    SendError,
    TransientSendError,
)
from ringback.providers.channels.twiml import build_voice_twiml

MachineDetection = Literal["hangup", "voicemail", "off"]

# Longer SMS are cut at a word boundary. 320 characters is 3 segments in GSM-7 (153 per segment)
# but 5 in UCS-2 (67 per segment), which any accent outside GSM-7 forces; both are acceptable costs.
SMS_MAX_CHARS = 320
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


class OutcomeUnknownError(TransientSendError):
    """The request reached Twilio but no answer came back: the message or call may exist.

    Retryable by the base contract, but DESIGN §5 says SMS and voice must never be re-sent blindly:
    callers should record such a step as `unknown` and reconcile it rather than retry.
    """


class TwilioChannel:
    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_base: str | None = None,
        timeout_seconds: float = 15.0,
        machine_detection: MachineDetection = "voicemail",
    ) -> None:
        self._machine_detection = machine_detection
        self._client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout_seconds))
        if api_base:
            self._client.api.base_url = api_base.rstrip("/")
            # TWILIO_EDGE / TWILIO_REGION from the environment would rewrite the host name again.
            self._client.edge = self._client.region = None
        self._account = self._client.api.v2010.accounts(account_sid)

    def send(self, message: OutboundMessage) -> Receipt:
        if message.channel == Channel.SMS:
            sid = _call_twilio(lambda: self._send_sms(message))
        elif message.channel == Channel.VOICE:
            sid = _call_twilio(lambda: self._place_call(message))
        else:
            raise PermanentSendError(
                f"twilio cannot send {message.channel} messages", code="unsupported_channel"
            )
        return Receipt(self.name, sid)

    def hang_up(self, call_sid: str) -> None:
        """End a call in progress (answering machine detected in "hangup" mode)."""
        _call_twilio(lambda: self._account.calls(call_sid).update(status="completed").sid)

    def check_credentials(self) -> None:
        """Fetch the account, for `ringback doctor`; raises a SendError if Twilio refuses or is away."""
        _call_twilio(lambda: self._account.fetch().sid)

    def _send_sms(self, message: OutboundMessage) -> str:
        sender = message.sender_address
        created = self._account.messages.create(
            to=message.to,
            body=sms_body(message.body),
            **({"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}),
            **_optional(status_callback=message.status_callback_url),
        )
        return created.sid

    def _place_call(self, message: OutboundMessage) -> str:
        callback = message.status_callback_url
        created = self._account.calls.create(
            to=message.to,
            from_=message.sender_address,
            **self._script_params(message),
            **({"status_callback": callback, "status_callback_event": CALL_EVENTS} if callback else {}),
            **self._detection_params(message),
        )
        return created.sid

    @staticmethod
    def _script_params(message: OutboundMessage) -> dict[str, str]:
        """Our TwiML endpoint when there is one (it picks the live or voicemail script by `AnsweredBy`);
        otherwise the live script inline, for whoever or whatever answers."""
        if message.voice_url:
            return {"url": message.voice_url, "method": "POST"}
        return {"twiml": build_voice_twiml(message.body, message.language, message.connect_number or None)}

    def _detection_params(self, message: OutboundMessage) -> dict[str, str]:
        mode = self._machine_detection
        if mode == "voicemail" and not message.voicemail:
            mode = "hangup"
        if mode == "voicemail":
            return {"machine_detection": "DetectMessageEnd"}
        if mode == "hangup":
            return {
                "machine_detection": "Enable",
                "async_amd": "true",
                **_optional(async_amd_status_callback=message.status_callback_url),
            }
        return {}


def sms_body(text: str, limit: int = SMS_MAX_CHARS) -> str:
    """The SMS text, cut on the last word boundary before `limit` when it is longer."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]  # one extra character shows whether the limit falls between words
    boundary = max(cut.rfind(" "), cut.rfind("\n"))
    return (cut[:boundary] if boundary > 0 else text[:limit]).rstrip(" \n,;:-")


def _optional(**params: str) -> dict[str, str]:
    return {name: value for name, value in params.items() if value}


def _call_twilio(request: Callable[[], str]) -> str:
    """Run one SDK request and turn every failure into a SendError."""
    try:
        return request()
    except (TwilioRestException, TwilioServiceException) as exc:
        raise _rest_error(exc) from exc
    except requests.ConnectTimeout as exc:  # before `Timeout`: the request never left
        raise TransientSendError(f"twilio unreachable: {exc}", code="connect_timeout") from exc
    except requests.Timeout as exc:
        raise OutcomeUnknownError(f"twilio did not answer in time: {exc}", code="timeout") from exc
    except requests.ConnectionError as exc:
        if _never_connected(exc):
            raise TransientSendError(f"twilio unreachable: {exc}", code="connection") from exc
        raise OutcomeUnknownError(f"twilio connection lost: {exc}", code="connection_lost") from exc
    except (requests.RequestException, TwilioException, ValueError) as exc:
        # A garbled answer (bad JSON, unexpected shape) after Twilio may have acted on the request.
        raise OutcomeUnknownError(f"twilio gave an unusable answer: {exc}", code="bad_response") from exc


def _never_connected(exc: requests.ConnectionError) -> bool:
    """Refused or unresolvable (urllib3 NewConnectionError), as opposed to a dropped answer."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def _rest_error(exc: TwilioRestException | TwilioServiceException) -> SendError:
    """429 and 5xx are Twilio's "try again"; any other 4xx (21211 bad number, 21610 opted out) is final."""
    status = int(exc.status)
    code = str(exc.code or status)
    text = exc.msg if isinstance(exc, TwilioRestException) else (exc.detail or exc.title)
    if status == 429 or status >= 500:
        return TransientSendError(f"twilio {status}: {text}", code=code)
    return PermanentSendError(f"twilio {status}: {text}", code=code)
