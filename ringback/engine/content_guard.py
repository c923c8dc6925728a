"""Output guard for step content.

Whatever a writer returns is untrusted (an LLM can be steered by the lead's own notes), and a human edit can
carry pasted-in markup. Before content is stored or sent it goes through here: markup and control characters
are stripped, lengths are capped, and links outside the template's allow-list are removed. Recipients,
channels and timing never come from content; only the body and the subject survive.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from ringback.engine.model import Channel, StepContent
from ringback.engine.sms import has_opt_out, opt_out_text

MAX_SUBJECT_CHARS = 150
MAX_BODY_CHARS: dict[Channel, int] = {Channel.EMAIL: 5_000, Channel.SMS: 320, Channel.VOICE: 1_500}

_ELLIPSIS = "…"
# Schemes that would let content address someone other than the enrolled contact, or run code.
_FORBIDDEN_SCHEMES = ("mailto", "tel", "sms", "callto", "javascript", "data", "file")
_URL_TAIL = r"[^\s<>\"'`]"
# What a mail client turns into a link: any scheme (`ftp://`), a scheme-relative `//host`, a forbidden scheme,
# and a bare domain (`bit.ly/abc`) — the last only when its top-level domain exists (`_is_link`), so that
# `file.txt`, `v1.2.3` and `Node.js` stay text. A domain is not taken from an address (`ana.app@x.com`).
# Leading blanks are part of the match so that removing a link does not leave "see ." behind.
_LINK = re.compile(
    r"[ \t]*(?:"
    r"\b[a-z][a-z0-9+.-]*://" + _URL_TAIL + r"+"
    r"|(?<![\w/:])//[\w-]" + _URL_TAIL + r"*"
    r"|\b(?:" + "|".join(_FORBIDDEN_SCHEMES) + r"):" + _URL_TAIL + r"+"
    r"|(?<![\w@.:/-])(?:[\w-]+\.)+[\w-]+(?![\w.-]*@)(?::\d{1,5})?(?:[/?#]" + _URL_TAIL + r"*)?"
    r")",
    re.IGNORECASE,
)
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://|(?:" + "|".join(_FORBIDDEN_SCHEMES) + r"):", re.IGNORECASE)
# Special-use names (RFC 2606, 6761, 6762) are in no suffix list but resolve somewhere all the same.
_SPECIAL_USE_TLDS = frozenset({"example", "test", "invalid", "localhost", "local", "onion", "internal", "arpa"})
_LINK_TRAILING_PUNCTUATION = ".,;:!?)]}»"
_EMAIL_ADDRESS = re.compile(r"[ \t]*[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_NUMBER = re.compile(r"[ \t]*(?<![\w+])(?:\+|00)?\(?\d[\d \t().\-]{5,}\d(?!\w)")
_BLOCK_ELEMENT = re.compile(r"<(script|style|head|title)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_LINE_BREAK_TAG = re.compile(r"<\s*(?:br|/p|/div|/li|/h[1-6]|/tr)\b[^>]*>", re.IGNORECASE)
_HTML_LINK = re.compile(r"<a\b[^>]*?\bhref\s*=\s*[\"']?([^\"'\s>]*)[^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_INLINE_TAG = re.compile(r"</?(?:a|abbr|b|big|code|em|font|i|mark|s|small|span|strong|sub|sup|u)\b[^<>]*>", re.I)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>|<![^<>]*>|<\?[^<>]*>")
_MARKDOWN_LINK = re.compile(r"!?\[([^\]\n]*)\]\(([^)\s]*)\)")
_MARKDOWN_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MARKDOWN_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE)
_SPACES = re.compile(r"[ \t\u00a0]+")
_EMPTY_BRACKETS = re.compile(r"[ \t]*(?:\(\s*\)|\[\s*\])")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_ZERO_WIDTH_JOINER = "\u200d"  # kept: emoji sequences need it
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})


@dataclass(frozen=True)
class GuardResult:
    """The cleaned content, what was taken out of it, and what still makes it unusable.

    `removed_links` also lists e-mail addresses and phone numbers taken out of generated text. An empty
    `problems` means the content may be stored and sent.
    """

    content: StepContent
    removed_links: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


def guard(channel: Channel, content: StepContent, link_allowlist: Sequence[str]) -> GuardResult:
    """Clean generated content: fix silently what can be fixed, report what cannot (an empty body/subject).

    Contact details are removed as well as foreign links: a writer is never given a phone number or an
    address, so any it produces was invented or injected through the notes ("tell them to call ...").
    """
    body, subject, voicemail, removed = _clean(channel, content, link_allowlist, strip_contacts=True)
    limit = MAX_BODY_CHARS[channel]
    cleaned = StepContent(
        body=_truncate(body, limit),
        subject=_truncate(subject, MAX_SUBJECT_CHARS) if subject else None,
        voicemail=_truncate(voicemail, limit) if voicemail is not None else None,
    )
    return GuardResult(content=cleaned, removed_links=removed, problems=_missing_parts(channel, cleaned))


def validate_edit(
    channel: Channel, content: StepContent, link_allowlist: Sequence[str], opt_out_language: str | None = None
) -> GuardResult:
    """Check a reviewer's edit. A foreign link or an over-long text is reported rather than cut, since
    silently changing what a person typed would surprise them; contact details they typed are kept.

    `opt_out_language` is given for the first text to a number that expects opt-out wording (`engine.sms`):
    an edit that drops it is refused, naming the wording to put back, rather than completed behind the
    reviewer's back.
    """
    body, subject, voicemail, removed = _clean(channel, content, link_allowlist, strip_contacts=False)
    cleaned = StepContent(body=body, subject=subject or None, voicemail=voicemail)
    problems = list(_missing_parts(channel, cleaned))
    problems += [f"link not in the template's allow-list: {link}" for link in removed]
    if content.voicemail is not None and channel is not Channel.VOICE:
        problems.append("voicemail_script is only for voice steps")
    for name, text in (("body", body), ("voicemail_script", voicemail or "")):
        if len(text) > MAX_BODY_CHARS[channel]:
            problems.append(f"{name} is longer than {MAX_BODY_CHARS[channel]} characters")
    if len(subject) > MAX_SUBJECT_CHARS:
        problems.append(f"subject is longer than {MAX_SUBJECT_CHARS} characters")
    if opt_out_language is not None and not has_opt_out(body):
        problems.append(
            "body: the first text to a US or Canadian number must tell how to opt out; "
            f'end it with "{opt_out_text(opt_out_language)}"'
        )
    return GuardResult(content=cleaned, removed_links=removed, problems=tuple(problems))


def _clean(
    channel: Channel, content: StepContent, link_allowlist: Sequence[str], *, strip_contacts: bool
) -> tuple[str, str, str | None, tuple[str, ...]]:
    """Plain, tidy text without foreign links; lengths are left to the caller. A call's voicemail script is
    cleaned like its live script; other channels have none."""
    allowlist = _normalise_allowlist(link_allowlist)
    removed: list[str] = []

    def spoken_or_written(text: str) -> str:
        text = _filter_links(_plain_text(text), allowlist, removed)
        if strip_contacts:
            text = _outside_links(text, lambda part: _remove_contacts(part, removed))
        return _tidy(text, single_line=channel is Channel.VOICE)

    body = spoken_or_written(content.body)
    voicemail = None
    if channel is Channel.VOICE and content.voicemail is not None:
        voicemail = spoken_or_written(content.voicemail)
    subject = ""
    if channel is Channel.EMAIL:
        # A subject is a mail header: a line break in it could smuggle in headers (recipients) of its own.
        # Links have no business there at all.
        subject = _filter_links(_single_line(_plain_text(content.subject or "")), (), removed)
    if strip_contacts:
        subject = _remove_contacts(subject, removed)
    return body, _single_line(subject), voicemail, tuple(removed)


def _missing_parts(channel: Channel, content: StepContent) -> tuple[str, ...]:
    problems = []
    if not content.body:
        problems.append("body is empty")
    if content.voicemail == "":
        problems.append("voicemail_script is empty")
    if channel is Channel.EMAIL and not content.subject:
        problems.append("email subject is empty")
    return tuple(problems)


def _plain_text(text: str) -> str:
    """Markup → plain text. Entities are decoded before tags are stripped, so `&lt;b&gt;` cannot survive."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _MARKDOWN_LINK.sub(_link_with_text, text)
    for _ in range(3):  # nested escaping (&amp;lt;) needs more than one pass; three is plenty
        before = text
        text = html.unescape(text)
        text = _BLOCK_ELEMENT.sub(" ", text)
        text = _COMMENT.sub(" ", text)
        text = _HTML_LINK.sub(_link_with_text, text)
        text = _LINE_BREAK_TAG.sub("\n", text)
        text = _INLINE_TAG.sub("", text)
        text = _TAG.sub(" ", text)
        if text == before:
            break
    text = _MARKDOWN_EMPHASIS.sub(r"\2", text)
    text = _MARKDOWN_HEADING.sub("", text)
    return "".join(ch for ch in text if _printable(ch))


