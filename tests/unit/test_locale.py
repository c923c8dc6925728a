"""Language and time-zone resolution: every rung of the DESIGN §8 ladder, and the traps between them."""

import pytest

from ringback.engine import locale
from ringback.engine.locale import (
    SUPPORTED_LANGUAGES,
    LanguageChoice,
    TimezoneChoice,
    canonical_timezone,
    is_valid_language_tag,
    is_valid_timezone,
    resolve_language,
    resolve_timezone,
)

SEED_NOTES = "Speaks Spanish. Located in Madrid. Submitted contact form 30 seconds ago asking about pricing."


def language(notes="", phones=(), explicit=None, default="en"):
    return resolve_language(explicit, notes, list(phones), default)


def timezone(notes="", phones=(), explicit=None, default="UTC"):
    return resolve_timezone(explicit, notes, list(phones), default)


def test_seed_example_from_the_readme():
    assert language(SEED_NOTES, ["+34911234567"]) == LanguageChoice("es", "notes_cue")
    assert timezone(SEED_NOTES, ["+34911234567"]) == TimezoneChoice("Europe/Madrid", ("Europe/Madrid",), "notes_place")


# --- language -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("explicit", "code"),
    [("es", "es"), ("es-MX", "es"), ("pt_BR", "pt"), ("EN", "en"), ("zh-Hant-TW", "zh"), ("fr-CA", "fr")],
)
def test_explicit_language_wins_over_everything(explicit, code):
    assert language(SEED_NOTES, ["+33612345678"], explicit=explicit) == LanguageChoice(code, "explicit")


@pytest.mark.parametrize("explicit", [None, "", "xx", "english", "es--MX"])
def test_missing_or_invalid_explicit_language_falls_through(explicit):
    assert language(SEED_NOTES, explicit=explicit) == LanguageChoice("es", "notes_cue")


@pytest.mark.parametrize(
    ("notes", "code"),
    [
        ("Speaks Spanish.", "es"),
        ("speaks spanish", "es"),
        ("SPEAKS SPANISH", "es"),
        ("habla español", "es"),
        ("Hablo espanol", "es"),
        ("parle français", "fr"),
        ("Parle francais", "fr"),
        ("spricht Deutsch", "de"),
        ("fala português", "pt"),
        ("parla italiano", "it"),
        ("Spanish speaker", "es"),
        ("Spanish-speaking family business", "es"),
        ("native German speaker", "de"),
        ("prefers French", "fr"),
        ("Prefers to be contacted in Spanish", "es"),
        ("in Spanish please", "es"),
        ("En español por favor", "es"),
        ("en français s’il vous plaît", "fr"),  # noqa: RUF001 (a typographic apostrophe on purpose)
        ("Bitte auf Deutsch, bitte", "de"),
        ("Speaks fluent German", "de"),
        ("parle couramment français", "fr"),
        ("spricht fließend Deutsch", "de"),
        ("fala bem português", "pt"),
        ("spreekt Nederlands", "nl"),
        ("mówi po polsku", "pl"),
        ("Speaks Japanese", "ja"),
        ("speaks Mandarin", "zh"),
        ("francophone", "fr"),
        ("hispanohablante", "es"),
        ("deutschsprachig", "de"),
        ("Language: Italian", "it"),
        ("Please call her in Portuguese", "pt"),
        ("French only", "fr"),
        ("only Dutch", "nl"),
        ("habla inglés", "en"),
        ("spricht Englisch", "en"),
    ],
)
def test_a_cue_in_the_notes(notes, code):
    assert language(notes, default="ro") == LanguageChoice(code, "notes_cue")


@pytest.mark.parametrize(
    "notes",
    [
        "Doesn't speak Spanish",
        "does not really speak English",
        "no habla inglés",
        "Ne parle pas anglais",
        "spricht kein Deutsch",
        "não fala português",
        "non parla italiano",
        "non-Spanish-speaking team",
    ],
)
def test_a_negated_cue_is_not_a_cue(notes):
    assert language(notes, default="ro").source != "notes_cue"


@pytest.mark.parametrize(
    ("notes", "code"),
    [
        ("Speaks English and Spanish, prefers Spanish", "es"),  # a stated preference beats a spoken language
        ("Speaks German and French", "de"),  # otherwise the first cue wins
        ("Habla inglés. Quiere una demo del producto para su equipo y hay prisa", "en"),  # cue beats text
    ],
)
def test_which_cue_wins(notes, code):
    assert language(notes) == LanguageChoice(code, "notes_cue")


def test_a_cue_beats_the_phone_number():
    assert language("Speaks Italian", ["+34911234567"]) == LanguageChoice("it", "notes_cue")


