"""Keyed fingerprints of erased addresses: stable for the same address, useless without the server secret."""

from __future__ import annotations

import hashlib

from ringback.fingerprints import AddressFingerprints

SECRET = b"test-secret-0123456789abcdef"


def test_an_email_matches_whatever_its_case_and_surrounding_spaces():
    hasher = AddressFingerprints(SECRET)

    assert hasher.email(" Maria@Example.com ") == hasher.email("maria@example.com")
    assert hasher.email("maria@example.com") != hasher.email("mario@example.com")


def test_kinds_do_not_collide():
    hasher = AddressFingerprints(SECRET)

    assert hasher.of(["+34911234567"], ["+34911234567"]) == [
        ("email", hasher.email("+34911234567")),
        ("phone", hasher.phone("+34911234567")),
    ]
    assert hasher.email("+34911234567") != hasher.phone("+34911234567")


def test_another_secret_gives_other_digests_and_a_plain_hash_does_not_match():
    phone = "+34911234567"

    assert AddressFingerprints(SECRET).phone(phone) != AddressFingerprints(b"another-secret-0123456789").phone(phone)
    assert AddressFingerprints(SECRET).phone(phone) not in {
        hashlib.sha256(phone.encode()).hexdigest(),
        hashlib.sha256(f"phone:{phone}".encode()).hexdigest(),
    }
