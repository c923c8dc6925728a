from datetime import time

import pytest

from ringback.engine.time_wish import TimeWish, extract_time_wish, latest_time_wish


@pytest.mark.parametrize(
    ("notes", "part", "start", "end"),
    [
        ("Please call in the morning.", "morning", time(8), time(12)),
        ("Best after 5pm.", "after", time(17), time.max),
        ("Llamar por la tarde, por favor.", "afternoon", time(12), time(17)),
        ("Rappelez-moi plutôt le matin.", "morning", time(8), time(12)),
        ("Am besten nachmittags.", "afternoon", time(12), time(17)),
        ("Ab 17 Uhr erreichbar.", "after", time(17), time.max),
        ("De preferência à noite.", "evening", time(17), time(21)),
        ("Preferibilmente la sera.", "evening", time(17), time(21)),
        ("Después de las 18 mejor.", "after", time(18), time.max),
        ("before 10am please", "before", time(0), time(10)),
    ],
)
def test_wishes_are_read_in_six_languages(notes, part, start, end):
    wish = extract_time_wish(notes)
    assert (wish.part, wish.start, wish.end) == (part, start, end)


@pytest.mark.parametrize(
    "notes", ["Mañana llamo yo.", "Morgen bitte.", "We have 3 clinics from 2 cities.", "Vor 10 Jahren", "será rápido"]
)
def test_tomorrow_and_plain_numbers_are_not_wishes(notes):
    assert extract_time_wish(notes) is None


def test_a_wish_survives_storage_as_json():
    wish = extract_time_wish("after 5pm")
    assert wish.to_json() == {"part": "after", "start": "17:00", "end": "24:00", "cue": "after 5pm", "source": "notes"}
    assert TimeWish.from_json(wish.to_json()) == wish


def test_the_latest_note_with_a_wish_wins():
    notes = "[via API 2026-05-01T09:00:00Z] Call in the morning.\n[via API 2026-05-06T10:00:00Z] Now afternoons."
    assert latest_time_wish(notes).part == "afternoon"
    assert latest_time_wish("[via API 2026-05-06T10:00:00Z] pricing please") is None