@pytest.mark.parametrize(
    ("notes", "code"),
    [
        ("Quiere una demo del producto para su equipo de ventas, por favor llamar por la tarde", "es"),
        ("Il souhaite une démo pour son équipe, merci de le rappeler dans la journée", "fr"),
        ("Er möchte eine Demo für sein Team und ist ab Montag erreichbar", "de"),
        ("Ele quer uma demonstração do produto para a equipe dele e não tem muito tempo", "pt"),
        ("Vorrebbe anche una demo del prodotto per il suo team, che è molto interessato", "it"),
        ("Wil graag een demo voor het team, bel hem na de lunch", "nl"),
        ("Chce demo dla zespołu, proszę dzwonić po południu, jest dostępny", "pl"),
        ("Он хочет демо для команды, и он ждет звонка, но не сегодня", "ru"),
        ("営業チームのデモを希望しています", "ja"),
        ("希望下周演示产品给销售团队", "zh"),
        ("영업팀을 위한 데모를 원합니다", "ko"),
        ("Θέλει μια παρουσίαση για την ομάδα του", "el"),  # noqa: RUF001
        ("She would like a demo for the whole team and asked about pricing", "en"),
        ("Works at 株式会社テスト and would like a demo for the whole team", "en"),  # a foreign name only
    ],
)
def test_the_language_the_notes_are_written_in_beats_the_phone(notes, code):
    phone = "+33612345678" if code != "fr" else "+34911234567"
    assert language(notes, [phone]) == LanguageChoice(code, "notes_text")


@pytest.mark.parametrize(
    "notes",
    [
        "",
        "Call me",
        "Wants pricing",
        "Submitted contact form 30 seconds ago asking about pricing.",
        "Acme S.A. co-founder, MIT alum, EU market, acme.com",
        "Madrid",
    ],
)
def test_thin_notes_do_not_decide_the_language(notes):
    assert language(notes, ["+34911234567"]) == LanguageChoice("es", "phone")


@pytest.mark.parametrize(
    ("phones", "code"),
    [
        (["+34911234567"], "es"),
        (["+33612345678"], "fr"),
        (["+4915112345678"], "de"),
        (["+393123456789"], "it"),
        (["+351912345678"], "pt"),
        (["+5511912345678"], "pt"),
        (["+525512345678"], "es"),
        (["+12135551234"], "en"),
        (["+442079460958"], "en"),
        (["+31612345678"], "nl"),
        (["+48601234567"], "pl"),
        (["+81312345678"], "ja"),
        (["+15145550123"], "fr"),  # Montréal: French inside +1
        (["+14165550123"], "en"),  # Toronto
        (["0612345678", "+4915112345678"], "de"),  # an unparseable number is skipped
        (["+41791234567", "+33612345678"], "fr"),  # an ambiguous country falls through to the next number
    ],
)
def test_the_phone_country(phones, code):
    assert language("", phones, default="hu") == LanguageChoice(code, "phone")


@pytest.mark.parametrize("phones", [[], ["+41791234567"], ["+32470123456"], ["not a number"], ["+999"]])
def test_no_usable_evidence_gives_the_default(phones):
    assert language("", phones, default="de") == LanguageChoice("de", "default")


def test_the_default_is_normalised_and_validated():
    assert language(default="es-MX") == LanguageChoice("es", "default")
    with pytest.raises(ValueError, match="default language"):
        language(default="klingon")


@pytest.mark.parametrize(
    ("tag", "valid"),
    [
        ("en", True),
        ("es-MX", True),
        ("pt_BR", True),
        ("zh-Hant-TW", True),
        ("EN", True),
        ("", False),
        ("xx", False),
        ("english", False),
        ("e", False),
        ("es-", False),
        ("es--MX", False),
        ("123", False),
        ("es-MX-waytoolongsubtag", False),
    ],
)
def test_is_valid_language_tag(tag, valid):
    assert is_valid_language_tag(tag) is valid


def test_supported_languages_cover_the_offline_writer_and_every_table():
    assert {"en", "es", "fr", "de", "pt", "it", "nl", "pl", "ja", "zh"} <= SUPPORTED_LANGUAGES
    assert set(locale._REGION_LANGUAGE.values()) <= SUPPORTED_LANGUAGES
    assert set(locale._SPEAKER_WORDS.values()) <= SUPPORTED_LANGUAGES
    assert set(locale._STOPWORDS) <= SUPPORTED_LANGUAGES


# --- time zone ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("explicit", "zone"), [("Europe/Madrid", "Europe/Madrid"), ("europe/madrid", "Europe/Madrid"), ("UTC", "UTC")]
)
def test_explicit_zone_wins_and_is_canonicalised(explicit, zone):
    assert timezone(SEED_NOTES, ["+12135551234"], explicit=explicit) == TimezoneChoice(zone, (zone,), "explicit")


@pytest.mark.parametrize("explicit", [None, "", "Mars/Base", "localtime", "../../etc/passwd", "America"])
def test_missing_or_invalid_explicit_zone_falls_through(explicit):
    assert timezone(SEED_NOTES, explicit=explicit).source == "notes_place"


