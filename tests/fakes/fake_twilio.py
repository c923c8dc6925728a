"""A loopback HTTP server that answers the real twilio SDK like api.twilio.com does.

Covers what ringback uses: create a Message, create a Call, update a Call (hang up) and fetch the
Account, with Twilio's Basic auth, form-encoded bodies, JSON resources and JSON error bodies.

    with FakeTwilio() as twilio:                       # twilio.base_url → TwilioChannel(api_base=...)
        twilio.fail_next(1, status=503, code=20500)     # scripted failures, consumed in order
        twilio.hang_next(1)                             # next request gets no answer (timeouts)
        ...
        twilio.requests[-1].param("Body")               # everything is recorded

Validation mirrors Twilio where tests need it: a "To" that is not E.164 gets 400 / 21211.

Twilio also calls us: `webhook(public_url, path, params)` builds the form body and headers of a
webhook POST signed the way Twilio signs it (`RequestValidator.compute_signature`), and
`answer_call(call_sid, answered_by, reach=...)` plays a call being picked up: like Twilio, it fetches the
call's TwiML `Url` with `AnsweredBy` (when detection was asked for), signed for that URL, and returns the
TwiML our server answered.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator

HOST = "127.0.0.1"
API_VERSION = "2010-04-01"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_ROUTE = re.compile(
    rf"^/{API_VERSION}/Accounts/(?P<sid>AC\w+)(?:/(?P<kind>Messages|Calls)(?:/(?P<item>\w+))?)?\.json$"
)


def webhook(
    public_url: str, path: str, params: dict[str, str], auth_token: str = AUTH_TOKEN
) -> tuple[str, dict[str, str]]:
    """(body, headers) of the POST Twilio would send to `public_url + path` (path with its query string)."""
    signature = RequestValidator(auth_token).compute_signature(public_url + path, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return urlencode(params), headers


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    form: dict[str, list[str]]
    authorized: bool

    def param(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None


@dataclass
class _Script:
    status: int
    code: int
    message: str
    remaining: int


class _Error(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        self.status = status


@dataclass
class _State:
    account_sid: str
    auth_token: str
    requests: list[RecordedRequest] = field(default_factory=list)
    scripts: list[_Script] = field(default_factory=list)
    hangs: int = 0
    calls: dict[str, dict] = field(default_factory=dict)
    call_params: dict[str, dict[str, str]] = field(default_factory=dict)  # what each call was created with
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)


class FakeTwilio:
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._state = _State(account_sid, auth_token)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://{HOST}:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def fail_next(self, count: int, status: int, code: int, message: str = "Scripted failure") -> None:
        """The next `count` requests answer `status` with Twilio error `code` (after any earlier script)."""
        with self._state.lock:
            self._state.scripts.append(_Script(status, code, message, count))

    def hang_next(self, count: int = 1) -> None:
        """The next `count` requests are read but never answered until the server stops."""
        with self._state.lock:
            self._state.hangs += count

    def answer_call(self, call_sid: str, answered_by: str, reach: str | None = None, timeout: float = 10.0) -> str:
        """The TwiML our server gives when `answered_by` picks up the call. Twilio signs the URL it was given;
        `reach` ("http://127.0.0.1:PORT") is where that URL's server really listens, as behind a proxy."""
        with self._state.lock:
            params = dict(self._state.call_params[call_sid])
        url = params["Url"]
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": call_sid,
            "CallStatus": "in-progress",
            "Direction": "outbound-api",
            "From": params["From"],
            "To": params["To"],
        }
        if params.get("MachineDetection") and params.get("AsyncAmd") != "true":
            # Twilio reports who answered here only for synchronous detection; async AMD posts it later.
            form["AnsweredBy"] = answered_by
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        parts = urlsplit(url)
        target = url if reach is None else f"{reach}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        request = urllib.request.Request(
            target,
            data=urlencode(form).encode(),
            method=params.get("Method", "POST"),
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # loopback only, in tests
            return response.read().decode()

    def start(self) -> FakeTwilio:
        state = self._state

        class Handler(_TwilioHandler):
            pass

        Handler.state = state
        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-twilio", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._state.released.set()  # let hanging handlers finish
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _TwilioHandler(BaseHTTPRequestHandler):
    state: _State
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True) if length else {}
        authorized = self._authorized()
        state = self.state
        with state.lock:
            state.requests.append(RecordedRequest(method, self.path, form, authorized))
            hang = state.hangs > 0
            state.hangs -= hang
            script = _take_script(state)
        if hang:
            state.released.wait(timeout=30)
            self.close_connection = True
            return
        try:
            if script is not None:
                raise _Error(script.status, script.code, script.message)
            if not authorized:
                raise _Error(401, 20003, "Authenticate")
            status, body = self._route(method, form)
        except _Error as error:
            status, body = error.status, error.body
        self._reply(status, body)

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        expected = f"{self.state.account_sid}:{self.state.auth_token}".encode()
        return header == "Basic " + base64.b64encode(expected).decode()

    def _route(self, method: str, form: dict[str, list[str]]) -> tuple[int, dict]:
        match = _ROUTE.match(self.path)
        if match is None:
            raise _Error(404, 20404, f"The requested resource {self.path} was not found")
        if match["sid"] != self.state.account_sid:
            raise _Error(404, 20404, f"The requested resource {self.path} was not found")
        params = {name: values[0] for name, values in form.items()}
        route = (method, match["kind"], match["item"] is not None)
        if route == ("GET", None, False):
            return 200, _account(self.state.account_sid)
        if route == ("POST", "Messages", False):
            return 201, _create_message(self.state.account_sid, params)
        if route == ("POST", "Calls", False):
            call = _create_call(self.state.account_sid, params)
            with self.state.lock:
                self.state.calls[call["sid"]] = call
                self.state.call_params[call["sid"]] = params
            return 201, call
        if route == ("POST", "Calls", True):
            return 200, _update_call(self.state, match["item"], params)
        raise _Error(405, 20004, "Method not allowed")

    def _reply(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _take_script(state: _State) -> _Script | None:
    if not state.scripts:
        return None
    script = state.scripts[0]
    script.remaining -= 1
    if script.remaining <= 0:
        state.scripts.pop(0)
    return script


def _now() -> str:
    return format_datetime(datetime.now(UTC))


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def _require(params: dict[str, str], name: str, code: int) -> str:
    value = params.get(name, "")
    if not value:
        raise _Error(400, code, f"A '{name}' phone number is required.")
    if name in ("To", "From") and not _E164.match(value):
        raise _Error(
            400, 21211 if name == "To" else 21212, f"The '{name}' number {value} is not a valid phone number."
        )
    return value


def _create_message(account_sid: str, params: dict[str, str]) -> dict:
    to = _require(params, "To", 21604)
    service = params.get("MessagingServiceSid")
    sender = None if service else _require(params, "From", 21603)
    if not params.get("Body"):
        raise _Error(400, 21602, "Message body is required.")
    sid = _sid("SM")
    now = _now()
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": params["Body"],
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": sender,
        "messaging_service_sid": service,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "accepted" if service else "queued",
        "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}/Media.json"},
        "to": to,
        "uri": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json",
    }