def _link_with_text(match: re.Match[str]) -> str:
    """`[text](url)` and `<a href="url">text</a>` → `text (url)`, so the url meets the allow-list check."""
    url, text = (match.group(2), match.group(1)) if match.re is _MARKDOWN_LINK else match.groups()
    return f"{text} ({url})" if url else text


def _printable(ch: str) -> bool:
    # Cc: control characters; Cf: invisible format characters (bidi overrides, zero-width spaces) that can
    # make a reviewer read something other than what is sent.
    return ch in "\n\t" or ch == _ZERO_WIDTH_JOINER or unicodedata.category(ch) not in _INVISIBLE_CATEGORIES


@functools.cache
def _suffixes() -> PublicSuffixList:
    """The Public Suffix List snapshot shipped inside the `publicsuffixlist` package; nothing is fetched."""
    return PublicSuffixList()


def _is_link(candidate: str) -> bool:
    """True for a scheme or `//` link, and for a bare domain whose top-level domain exists."""
    candidate = candidate.strip()
    if candidate.startswith("//") or _SCHEME.match(candidate):
        return True
    host = re.split(r"[:/?#]", candidate, maxsplit=1)[0].rstrip(".").lower()
    if host.rsplit(".", 1)[-1] in _SPECIAL_USE_TLDS:
        return True
    return _suffixes().publicsuffix(host, accept_unknown=False) is not None