@pytest.mark.parametrize(
    ("notes", "zone"),
    [
        ("Located in Madrid", "Europe/Madrid"),
        ("based in Paris", "Europe/Paris"),
        ("from Berlin", "Europe/Berlin"),
        ("vive en Barcelona", "Europe/Madrid"),
        ("in New York", "America/New_York"),
        ("Located in SÃO PAULO", "America/Sao_Paulo"),
        ("located in sao paulo", "America/Sao_Paulo"),
        ("habite à Montréal", "America/Toronto"),
        ("wohnt in München", "Europe/Berlin"),
        ("aus Köln", "Europe/Berlin"),
        ("mora em Lisboa", "Europe/Lisbon"),
        ("Madrid-based startup", "Europe/Madrid"),
        ("Location: Tokyo", "Asia/Tokyo"),
        ("in the UK", "Europe/London"),
        ("vit en France", "Europe/Paris"),
        ("Located in Zürich", "Europe/Zurich"),
        ("located in zurich", "Europe/Zurich"),
        ("from Mexico City", "America/Mexico_City"),  # the city, not the country
        ("in New Mexico", "America/Denver"),
        ("in Washington DC", "America/New_York"),
        ("office in St. Louis", "America/Chicago"),
        ("based out of the Bay Area", "America/Los_Angeles"),
        ("Met at a conference in Paris; lives in Berlin", "Europe/Berlin"),  # stated location beats a mention
        ("in Rome, then in Milan", "Europe/Rome"),  # otherwise the first place
    ],
)
def test_a_place_in_the_notes(notes, zone):
    assert timezone(notes, ["+12135551234"]) == TimezoneChoice(zone, (zone,), "notes_place")


def test_a_country_with_several_zones_keeps_them_all_as_candidates():
    choice = timezone("based in the US")
    assert choice.zone == "America/New_York"
    assert choice.candidates == ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")


@pytest.mark.parametrize(
    "notes",
    ["Madrid", "Parisian style", "Referral from Charlotte", "in Washington", "located in US", "Romeo says hi"],
)
def test_bare_or_ambiguous_names_are_not_places(notes):
    assert timezone(notes, ["+12135551234"]).source == "phone"


@pytest.mark.parametrize(
    ("phones", "default", "zone"),
    [
        (["+12135551234"], "UTC", "America/Los_Angeles"),
        (["+12125551234"], "UTC", "America/New_York"),
        (["+34911234567"], "UTC", "Europe/Madrid"),
        (["+442079460958"], "UTC", "Europe/London"),
        (["+61412345678"], "UTC", "Australia/Sydney"),  # several zones: the country's main one
        (["+61412345678"], "Australia/Perth", "Australia/Perth"),  # ... unless the default is a candidate
        (["+18005551234"], "UTC", "America/New_York"),
        (["+79161234567"], "UTC", "Europe/Moscow"),
        (["+15555551234", "+33612345678"], "UTC", "Europe/Paris"),  # an unknown number is skipped
    ],
)
def test_the_phone_number(phones, default, zone):
    choice = timezone("", phones, default=default)
    assert (choice.zone, choice.source, choice.candidates[0]) == (zone, "phone", zone)


def test_a_phone_number_with_several_zones_keeps_them_all():
    choice = timezone("", ["+34612345678"])
    assert choice == TimezoneChoice("Europe/Madrid", ("Europe/Madrid", "Atlantic/Canary"), "phone")


@pytest.mark.parametrize("phones", [[], ["garbage"], ["+15555551234"]])
def test_no_usable_evidence_gives_the_default_zone(phones):
    assert timezone("", phones, default="america/chicago") == TimezoneChoice(
        "America/Chicago", ("America/Chicago",), "default"
    )


def test_an_invalid_default_zone_is_a_configuration_error():
    with pytest.raises(ValueError, match="default time zone"):
        timezone(default="Nowhere/Special")


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Europe/Madrid", "Europe/Madrid"),
        (" europe/MADRID ", "Europe/Madrid"),
        ("UTC", "UTC"),
        ("Etc/Unknown", None),
        ("localtime", None),
        ("", None),
        (None, None),
    ],
)
def test_canonical_timezone(name, canonical):
    assert canonical_timezone(name) == canonical
    assert is_valid_timezone(name) is (canonical is not None)


def test_every_zone_in_the_tables_exists():
    zones = {zone for zones in locale._PLACES.values() for zone in zones} | set(locale._REGION_MAIN_ZONE.values())
    assert {zone for zone in zones if canonical_timezone(zone) != zone} == set()


@pytest.mark.parametrize(
    ("notes", "phone", "code"),
    [
        ("Hola, somos una clínica con 3 sedes en Sevilla. Queremos saber cuánto cuesta.", "+12125550163", "es"),
        ("Gibt es eine kostenlose Testphase? Am besten vormittags.", "+14155550199", "de"),
        ("Vocês integram com o Salesforce? Temos 60 usuários.", "+14155550199", "pt"),
        ("Avete una prova gratuita? Siamo un team di 9 venditori.", "+14155550199", "it"),
        ("Est-ce que vous proposez un essai gratuit ? Nous sommes 6.", "+14155550199", "fr"),
        ("How much does it cost for a team of 12? Best after 5pm.", "+34911234567", "en"),
    ],
)
def test_short_notes_in_their_own_language_beat_the_phones_country(notes, phone, code):
    """Issue 12: Spanish notes with a +1 number were written to in English."""
    assert resolve_language(None, notes, [phone], "en") == LanguageChoice(code, "notes_text")