def _create_call(account_sid: str, params: dict[str, str]) -> dict:
    to = _require(params, "To", 21201)
    sender = _require(params, "From", 21213)
    if not (params.get("Twiml") or params.get("Url") or params.get("ApplicationSid")):
        raise _Error(400, 21205, "Url, Twiml or ApplicationSid is required.")
    sid = _sid("CA")
    now = _now()
    return {
        "account_sid": account_sid,
        "annotation": None,
        "answered_by": None,
        "api_version": API_VERSION,
        "caller_name": None,
        "date_created": now,
        "date_updated": now,
        "direction": "outbound-api",
        "duration": None,
        "end_time": None,
        "forwarded_from": None,
        "from": sender,
        "from_formatted": sender,
        "group_sid": None,
        "parent_call_sid": None,
        "phone_number_sid": _sid("PN"),
        "price": None,
        "price_unit": "USD",
        "queue_time": "0",
        "sid": sid,
        "start_time": None,
        "status": "queued",
        "subresource_uris": {
            "recordings": f"/{API_VERSION}/Accounts/{account_sid}/Calls/{sid}/Recordings.json"
        },
        "to": to,
        "to_formatted": to,
        "trunk_sid": None,
        "uri": f"/{API_VERSION}/Accounts/{account_sid}/Calls/{sid}.json",
    }


def _update_call(state: _State, call_sid: str, params: dict[str, str]) -> dict:
    with state.lock:
        call = state.calls.get(call_sid)
        if call is None:
            raise _Error(404, 20404, f"The requested resource Calls/{call_sid} was not found")
        if params.get("Status"):
            call.update(status=params["Status"], date_updated=_now())
        return dict(call)


def _account(account_sid: str) -> dict:
    now = _now()
    return {
        "auth_token": "redacted",
        "date_created": now,
        "date_updated": now,
        "friendly_name": "ringback tests",
        "owner_account_sid": account_sid,
        "sid": account_sid,
        "status": "active",
        "subresource_uris": {"calls": f"/{API_VERSION}/Accounts/{account_sid}/Calls.json"},
        "type": "Full",
        "uri": f"/{API_VERSION}/Accounts/{account_sid}.json",
    }
