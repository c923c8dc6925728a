"""The start-sequence request validator: what a lead may look like, and which field is named when it is wrong."""

from __future__ import annotations

import pytest

from ringback.engine.errors import InvalidInput
from ringback.engine.fields import COMPANY
from ringback.engine.fields import IDEMPOTENCY_KEY as MAX_IDEMPOTENCY_KEY
from ringback.engine.fields import NOTES as MAX_NOTES
from ringback.engine.fields import PERSON_NAME as MAX_NAME
from ringback.engine.lead import parse_start_request, request_fingerprint

TEMPLATE_ID = "tpl_01HV0000000000000000000000"


def _request(contact: dict | None = None, **top: object) -> dict:
    body = {"template_id": TEMPLATE_ID, "contact": contact or {"emails": ["maria@example.com"]}}
    body.update(top)
    return body


def _parse(body: object, header_key: str | None = None, region: str | None = None):
    return parse_start_request(body, header_key, region)


def _field_of(body: object, header_key: str | None = None, region: str | None = None) -> str:
    with pytest.raises(InvalidInput) as error:
        _parse(body, header_key, region)
    return error.value.field


def test_the_announcement_lead_is_accepted_and_normalised():
    start = _parse(
        _request(
            {
                "first_name": "  Maria ",
                "emails": [" Maria@Example.COM "],
                "phone_numbers": ["+34 911 23 45 67"],
                "notes": "Speaks Spanish.",
                "language": "es",
                "timezone": "europe/madrid",
                "company": "Acme",
            },
            auto_approve=True,
            idempotency_key="lead_84211",
            metadata={"lead_id": "84211"},
        )
    )

    contact = start.contact
    assert (start.template_id, start.auto_approve, start.idempotency_key) == (TEMPLATE_ID, True, "lead_84211")
    assert start.metadata == {"lead_id": "84211"}
    assert (contact.first_name, contact.company, contact.notes) == ("Maria", "Acme", "Speaks Spanish.")
    assert contact.emails == ("Maria@example.com",)
    assert contact.phones == ("+34911234567",)
    assert (contact.language, contact.timezone) == ("es", "Europe/Madrid")


def test_auto_approve_defaults_to_false():
    assert _parse(_request()).auto_approve is False


# --- unknown fields and shapes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_request(auto_aprove=True), "auto_aprove"),
        (_request({"emails": ["maria@example.com"], "phone": "+34911234567"}), "contact.phone"),
        (["not", "an", "object"], "body"),
        ({"contact": {"emails": ["maria@example.com"]}}, "template_id"),
        (_request(template_id=""), "template_id"),
        (_request(auto_approve="yes"), "auto_approve"),
        ({"template_id": TEMPLATE_ID}, "contact"),
        (_request({"first_name": "Maria"}), "contact"),  # neither emails nor phone numbers
        (_request({"emails": [], "phone_numbers": []}), "contact"),
    ],
)
def test_unknown_fields_and_bad_shapes_are_named(body, field):
    assert _field_of(body) == field


# --- emails ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("emails", "field"),
    [
        ("maria@example.com", "contact.emails"),
        (["maria@"], "contact.emails[0]"),
        (["maria@example.com", "no at sign"], "contact.emails[1]"),
        (["maria@example.com", 42], "contact.emails[1]"),
        ([f"m{i}@example.com" for i in range(11)], "contact.emails"),
    ],
)
def test_bad_emails_are_named(emails, field):
    assert _field_of(_request({"emails": emails})) == field


def test_ten_emails_are_allowed_and_case_twins_are_one_address():
    ten = [f"m{i}@example.com" for i in range(10)]
    assert len(_parse(_request({"emails": ten})).contact.emails) == 10

    twins = _parse(_request({"emails": ["Maria@example.com", "maria@EXAMPLE.com", "m2@example.com"]}))
    assert twins.contact.emails == ("Maria@example.com", "m2@example.com")


# --- phones ------------------------------------------------------------------------------------------------


def test_a_number_without_plus_needs_a_default_region():
    body = _request({"phone_numbers": ["911 23 45 67"]})

    with pytest.raises(InvalidInput, match="international prefix") as error:
        _parse(body)
    assert error.value.field == "contact.phone_numbers[0]"
    assert _parse(body, region="ES").contact.phones == ("+34911234567",)


@pytest.mark.parametrize(
    ("phones", "field"),
    [
        ("+34911234567", "contact.phone_numbers"),
        (["+3491"], "contact.phone_numbers[0]"),
        (["+34911234567", "call me"], "contact.phone_numbers[1]"),
        (["+34911234567", ""], "contact.phone_numbers[1]"),
        ([None], "contact.phone_numbers[0]"),
        ([f"+3491123456{i}" for i in range(10)] + ["+14155550100"], "contact.phone_numbers"),
    ],
)
def test_bad_phone_numbers_are_named(phones, field):
    assert _field_of(_request({"phone_numbers": phones})) == field


