import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringback.engine.content_guard import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, guard, validate_edit
from ringback.engine.model import Channel, StepContent

ALLOW = ("example.com",)


def email(body: str, subject: str | None = "Hello") -> StepContent:
    return StepContent(body=body, subject=subject)


def test_clean_content_passes_unchanged():
    content = email("Hi Maria,\n\nThanks for your message.\n\nBest,\nAna", "About pricing")
    result = guard(Channel.EMAIL, content, ALLOW)
    assert result.content == content
    assert result.removed_links == ()
    assert result.problems == ()


def test_html_is_stripped_to_plain_text():
    body = (
        "<html><head><title>x</title><style>p{color:red}</style></head><body>"
        "<p>Hola <b>Maria</b>,</p><p>Gracias.<br>Hasta pronto</p><script>alert('x')</script></body></html>"
    )
    result = guard(Channel.EMAIL, email(body), ALLOW)
    assert result.content.body == "Hola Maria,\nGracias.\nHasta pronto"


def test_escaped_markup_cannot_sneak_back_in():
    result = guard(Channel.EMAIL, email("&lt;script&gt;alert(1)&lt;/script&gt;Hi &amp;lt;b&amp;gt;there"), ALLOW)
    assert "<" not in result.content.body
    assert "alert" not in result.content.body
    assert result.content.body.endswith("Hi there")


def test_markdown_is_flattened():
    body = "# Title\n**Bold** and __also__ and [our site](https://example.com/a)"
    result = guard(Channel.EMAIL, email(body), ALLOW)
    assert result.content.body == "Title\nBold and also and our site (https://example.com/a)"


def test_control_and_invisible_characters_are_removed():
    body = "Pay\u202eevil\u200b here\x07\x00 now\ttoday"
    result = guard(Channel.SMS, StepContent(body=body), ALLOW)
    assert result.content.body == "Payevil here now today"
    assert all(unicodedata.category(ch) not in {"Cc", "Cf"} for ch in result.content.body)


def test_subject_cannot_carry_extra_headers():
    result = guard(Channel.EMAIL, email("Body", "Hello\r\nBcc: victim@example.org\nX-Evil: 1"), ALLOW)
    assert "\n" not in result.content.subject
    assert "\r" not in result.content.subject
    assert "victim@example.org" not in result.content.subject


@pytest.mark.parametrize(
    "link",
    [
        "https://example.com/pricing",
        "http://www.example.com",
        "https://docs.example.com/a?b=c",
        "www.example.com/demo",
        "example.com/pricing",
        "app.example.com:8443/x",
    ],
)
def test_allowed_links_and_subdomains_are_kept(link):
    result = guard(Channel.EMAIL, email(f"See {link} for details."), ALLOW)
    assert result.content.body == f"See {link} for details."
    assert result.removed_links == ()


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.test/x",
        "https://example.com.evil.test/",
        "https://notexample.com/",
        "https://example.com@evil.test/login",
        "www.evil.test",
        "mailto:someone@example.com",
        "tel:+15555550100",
        "javascript:alert(1)",
        # Bare domains, scheme-relative and other schemes, as mail clients link them (issue 13).
        "evil.example/x",
        "bit.ly/abc",
        "//evil.example/x",
        "ftp://evil.example",
        "EVIL.COM",
        "shop.co.uk/offer?x=1",
        "пример.рф/путь",
        "xn--e1afmkfd.xn--p1ai",
        "evil.example:8080/x",
        "ftp://example.com/file",
    ],
)
def test_other_links_are_removed_and_reported(link):
    result = guard(Channel.EMAIL, email(f"See {link}. Thanks"), ALLOW)
    assert result.content.body == "See. Thanks"
    assert result.removed_links == (link,)
    assert result.problems == ()


