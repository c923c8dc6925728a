"""jinja2 rendering for the HTML pages, with the headers every page needs.

Autoescape is on for every template: names, notes and generated text come from outside and end up in HTML.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import falcon
import jinja2
import pykka

from ringback.actors.review_mail import human_duration

log = logging.getLogger(__name__)

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("ringback.http.pages", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,  # a typo in a template is an error in the tests, not a blank on a page
    trim_blocks=True,
    lstrip_blocks=True,
)

# The pages need no script, no frame and no foreign resource; the form posts only to ourselves.
# http/middleware.py's SecurityHeadersMiddleware puts these on every HTML response (review, unsubscribe, ...).
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Same-origin keeps Origin/Referer on our own form posts (csrf.same_origin) and the token off other sites.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def local_time(moment: datetime | None, zone: str = "UTC") -> str:
    """'Wed 6 May 2026, 12:00 Europe/Madrid': the recipient's wall clock, which is what the admin judges."""
    if moment is None:
        return "—"
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz, zone = UTC, "UTC"
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {zone}"


def relative(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    seconds = (moment - now).total_seconds()
    if abs(seconds) < 60:
        return "now"
    return f"in {human_duration(seconds)}" if seconds > 0 else f"{human_duration(-seconds)} ago"


_ENV.filters["local_time"] = local_time
_ENV.globals["relative"] = relative


def render(name: str, **context: object) -> str:
    return _ENV.get_template(name).render(**context)


def write_page(resp: falcon.Response, status: int, name: str, **context: object) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_HTML
    resp.text = render(name, http_status=status, **context)


class PageError(Exception):
    """An answer that is a whole HTML page with an error status, saying what happened."""

    def __init__(
        self,
        status: int,
        title: str,
        message: str,
        details: Iterable[tuple[str, str]] = (),
        link: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {title}")
        self.status, self.title, self.message = status, title, message
        self.details, self.link = list(details), link


def message_page(
    resp: falcon.Response,
    status: int,
    title: str,
    message: str,
    details: Iterable[tuple[str, str]] = (),
    link: dict[str, str] | None = None,
    refresh_seconds: int = 0,
) -> None:
    write_page(
        resp,
        status,
        "message.html",
        title=title,
        message=message,
        details=list(details),
        link=link,
        refresh_seconds=refresh_seconds,
    )


def html_errors(responder: Callable[..., None]) -> Callable[..., None]:
    """Every answer of a page route is a page, errors included (the JSON envelope is for /api/)."""

    @functools.wraps(responder)
    def wrapper(self: object, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        try:
            responder(self, req, resp, **params)
        except PageError as error:
            message_page(resp, error.status, error.title, error.message, error.details, error.link)
        except pykka.Timeout:
            log.error("%s: the supervisor did not answer in time", req.uri_template)
            message_page(resp, 503, "Busy", "Please try again in a minute.")
        except Exception:
            log.exception("%s failed", req.uri_template)  # the template, never the path: it holds the token
            message_page(resp, 500, "Something went wrong", "Please try again.")

    return wrapper