def test_phone_numbers_are_e164_and_deduplicated():
    start = _parse(_request({"phone_numbers": ["+34 911 234 567", "+34911234567", "+1 (415) 555-0100"]}))

    assert start.contact.phones == ("+34911234567", "+14155550100")


# --- text limits, language, time zone ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "limit"),
    [("notes", MAX_NOTES), ("first_name", MAX_NAME), ("last_name", MAX_NAME), ("company", COMPANY)],
)
def test_text_fields_have_limits(name, limit):
    contact = {"emails": ["maria@example.com"]}
    assert getattr(_parse(_request({**contact, name: "x" * limit})).contact, name) == "x" * limit

    assert _field_of(_request({**contact, name: "x" * (limit + 1)})) == f"contact.{name}"
    assert _field_of(_request({**contact, name: 7})) == f"contact.{name}"


@pytest.mark.parametrize("language", ["es", "pt-BR", "en_US", "FR"])
def test_supported_language_tags_are_accepted(language):
    assert _parse(_request({"emails": ["m@example.com"], "language": language})).contact.language == language


@pytest.mark.parametrize("language", ["klingon", "xx", "", 5, "e"])
def test_bad_language_tags_are_named(language):
    assert _field_of(_request({"emails": ["m@example.com"], "language": language})) == "contact.language"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "CET+1", "", 1])
def test_bad_time_zones_are_named(zone):
    assert _field_of(_request({"emails": ["m@example.com"], "timezone": zone})) == "contact.timezone"


# --- metadata ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ("lead 84211", "metadata"),
        (False, "metadata"),
        ("", "metadata"),
        (0, "metadata"),
        ([], "metadata"),
        ({"": "v"}, "metadata."),
        ({f"k{i}": "v" for i in range(21)}, "metadata"),
        ({"lead_id": 84211}, "metadata.lead_id"),
        ({"lead_id": "x" * 501}, "metadata.lead_id"),
        ({"k" * 65: "v"}, "metadata." + "k" * 65),
    ],
)
def test_metadata_limits(metadata, field):
    assert _field_of(_request(metadata=metadata)) == field


def test_metadata_at_its_limits_is_accepted():
    metadata = {f"{i:0>64}": "v" * 500 for i in range(20)}

    assert _parse(_request(metadata=metadata)).metadata == metadata


# --- idempotency key ---------------------------------------------------------------------------------------


def test_the_idempotency_key_may_come_from_header_or_body():
    assert _parse(_request(), header_key="from-header").idempotency_key == "from-header"
    assert _parse(_request(idempotency_key="from-body")).idempotency_key == "from-body"
    assert _parse(_request(idempotency_key="same"), header_key="same").idempotency_key == "same"
    assert _parse(_request()).idempotency_key is None


def test_header_and_body_keys_must_agree():
    with pytest.raises(InvalidInput, match="differ") as error:
        _parse(_request(idempotency_key="one"), header_key="two")
    assert error.value.field == "idempotency_key"


@pytest.mark.parametrize(
    ("body_key", "header_key"),
    [
        ("k" * (MAX_IDEMPOTENCY_KEY + 1), None),
        (None, "k" * (MAX_IDEMPOTENCY_KEY + 1)),
        (12345, None),
        ("", None),
        (None, ""),
        ("", "k"),
        ("a\x00b", None),
        ("a\ud800b", None),
    ],
)
def test_bad_idempotency_keys_are_named(body_key, header_key):
    body = _request() if body_key is None else _request(idempotency_key=body_key)
    assert _field_of(body, header_key=header_key) == "idempotency_key"


def test_an_idempotency_key_at_the_limit_is_accepted():
    key = "k" * MAX_IDEMPOTENCY_KEY
    assert _parse(_request(idempotency_key=key)).idempotency_key == key


# --- fingerprint -------------------------------------------------------------------------------------------


def test_the_fingerprint_ignores_key_order_but_not_values():
    one = {"template_id": TEMPLATE_ID, "contact": {"emails": ["a@example.com"], "first_name": "Ana"}}
    reordered = {"contact": {"first_name": "Ana", "emails": ["a@example.com"]}, "template_id": TEMPLATE_ID}
    changed = {"template_id": TEMPLATE_ID, "contact": {"emails": ["a@example.com"], "first_name": "Ann"}}

    assert request_fingerprint(one) == request_fingerprint(reordered)
    assert request_fingerprint(one) != request_fingerprint(changed)
    assert len(request_fingerprint(one)) == 64