def test_html_anchor_href_meets_the_allowlist():
    body = '<a href="https://evil.test/x">click</a> or <a href="https://example.com/ok">here</a>'
    result = guard(Channel.EMAIL, email(body), ALLOW)
    assert result.content.body == "click or here (https://example.com/ok)"
    assert result.removed_links == ("https://evil.test/x",)


def test_empty_allowlist_removes_every_link():
    result = guard(Channel.SMS, StepContent(body="Go to https://example.com now"), ())
    assert result.content.body == "Go to now"
    assert result.removed_links == ("https://example.com",)


@pytest.mark.parametrize("entry", ["example.com", "*.example.com", "https://example.com/path", "EXAMPLE.COM."])
def test_allowlist_entries_are_normalised_to_hosts(entry):
    result = guard(Channel.SMS, StepContent(body="https://app.example.com/x"), (entry,))
    assert result.removed_links == ()


def test_links_are_never_kept_in_a_subject():
    result = guard(Channel.EMAIL, email("Body", "Visit https://example.com today"), ALLOW)
    assert result.content.subject == "Visit today"
    assert result.removed_links == ("https://example.com",)


def test_invented_contact_details_are_removed_from_generated_content():
    body = "Call +34 911 234 567 or (415) 555-0100, or write to sales@evil.test. Meeting on 2026-05-06, 1.500 EUR."
    result = guard(Channel.EMAIL, email(body), ALLOW)
    assert result.content.body == "Call or, or write to. Meeting on 2026-05-06, 1.500 EUR."
    assert set(result.removed_links) == {"+34 911 234 567", "(415) 555-0100", "sales@evil.test"}


def test_numbers_inside_allowed_links_are_not_taken_for_phone_numbers():
    body = "Your quote: https://example.com/quotes/123456789?ref=maria@example.com thanks"
    result = guard(Channel.EMAIL, email(body), ALLOW)
    assert result.content.body == body
    assert result.removed_links == ()


@pytest.mark.parametrize(("channel", "limit"), [(Channel.EMAIL, 5_000), (Channel.SMS, 320), (Channel.VOICE, 1_500)])
def test_bodies_are_capped_on_a_word_boundary(channel, limit):
    words = " ".join(f"word{i}" for i in range(2_000))
    result = guard(channel, StepContent(body=words, subject="S" if channel is Channel.EMAIL else None), ALLOW)
    body = result.content.body
    assert len(body) <= limit == MAX_BODY_CHARS[channel]
    assert body.endswith("…")
    assert body[:-1].split(" ")[-1] in words.split(" ")  # the last word is whole


def test_subject_is_capped():
    result = guard(Channel.EMAIL, email("Body", "subject " * 40), ALLOW)
    assert len(result.content.subject) <= MAX_SUBJECT_CHARS
    assert result.content.subject.endswith("subject…")


def test_email_needs_a_subject_and_every_step_a_body():
    assert guard(Channel.EMAIL, email("Body", None), ALLOW).problems == ("email subject is empty",)
    assert guard(Channel.EMAIL, email("Body", "  <b></b> "), ALLOW).problems == ("email subject is empty",)
    assert guard(Channel.SMS, StepContent(body="<p> </p>"), ALLOW).problems == ("body is empty",)


def test_subject_is_dropped_outside_email():
    assert guard(Channel.SMS, StepContent(body="Hi", subject="Ignored"), ALLOW).content.subject is None


def test_voice_script_is_a_single_line():
    result = guard(Channel.VOICE, StepContent(body="Hello Maria.\n\nThis is Ana."), ALLOW)
    assert result.content.body == "Hello Maria. This is Ana."


def test_validate_edit_reports_instead_of_cutting():
    long_body = "word " * 100
    result = validate_edit(Channel.SMS, StepContent(body=long_body + "https://evil.test"), ALLOW)
    assert result.problems == (
        "link not in the template's allow-list: https://evil.test",
        "body is longer than 320 characters",
    )