def _links(text: str) -> list[re.Match[str]]:
    return [match for match in _LINK.finditer(text) if _is_link(match.group(0))]


def _filter_links(text: str, allowlist: tuple[str, ...], removed: list[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        link = match.group(0)
        if not _is_link(link):
            return link
        tail = ""
        while link[-1] in _LINK_TRAILING_PUNCTUATION and not _balanced_paren(link):
            tail = link[-1] + tail
            link = link[:-1]
        if _link_allowed(link.strip(), allowlist):
            return link + tail
        removed.append(link.strip())
        return tail

    return _LINK.sub(replace, text)


def _balanced_paren(link: str) -> bool:
    """A closing parenthesis that matches one inside the link is part of it (wiki-style URLs, `alert(1)`)."""
    return link[-1] == ")" and link.count("(") >= link.count(")")


def _outside_links(text: str, change: Callable[[str], str]) -> str:
    """Apply `change` to the text between links only: an allowed link's path may hold an id like 123456789."""
    parts, last = [], 0
    for match in _links(text):
        parts += [change(text[last : match.start()]), match.group(0)]
        last = match.end()
    return "".join([*parts, change(text[last:])])


def _remove_contacts(text: str, removed: list[str]) -> str:
    return _remove(_PHONE_NUMBER, _remove(_EMAIL_ADDRESS, text, removed), removed)


def _remove(pattern: re.Pattern[str], text: str, removed: list[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        found = match.group(0).strip()
        if pattern is _PHONE_NUMBER and sum(ch.isdigit() for ch in found) < (7 if found[0] == "+" else 9):
            return match.group(0)  # a date, an amount, a reference: not a phone number
        removed.append(found)
        return ""

    return pattern.sub(replace, text)


def _link_allowed(link: str, allowlist: tuple[str, ...]) -> bool:
    """Web links (http, https or a bare domain) to an allowed host; any other scheme never is."""
    scheme = _SCHEME.match(link)
    if link.startswith("//") or (scheme and scheme.group(0).lower() not in ("http://", "https://")):
        return False
    try:
        host = urlsplit(link if scheme else "https://" + link).hostname or ""
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    host = host.rstrip(".")
    return bool(host) and any(host == allowed or host.endswith("." + allowed) for allowed in allowlist)


def _normalise_allowlist(link_allowlist: Sequence[str]) -> tuple[str, ...]:
    """Accept `example.com`, `*.example.com` and `https://example.com/path` alike: keep only the host."""
    hosts = []
    for entry in link_allowlist:
        host = entry.strip().lower()
        if "://" in host:
            try:
                host = urlsplit(host).hostname or ""
            except ValueError:
                continue
        host = host.split("/", 1)[0].split(":", 1)[0].lstrip("*.").rstrip(".")
        if host:
            hosts.append(host)
    return tuple(hosts)


def _tidy(text: str, *, single_line: bool) -> str:
    """Collapse the whitespace left behind by stripping; a spoken script has no use for line breaks."""
    if single_line:
        return _single_line(text)
    lines = [_finish_line(line) for line in text.split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def _single_line(text: str) -> str:
    return _finish_line(text.replace("\n", " "))


def _finish_line(line: str) -> str:
    return _SPACES.sub(" ", _EMPTY_BRACKETS.sub("", line)).strip()


def _truncate(text: str, limit: int) -> str:
    """Cut to at most `limit` characters on a word boundary, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(_ELLIPSIS) + 1]
    boundary = max(cut.rfind(" "), cut.rfind("\n"))
    cut = cut[:boundary] if boundary > limit // 2 else cut[: limit - len(_ELLIPSIS)]
    return cut.rstrip(" \n,;:-\u2013\u2014") + _ELLIPSIS