def test_validate_edit_keeps_contact_details_a_reviewer_typed():
    content = email("Call us at +34 911 234 567 or sales@example.com", "Hi")
    result = validate_edit(Channel.EMAIL, content, ALLOW)
    assert result.problems == ()
    assert result.content.body == content.body


def test_validate_edit_rejects_empty_edits():
    result = validate_edit(Channel.EMAIL, email("   ", ""), ALLOW)
    assert result.problems == ("body is empty", "email subject is empty")


@settings(max_examples=150, deadline=None)
@given(
    channel=st.sampled_from(list(Channel)),
    body=st.text(max_size=6_000),
    subject=st.one_of(st.none(), st.text(max_size=400)),
)
def test_guarded_content_always_fits_and_has_no_control_characters(channel, body, subject):
    result = guard(channel, StepContent(body=body, subject=subject), ALLOW)
    assert len(result.content.body) <= MAX_BODY_CHARS[channel]
    assert all(ch == "\n" or unicodedata.category(ch) != "Cc" for ch in result.content.body)
    if channel is Channel.EMAIL:
        assert result.content.subject is None or len(result.content.subject) <= MAX_SUBJECT_CHARS
        assert result.content.subject is None or "\n" not in result.content.subject
    else:
        assert result.content.subject is None


@pytest.mark.parametrize(
    "text", ["See file.txt and v1.2.3 of Node.js", "Total 1.500 EUR, ref 12.34.56", "Write to ana.app@example.com"]
)
def test_dotted_words_without_a_real_top_level_domain_are_text(text):
    result = validate_edit(Channel.EMAIL, email(text), ())
    assert result.content.body == text
    assert result.problems == ()


def test_a_calls_voicemail_script_is_cleaned_like_its_live_script():
    call = StepContent(body="Hi Maria, is now good?", voicemail="Hi Maria.\n\nCall +1 415 555 0100 or see https://evil.test")
    result = guard(Channel.VOICE, call, ALLOW)
    assert result.content.voicemail == "Hi Maria. Call or see"
    assert set(result.removed_links) == {"+1 415 555 0100", "https://evil.test"}
    assert result.problems == ()
    long = guard(Channel.VOICE, StepContent(body="Hi.", voicemail="word " * 400), ALLOW).content.voicemail
    assert len(long) <= MAX_BODY_CHARS[Channel.VOICE]


def test_validate_edit_checks_the_voicemail_script_and_names_it():
    long = validate_edit(Channel.VOICE, StepContent(body="Hi.", voicemail="word " * 400), ALLOW)
    assert long.problems == ("voicemail_script is longer than 1500 characters",)
    empty = validate_edit(Channel.VOICE, StepContent(body="Hi.", voicemail="  "), ALLOW)
    assert empty.problems == ("voicemail_script is empty",)
    stray = validate_edit(Channel.SMS, StepContent(body="Hi.", voicemail="Hi."), ALLOW)
    assert stray.problems == ("voicemail_script is only for voice steps",)
    kept = validate_edit(Channel.VOICE, StepContent(body="Hola.", voicemail="Hola,\nadiós."), ALLOW)
    assert kept.problems == () and kept.content.voicemail == "Hola, adiós."


def test_an_edit_of_the_first_text_to_a_north_american_number_must_keep_opt_out_wording():
    """Issue 12: an admin edit could remove the opt-out line generated content carries."""
    edit = StepContent(body="Hola Ana, ¿hablamos esta semana?")
    refused = validate_edit(Channel.SMS, edit, ALLOW, opt_out_language="es")
    assert refused.problems == (
        'body: the first text to a US or Canadian number must tell how to opt out; '
        'end it with "Responda STOP para darse de baja."',
    )
    kept = StepContent(body="Hola Ana, ¿hablamos? Responda STOP para darse de baja.")
    assert validate_edit(Channel.SMS, kept, ALLOW, opt_out_language="es").problems == ()
    assert validate_edit(Channel.SMS, edit, ALLOW).problems == ()  # not the first text, or not +1
