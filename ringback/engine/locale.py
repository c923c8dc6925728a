"""Which language to write in and which time zone to call in, from what a lead form gives us.

DESIGN §8 orders the evidence: an explicit value beats a cue in the notes, which beats the language the
notes are written in, which beats the phone number's country, which beats the workspace default. The
time zone follows the same idea with places instead of languages. Everything is table lookups and
regexes over accent-folded text, so one lead always resolves the same way and every branch is testable.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import phonenumbers
from phonenumbers import timezone as phone_timezones

LanguageSource = Literal["explicit", "notes_cue", "notes_text", "phone", "default"]
TimezoneSource = Literal["explicit", "notes_place", "phone", "default"]


@dataclass(frozen=True)
class LanguageChoice:
    code: str  # ISO 639-1, lowercase
    source: LanguageSource


@dataclass(frozen=True)
class TimezoneChoice:
    """`zone` is the best guess; `candidates` (starting with `zone`) is every zone the evidence allows,
    so the calling window can honour all of them."""

    zone: str
    candidates: tuple[str, ...]
    source: TimezoneSource


_COMBINING_ACCENTS = re.compile("[\u0300-\u036f]")


def _fold(text: str) -> str:
    """Lowercase and strip Latin accents so 'Español', 'espanol' and 'ESPAÑOL' compare equal.

    Only the combining-diacritics block is removed, so kana and hangul recompose intact under NFC.
    """
    stripped = _COMBINING_ACCENTS.sub("", unicodedata.normalize("NFKD", text.replace("\u2019", "'")))
    return unicodedata.normalize("NFC", stripped).casefold()


def _alternation(names: Sequence[str]) -> str:
    """A regex alternation of folded names, longest first so 'new york' wins over 'york'."""
    ordered = sorted(set(names), key=lambda name: (-len(name), name))
    return "|".join(re.escape(name).replace(r"\ ", r"\s+") for name in ordered)


def _table(source: dict[str, str]) -> dict[str, str]:
    """Invert {value: 'name|name|...'} into {folded name: value}."""
    return {_fold(name): value for value, names in source.items() for name in names.split("|")}


# ---------------------------------------------------------------------------------------------------
# Language

# What people call each language: in English, in the language itself, and in the other cue languages.
_LANGUAGE_NAMES = _table(
    {
        "en": "english|inglés|inglês|anglais|englisch|inglese|engels|angielski|po angielsku",
        "es": "spanish|español|castellano|espagnol|spanisch|espanhol|spagnolo|spaans|hiszpański|po hiszpańsku",
        "fr": "french|français|francés|francês|französisch|francese|frans|francuski|po francusku",
        "de": "german|deutsch|alemán|alemão|allemand|tedesco|duits|niemiecki|po niemiecku",
        "pt": "portuguese|português|portugués|portugais|portugiesisch|portoghese|portugees|po portugalsku",
        "it": "italian|italiano|italien|italienisch|italiaans|włoski|po włosku",
        "nl": "dutch|flemish|nederlands|vlaams|neerlandés|holandés|néerlandais|niederländisch|olandese",
        "pl": "polish|polski|po polsku|polaco|polonais|polnisch|polonês|polacco|pools",
        "sv": "swedish|svenska|sueco|suédois|schwedisch|svedese|zweeds",
        "da": "danish|dansk|danés|danois|dänisch|dinamarquês|danese|deens",
        "fi": "finnish|suomi|finlandés|finnois|finnisch|finlandês|finlandese|fins",
        "ru": "russian|русский|ruso|russe|russisch|russo",
        "ja": "japanese|japonés|japonais|japanisch|japonês|giapponese|japans",
        "zh": "chinese|mandarin|cantonese|chino|mandarín|chinois|chinesisch|chinês|cinese|chinees",
        "ko": "korean|coreano|coréen|koreanisch|koreaans",
        "tr": "turkish|türkçe|turco|turc|türkisch|turks",
        "el": "greek|griego|grec|griechisch|grego|greco|grieks",
        "cs": "czech|čeština|checo|tchèque|tschechisch|tcheco|ceco|tsjechisch",
        "ro": "romanian|română|rumano|roumain|rumänisch|romeno|rumeno|roemeens",
        "hu": "hungarian|magyar|húngaro|hongrois|ungarisch|ungherese|hongaars",
    }
)
# One-word demonyms that already mean "speaks X".
_SPEAKER_WORDS = _table(
    {
        "en": "anglophone|anglófono|anglofono|anglophon",
        "es": "hispanohablante|hispanoparlante|hispanophone|hispanófono",
        "fr": "francophone|francófono|francofono|frankophon|francófona",
        "pt": "lusophone|lusófono|lusofono|lusoparlante",
        "de": "germanophone|deutschsprachig|germanófono",
        "it": "italophone|italofono|italófono",
    }
)

SUPPORTED_LANGUAGES: frozenset[str] = frozenset(_LANGUAGE_NAMES.values())

_NAME = rf"(?P<name>{_alternation(list(_LANGUAGE_NAMES))})(?!\w)"
# Words allowed between "speaks" and the language: "speaks fluent Spanish", "parle couramment français".
_FILLER = (
    r"(?:(?:fluent|fluently|only|mostly|mainly|primarily|native|good|basic|some|a|little|bit|of|also|well|"
    r"very|perfect|perfectly|bien|muy|couramment|fliessend|gut|nur|bem|bene|fluentemente|correctamente|"
    r"solo|solamente|seulement|apenas|soltanto|vloeiend|alleen|tylko|dobrze|biegle)\s+){0,3}"
)
_NEGATION = re.compile(
    r"(?:\b(?:not|no|non|ne|nao|nicht|niet|nie|never|nunca|jamais|cannot|cant|doesnt|dont)|n't)[\s-]+(?:\w+\s+)?$"
)
_NOT_NEGATION = r"(?!(?:not|no|non|pas|nicht|kein\w*|nao|never)\b)"

# Tier 0: the note states a preference. Tier 1: it only says what the person speaks.
_LANGUAGE_CUES: tuple[tuple[int, re.Pattern[str]], ...] = tuple(
    (tier, re.compile(pattern))
    for tier, pattern in (
        (
            0,
            r"\b(?:prefers?|preferred|preferably|prefiere|prefere|preferisce|bevorzugt|bevorzuge|voorkeur)"
            rf"\s+(?:{_NOT_NEGATION}\w+\s+){{0,4}}?{_NAME}",
        ),
        (
            0,
            r"\b(?:languages?|idioma|lengua|langue|sprache|lingua|taal|jezyk)\s*(?::|=|-|is|es|est|ist|e)?\s*" + _NAME,
        ),
        (
            0,
            rf"\b(?:in|en|em|auf|na)\s+{_NAME}\s*,?\s*(?:please|pls|plz|por\s+favor|s'il\s+vous\s+plait|svp"
            r"|bitte|per\s+favore|alstublieft|prosze)\b",
        ),
        (
            0,
            r"\b(?:only|solo|solamente|unicamente|seulement|uniquement|nur|apenas|somente|soltanto|alleen|tylko)"
            rf"\s+{_NAME}",
        ),
        (0, rf"(?<!\w){_NAME}\s+only\b"),
        (
            0,
            r"\b(?:call|contact|reach|email|e-mail|write|text|message|respond|reply|answer|talk|communicate"
            r"|follow\s+up)\w*\s+(?:\w+\s+){0,3}?in\s+" + _NAME,
        ),
        (
            1,
            r"\b(?:speaks?|speaking|spoken|talks?|habla|hablo|hablan|hablamos|parle|parles|parlent|parlons|parlo"
            r"|parla|parlano|spricht|spreche|sprechen|fala|falo|falam|spreekt|spreek|spreken|mowi|mowie|mowia)"
            rf"\s+{_FILLER}{_NAME}",
        ),
        (
            1,
            rf"(?<!\w){_NAME}\s*-?\s*(?:speaker|speaking|speaks|native|hablante|parlant|sprechend"
            r"|falante|parlante)\b",
        ),
        (1, rf"\bnative\s+{_NAME}"),
        (1, rf"\b(?P<name>{_alternation(list(_SPEAKER_WORDS))})\b"),
    )
)


def _language_cue(folded: str) -> str | None:
    """The language a note asks for; a stated preference beats a spoken language, then the earliest wins."""
    best: tuple[int, int, str] | None = None
    for tier, pattern in _LANGUAGE_CUES:
        for match in pattern.finditer(folded):
            if _NEGATION.search(folded[max(0, match.start() - 30) : match.start()]):
                continue
            name = re.sub(r"\s+", " ", match["name"])
            found = (tier, match.start(), _LANGUAGE_NAMES.get(name) or _SPEAKER_WORDS[name])
            if best is None or found < best:
                best = found
            break
    return best[2] if best else None


# Frequent function words; a word listed under several languages says nothing and is dropped below.
_STOPWORD_SOURCE = {
    "en": "the and of to is are was were be been for with that this from have has had will would about your "
    "our their they them she he his her its not but what which who when there here want wants asking could "
    "should please thanks thank just also very can may how much does need looking interested we us best "
    "cost call morning afternoon",
    "es": "el los las del que y es por con para una un su al lo como mas pero esta este estos sus le ya muy "
    "tambien cuando sobre entre sin hasta desde porque quiere hay fue ser son tiene donde nos ella ellos "
    "usted gracias hola se no queremos quiero necesitamos necesito tienen tenemos buenas cuanto cuesta "
    "precios interesa gustaria llamar prueba todas todos equipo vendedores empresa clinica sedes mejor "
    "manana",
    "fr": "le la les des du de et est un une pour dans qui que pas sur au aux avec ce cette sont mais ou "
    "nous vous il elle ils par plus son ses leur tres aussi etre avoir fait comme bonjour merci je qu se "
    "voudrais voudrions souhaite souhaitons cherchons quel quelle prix devis tarifs rappelez essai "
    "gratuit besoin aide equipe utilisateurs",
    "pt": "o do da dos das nao uma para em no na nos nas ao pelo pela voce ele ela isso muito tambem ja "
    "sao seu sua foi ser tem mas quando onde ainda obrigado ola que e se voces quero preciso precisamos "
    "gostaria quanto custa temos tem planos precos gratis teste ajuda equipe equipa integram configuracao "
    "horario",
    "de": "der die das und ist nicht ich sie es ein eine einen dem den mit zu von auf fur sich auch wir ihr "
    "sind war wird bei oder aber nach wie noch nur aus uber hat haben kann mochte bitte danke gibt eine "
    "einer kostenlose besten gerne brauchen kostet mochten hatten uns unser unsere preise angebot hilfe "
    "nutzer mitarbeiter termin",
    "it": "il lo la gli le di da del della che e per una un con su sono ma anche questo questa come piu "
    "molto ha hanno essere alla nel nella dei delle vuole grazie buongiorno vorrei vorremmo avete siamo "
    "sapere prezzi vostri vostro piani funziona dipendenti venditori prova nostro nostra dell serve "
    "preventivo",
    "nl": "de het een en van is dat die niet op te voor zijn maar ook als bij om aan nog wel kan wil naar "
    "heeft hebben wordt ik jij hij zij ons onze graag bedankt",
    "pl": "w na z do nie sie jest to ze o jak ale tak od za dla czy juz tylko jego jej byc ktory ktora mnie "
    "bardzo dziekuje prosze",
    "ru": "и в не на что я с он как это по но из у к о же то все она так его за бы вы мы от для только",  # noqa: RUF001
}


def _distinctive_stopwords() -> dict[str, frozenset[str]]:
    words = {code: frozenset(_fold(text).split()) for code, text in _STOPWORD_SOURCE.items()}
    shared = {
        word for code, own in words.items() for other, theirs in words.items() if other != code for word in own & theirs
    }
    return {code: own - shared for code, own in words.items()}


_STOPWORDS = _distinctive_stopwords()
_WORD = re.compile(r"[^\W\d_]+")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_GREEK = re.compile(r"[\u0370-\u03ff]")
_MIN_HITS = 3  # a two-word note is not evidence of anything


def _script_language(folded: str) -> str | None:
    """Scripts that name their language outright, once they make up at least half of the letters."""
    kana, han = len(_KANA.findall(folded)), len(_HAN.findall(folded))
    japanese = kana >= 2  # Japanese mixes kana with han; han alone is Chinese
    counts = {
        "ja": kana + han if japanese else 0,
        "zh": 0 if japanese else han,
        "ko": len(_HANGUL.findall(folded)),
        "el": len(_GREEK.findall(folded)),
    }
    code, count = max(counts.items(), key=lambda item: item[1])
    return code if count >= 2 and count * 2 >= sum(char.isalpha() for char in folded) else None


def _written_language(folded: str) -> str | None:
    """The language the notes are written in, or None when the evidence is thin or split."""
    if code := _script_language(folded):
        return code
    words = _WORD.findall(folded)
    hits = sorted(((sum(word in own for word in words), code) for code, own in _STOPWORDS.items()), reverse=True)
    (best, code), (runner_up, _) = hits[0], hits[1]
    return code if best >= _MIN_HITS and best >= 2 * runner_up else None


def written_language(text: str) -> str | None:
    """The language `text` is written in, when the evidence is clear enough."""
    return _written_language(_fold(text))


# Primary language by phone region; multilingual countries (CH, BE, LU, IN, ...) are left out on purpose.
_REGION_LANGUAGE = {
    region: code
    for code, regions in {
        "en": "US GB IE AU NZ CA SG JM BS BB TT GU VI AG DM GD KN LC VC BM KY TC VG AI MS",
        "es": "ES MX AR CO CL PE VE EC GT CU BO DO HN PY SV NI CR PA UY PR",
        "fr": "FR MC",
        "de": "DE AT LI",
        "it": "IT SM VA",
        "pt": "PT BR AO MZ CV",
        "nl": "NL SR",
        "pl": "PL",
        "sv": "SE",
        "da": "DK",
        "fi": "FI",
        "ru": "RU",
        "ja": "JP",
        "zh": "CN TW HK MO",
        "ko": "KR",
        "tr": "TR",
        "el": "GR",
        "cs": "CZ",
        "ro": "RO MD",
        "hu": "HU",
    }.items()
    for region in regions.split()
}
# Québec is French-speaking inside an English-speaking country code.
_QUEBEC_AREA_CODES = frozenset(["263", "354", "367", "418", "438", "450", "468", "514", "579", "581", "819", "873"])


def _parsed_numbers(phone_numbers: Sequence[str]) -> Iterator[phonenumbers.PhoneNumber]:
    """Numbers in E.164 form; anything unparseable is simply not evidence."""
    for raw in phone_numbers:
        try:
            yield phonenumbers.parse(raw, None)
        except phonenumbers.NumberParseException:
            continue


def _region(number: phonenumbers.PhoneNumber) -> str | None:
    """The number's country, falling back to the calling code's main country for merely possible numbers."""
    region = phonenumbers.region_code_for_number(number)
    if region is None and phonenumbers.is_possible_number(number):
        region = phonenumbers.region_code_for_country_code(number.country_code)
    return region if region and region != phonenumbers.UNKNOWN_REGION else None


def _phone_language(phone_numbers: Sequence[str]) -> str | None:
    for number in _parsed_numbers(phone_numbers):
        region = _region(number)
        if region == "CA" and str(number.national_number)[:3] in _QUEBEC_AREA_CODES:
            return "fr"
        if region in _REGION_LANGUAGE:
            return _REGION_LANGUAGE[region]
    return None


_LANGUAGE_TAG = re.compile(r"(?P<primary>[A-Za-z]{2})(?:[-_][A-Za-z0-9]{1,8})*")


def is_valid_language_tag(tag: str) -> bool:
    """A BCP-47-shaped tag ("es", "es-MX", "pt_BR") whose language we support."""
    match = _LANGUAGE_TAG.fullmatch(tag or "")
    return bool(match) and match["primary"].lower() in SUPPORTED_LANGUAGES


def _primary_subtag(tag: str) -> str:
    return re.split(r"[-_]", tag, maxsplit=1)[0].lower()


def resolve_language(explicit: str | None, notes: str, phone_numbers: Sequence[str], default: str) -> LanguageChoice:
    """Pick the language to write in. An invalid explicit value is ignored rather than fatal: the API
    rejects it up front, and a stale stored value must not stop a hot lead from being called."""
    if explicit and is_valid_language_tag(explicit):
        return LanguageChoice(_primary_subtag(explicit), "explicit")
    folded = _fold(notes or "")
    if code := _language_cue(folded):
        return LanguageChoice(code, "notes_cue")
    if code := _written_language(folded):
        return LanguageChoice(code, "notes_text")
    if code := _phone_language(phone_numbers):
        return LanguageChoice(code, "phone")
    if not is_valid_language_tag(default):
        raise ValueError(f"default language {default!r} is not a supported language tag")
    return LanguageChoice(_primary_subtag(default), "default")


# ---------------------------------------------------------------------------------------------------
# Time zone

# Places whose name pins one zone. Names that are also common words, first names or several big cities
# (Georgia, Victoria, Córdoba, Sofia, bare "Washington", "LA", "US") are left out on purpose.
_PLACE_ZONE = _table(
    {
        "Europe/Madrid": "spain|españa|espanya|espagne|spanien|spagna|madrid|barcelona|valencia|sevilla"
        "|seville|zaragoza|málaga|bilbao|murcia|palma de mallorca|mallorca|ibiza|alicante|valladolid"
        "|vigo|gijón|granada|san sebastián|donostia|pamplona|salamanca|cádiz|a coruña|la coruña"
        "|santiago de compostela|marbella|tarragona|girona|oviedo|almería",
        "Atlantic/Canary": "canary islands|canarias|islas canarias|tenerife|gran canaria|las palmas|lanzarote"
        "|fuerteventura",
        "Europe/Lisbon": "portugal|lisbon|lisboa|lisbonne|lissabon|porto|oporto|braga|coimbra|funchal"
        "|madeira|aveiro|setúbal",
        "Atlantic/Azores": "azores|açores|ponta delgada",
        "Europe/Paris": "france|frankreich|francia|frança|paris|parís|marseille|marsella|lyon|toulouse|nantes"
        "|strasbourg|montpellier|bordeaux|lille|rennes|reims|toulon|grenoble|dijon|angers|le havre"
        "|clermont-ferrand|cannes|avignon|versailles|sophia antipolis",
        "Europe/Monaco": "monaco|monte carlo",
        "Europe/Brussels": "belgium|belgique|belgië|belgien|bélgica|belgio|brussels|bruxelles|brussel"
        "|bruselas|antwerp|anvers|antwerpen|ghent|gand|gent|liège|charleroi|bruges|brugge|leuven|louvain|namur",
        "Europe/Amsterdam": "netherlands|holland|nederland|pays-bas|países bajos|niederlande|paesi bassi"
        "|amsterdam|rotterdam|the hague|den haag|la haye|utrecht|eindhoven|groningen|tilburg|breda|nijmegen"
        "|haarlem|arnhem|delft|leiden|maastricht",
        "Europe/Luxembourg": "luxembourg|luxemburg|luxemburgo",
        "Europe/Berlin": "germany|deutschland|allemagne|alemania|alemanha|germania|berlin|berlín|hamburg"
        "|hamburgo|munich|münchen|muenchen|múnich|cologne|köln|koeln|colonia|frankfurt|stuttgart|düsseldorf"
        "|duesseldorf|dortmund|essen|leipzig|bremen|dresden|hanover|hannover|nuremberg|nürnberg|nuernberg"
        "|duisburg|bochum|wuppertal|bonn|mannheim|karlsruhe|heidelberg|freiburg|augsburg|wiesbaden|aachen"
        "|kiel|potsdam|mainz",
        "Europe/Vienna": "austria|österreich|oesterreich|autriche|vienna|wien|viena|vienne|graz|linz|salzburg"
        "|innsbruck|klagenfurt",
        "Europe/Zurich": "switzerland|schweiz|suisse|svizzera|suiza|suíça|zurich|zürich|zuerich|geneva|genève"
        "|genf|ginebra|ginevra|basel|bâle|bern|berne|lausanne|lucerne|luzern|lugano|zug|st. gallen"
        "|winterthur",
        "Europe/Rome": "italy|italia|italie|italien|itália|rome|roma|milan|milano|mailand|milán|naples"
        "|napoli|nápoles|turin|torino|palermo|genoa|genova|bologna|florence|firenze|florencia|bari|catania"
        "|venice|venezia|venecia|verona|messina|padua|padova|trieste|brescia|parma|modena|pisa|bergamo"
        "|cagliari|sardinia|sardegna|sicily|sicilia",
        "Europe/London": "united kingdom|uk|u.k.|great britain|britain|england|scotland|wales"
        "|northern ireland|reino unido|royaume-uni|grossbritannien|großbritannien|regno unito|inglaterra"
        "|angleterre|london|londres|londra|manchester|birmingham|liverpool|leeds|glasgow|edinburgh|bristol|sheffield|newcastle"
        "|nottingham|leicester|cardiff|belfast|southampton|brighton|oxford|aberdeen|coventry",
        "Europe/Dublin": "ireland|éire|irlanda|irlande|irland|dublin|dublín|cork|galway|limerick",
        "Europe/Copenhagen": "denmark|danmark|dinamarca|danemark|dänemark|copenhagen|københavn|kobenhavn"
        "|copenhague|kopenhagen|aarhus|odense|aalborg",
        "Europe/Stockholm": "sweden|sverige|suecia|suède|schweden|svezia|stockholm|estocolmo|gothenburg"
        "|göteborg|goteborg|malmö|malmo|uppsala",
        "Europe/Oslo": "norway|norge|noruega|norvège|norwegen|oslo|bergen|trondheim|stavanger",
        "Europe/Helsinki": "finland|suomi|finlandia|finlande|finnland|helsinki|helsingfors|espoo|tampere|turku|oulu",
        "Europe/Warsaw": "poland|polska|polonia|pologne|polen|warsaw|warszawa|varsovia|varsovie|warschau"
        "|kraków|krakow|cracow|łódź|lodz|wrocław|wroclaw|poznań|poznan|gdańsk|gdansk|szczecin|katowice|lublin",
        "Europe/Prague": "czech republic|czechia|česko|cesko|república checa|prague|praha|praga|prag|brno|ostrava",
        "Europe/Bratislava": "slovakia|slovensko|bratislava|košice|kosice",
        "Europe/Budapest": "hungary|magyarország|hungría|hongrie|ungarn|budapest|debrecen",
        "Europe/Bucharest": "romania|românia|rumanía|roumanie|rumänien|bucharest|bucurești|bucuresti|bucarest"
        "|cluj|cluj-napoca|timișoara|timisoara|iași|iasi",
        "Europe/Sofia": "bulgaria|plovdiv|varna",
        "Europe/Athens": "greece|hellas|grecia|grèce|griechenland|grécia|athens|athina|atenas|athènes|athen"
        "|thessaloniki|patras|heraklion",
        "Europe/Istanbul": "turkey|türkiye|turquía|turquie|türkei|turchia|istanbul|estambul|ankara|izmir|bursa|antalya",
        "Europe/Kyiv": "ukraine|ucrania|ucraina|ukraina|kyiv|kiev|kharkiv|odesa|odessa|lviv|dnipro",
        "Europe/Moscow": "russia|rossiya|rusia|russie|russland|moscow|moskva|moscú|moscou|moskau"
        "|saint petersburg|st. petersburg|st petersburg|san petersburgo|kazan|nizhny novgorod",
        "Europe/Belgrade": "serbia|belgrade|beograd|novi sad",
        "Europe/Zagreb": "croatia|hrvatska|croacia|zagreb|dubrovnik",
        "Europe/Ljubljana": "slovenia|ljubljana",
        "Europe/Riga": "latvia|riga",
        "Europe/Vilnius": "lithuania|vilnius",
        "Europe/Tallinn": "estonia|tallinn",
        "Atlantic/Reykjavik": "iceland|ísland|reykjavik|reykjavík",
        "Europe/Malta": "malta|valletta",
        "Asia/Nicosia": "cyprus|nicosia|limassol",
        "Asia/Jerusalem": "israel|tel aviv|jerusalem|haifa",
        "Asia/Dubai": "united arab emirates|uae|u.a.e.|emiratos árabes unidos|dubai|dubái|abu dhabi|sharjah",
        "Asia/Riyadh": "saudi arabia|arabia saudita|riyadh|jeddah",
        "Asia/Qatar": "qatar|doha",
        "Asia/Kuwait": "kuwait",
        "Asia/Bahrain": "bahrain|manama",
        "Asia/Muscat": "oman|muscat",
        "Asia/Amman": "amman",
        "Asia/Beirut": "lebanon|líbano|liban|beirut|beyrouth",
        "Africa/Cairo": "egypt|egipto|égypte|ägypten|cairo|el cairo|le caire|kairo",
        "Africa/Casablanca": "morocco|maroc|marruecos|marokko|casablanca|rabat|marrakech|marrakesh|tangier|tanger",
        "Africa/Algiers": "algeria|algérie|argelia|algiers|alger|argel",
        "Africa/Tunis": "tunisia|tunisie|túnez|tunis",
        "Africa/Lagos": "nigeria|lagos|abuja",
        "Africa/Accra": "ghana|accra",
        "Africa/Nairobi": "kenya|nairobi|mombasa",
        "Africa/Johannesburg": "south africa|sudáfrica|afrique du sud|johannesburg|cape town|pretoria|durban",
        "Africa/Addis_Ababa": "ethiopia|addis ababa",
        "Africa/Dakar": "senegal|sénégal|dakar",
        "Africa/Abidjan": "ivory coast|côte d'ivoire|abidjan",
        "Asia/Kolkata": "india|inde|indien|mumbai|bombay|delhi|new delhi|bangalore|bengaluru|hyderabad"
        "|chennai|madras|kolkata|calcutta|pune|ahmedabad|jaipur|noida|gurgaon|gurugram",
        "Asia/Karachi": "pakistan|karachi|lahore|islamabad",
        "Asia/Dhaka": "bangladesh|dhaka",
        "Asia/Colombo": "sri lanka|colombo",
        "Asia/Kathmandu": "nepal|kathmandu",
        "Asia/Shanghai": "china|mainland china|chine|beijing|peking|pekín|pékin|shanghai|shenzhen|guangzhou"
        "|chengdu|hangzhou|wuhan|nanjing|tianjin|xi'an|suzhou|chongqing",
        "Asia/Hong_Kong": "hong kong|hongkong",
        "Asia/Macau": "macau|macao",
        "Asia/Taipei": "taiwan|taiwán|taipei|kaohsiung|taichung|hsinchu",
        "Asia/Tokyo": "japan|japón|japon|japão|giappone|tokyo|tokio|osaka|kyoto|yokohama|nagoya|sapporo|fukuoka|kobe",
        "Asia/Seoul": "south korea|korea|corea del sur|corée du sud|südkorea|seoul|seúl|séoul|busan|incheon",
        "Asia/Singapore": "singapore|singapur|singapour|cingapura",
        "Asia/Kuala_Lumpur": "malaysia|malasia|kuala lumpur|penang",
        "Asia/Bangkok": "thailand|tailandia|thaïlande|bangkok|phuket|chiang mai",
        "Asia/Ho_Chi_Minh": "vietnam|viet nam|ho chi minh city|saigon|hanoi",
        "Asia/Jakarta": "indonesia|jakarta|yakarta|bandung|surabaya",
        "Asia/Makassar": "bali|denpasar",
        "Asia/Manila": "philippines|filipinas|manila|cebu|makati|quezon city",
        "Asia/Tashkent": "uzbekistan|tashkent",
        "Asia/Almaty": "almaty",
        "Asia/Tbilisi": "tbilisi",
        "Asia/Yerevan": "armenia|yerevan",
        "Asia/Baku": "azerbaijan|baku",
        "Asia/Tehran": "iran|tehran|teherán",
        "Asia/Baghdad": "iraq|baghdad",
        "Australia/Sydney": "sydney|canberra|new south wales|nsw",
        "Australia/Melbourne": "melbourne|geelong",
        "Australia/Brisbane": "brisbane|queensland|gold coast",
        "Australia/Adelaide": "adelaide|south australia",
        "Australia/Perth": "perth|western australia",
        "Australia/Darwin": "northern territory",
        "Australia/Hobart": "hobart|tasmania",
        "Pacific/Auckland": "new zealand|nueva zelanda|nouvelle-zélande|aotearoa|auckland|wellington"
        "|christchurch|queenstown",
        "America/New_York": "new york|new york city|nyc|manhattan|brooklyn|boston|philadelphia"
        "|washington dc|washington d.c.|dc|d.c.|miami|atlanta|tampa|pittsburgh|baltimore"
        "|detroit|cleveland|columbus|raleigh|jacksonville|buffalo|newark|jersey city|hartford|new jersey"
        "|connecticut|massachusetts|pennsylvania|new york state|florida|north carolina|south carolina"
        "|virginia|west virginia|maryland|delaware|ohio|michigan|maine|vermont|new hampshire|rhode island"
        "|nueva york|nouvelle-york",
        "America/Indiana/Indianapolis": "indianapolis|indiana",
        "America/Chicago": "chicago|houston|dallas|san antonio|austin|fort worth|nashville|memphis"
        "|new orleans|kansas city|st. louis|st louis|saint louis|minneapolis|milwaukee|oklahoma city|omaha"
        "|texas|illinois|minnesota|wisconsin|iowa|missouri|tennessee|louisiana|alabama|mississippi|arkansas"
        "|oklahoma|kansas|nebraska",
        "America/Denver": "denver|colorado|salt lake city|utah|albuquerque|new mexico|boise|idaho|montana"
        "|wyoming|el paso",
        "America/Phoenix": "phoenix|arizona|tucson|scottsdale",
        "America/Los_Angeles": "los angeles|los ángeles|l.a.|san francisco|bay area|silicon valley|san jose"
        "|san diego|sacramento|oakland|palo alto|mountain view|seattle|portland|las vegas|california"
        "|oregon|washington state|nevada|fresno|long beach|santa monica|irvine|berkeley",
        "America/Anchorage": "alaska|anchorage",
        "Pacific/Honolulu": "hawaii|honolulu",
        "America/Toronto": "toronto|ottawa|montreal|montréal|quebec|québec|quebec city|ontario|mississauga",
        "America/Vancouver": "vancouver|british columbia",
        "America/Edmonton": "calgary|edmonton|alberta",
        "America/Winnipeg": "winnipeg|manitoba",
        "America/Halifax": "halifax|nova scotia|new brunswick",
        "America/Regina": "saskatchewan|saskatoon",
        "America/St_Johns": "newfoundland|st. john's",
        "America/Mexico_City": "mexico city|ciudad de méxico|cdmx|guadalajara|monterrey|puebla|querétaro",
        "America/Cancun": "cancún|cancun|quintana roo",
        "America/Tijuana": "tijuana|baja california",
        "America/Guatemala": "guatemala",
        "America/El_Salvador": "el salvador|san salvador",
        "America/Tegucigalpa": "honduras|tegucigalpa",
        "America/Managua": "nicaragua|managua",
        "America/Costa_Rica": "costa rica",
        "America/Panama": "panama|panamá",
        "America/Havana": "cuba|havana|la habana",
        "America/Santo_Domingo": "dominican republic|república dominicana|santo domingo",
        "America/Puerto_Rico": "puerto rico|san juan",
        "America/Jamaica": "jamaica",
        "America/Bogota": "colombia|bogota|bogotá|medellín|medellin|cali|barranquilla",
        "America/Caracas": "venezuela|caracas|maracaibo",
        "America/Lima": "peru|perú|lima",
        "America/Guayaquil": "ecuador|quito|guayaquil",
        "America/La_Paz": "bolivia|la paz",
        "America/Santiago": "chile|santiago|santiago de chile|valparaíso|valparaiso",
        "America/Argentina/Buenos_Aires": "argentina|buenos aires",
        "America/Montevideo": "uruguay|montevideo",
        "America/Asuncion": "paraguay|asunción|asuncion",
        "America/Sao_Paulo": "são paulo|sao paulo|rio de janeiro|brasília|brasilia|belo horizonte|curitiba"
        "|porto alegre|recife|fortaleza|florianópolis|campinas",
        "America/Manaus": "manaus|amazonas",
    }
)
# Countries spanning several zones: every main zone is a candidate, the most populous comes first.
_COUNTRY_ZONES = {
    _fold(name): zones
    for names, zones in (
        (
            "united states|united states of america|the us|usa|u.s.|u.s.a.|estados unidos|eeuu|ee.uu.|eua|états-unis"
            "|etats-unis|vereinigte staaten|stati uniti",
            ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
        ),
        (
            "canada|canadá|kanada",
            (
                "America/Toronto",
                "America/Winnipeg",
                "America/Edmonton",
                "America/Vancouver",
                "America/Halifax",
            ),
        ),
        (
            "australia|australie|australien|austrália",
            ("Australia/Sydney", "Australia/Brisbane", "Australia/Adelaide", "Australia/Perth"),
        ),
        ("brazil|brasil|brésil|brasilien|brasile", ("America/Sao_Paulo", "America/Manaus")),
        (
            "mexico|méxico|mexique|mexiko|messico",
            ("America/Mexico_City", "America/Cancun", "America/Tijuana"),
        ),
    )
    for name in names.split("|")
}
_PLACES: dict[str, tuple[str, ...]] = {name: (zone,) for name, zone in _PLACE_ZONE.items()} | _COUNTRY_ZONES

_ARTICLE = r"(?:(?:the|el|la|los|las|le|les|den|der|die|dem|het|o|os|il|lo)\s+|l')?"
_PLACE = rf"{_ARTICLE}(?P<place>{_alternation(list(_PLACES))})(?!\w)"
# Tier 0 says where the person is; tier 1 is a bare preposition ("in Madrid", "from Berlin", "de Lyon").
_PLACE_CUES: tuple[tuple[int, re.Pattern[str]], ...] = tuple(
    (tier, re.compile(pattern))
    for tier, pattern in (
        (
            0,
            r"\b(?:located|based|living|lives|live|resides|residing|situated|headquartered|moved|relocated"
            r"|office|offices|hq)\s+(?:in|at|near|out\s+of|to)\s+" + _PLACE,
        ),
        (
            0,
            r"\b(?:vive|vivo|viven|reside|ubicad[oa]|situad[oa]|radicad[oa]|basad[oa]|localizad[oa]|con\s+sede"
            r"|establecid[oa])\s+en\s+" + _PLACE,
        ),
        (
            0,
            r"\b(?:habite|vit|vis|situee?|basee?|localisee?|domiciliee?|installee?)\s+(?:a|en|au|aux)\s+" + _PLACE,
        ),
        (0, r"\b(?:wohnt|lebt|sitzt|ansassig|befindet\s+sich)\s+in\s+" + _PLACE),
        (
            0,
            r"\b(?:mora|moro|vive|reside|localizad[oa]|baseado|baseada|sediad[oa])\s+(?:em|no|na|nos|nas)\s+" + _PLACE,
        ),
        (0, r"\b(?:abita|risiede|situat[oa]|basat[oa])\s+(?:a|ad|in)\s+" + _PLACE),
        (0, r"\b(?:woont|gevestigd|wonend)\s+(?:in|te)\s+" + _PLACE),
        (
            0,
            r"\b(?:location|city|town|ciudad|ubicacion|ville|stadt|standort|cidade|citta|localita|plaats)"
            r"\s*:\s*" + _PLACE,
        ),
        (0, rf"(?<!\w){_PLACE}(?:\s*-\s*|\s+)based\b"),
        (1, r"\b(?:in|from|near|en|de|desde|a|au|aux|aus|em|no|na|nos|nas|da|di|uit|te)\s+" + _PLACE),
    )
)


def _notes_place(folded: str) -> tuple[str, ...] | None:
    """Zones of the place the note says the person is in; a stated location beats a bare preposition."""
    best: tuple[int, int, str] | None = None
    for tier, pattern in _PLACE_CUES:
        match = pattern.search(folded)
        if match and (best is None or (tier, match.start()) < best[:2]):
            best = (tier, match.start(), re.sub(r"\s+", " ", match["place"]))
    return _PLACES[best[2]] if best else None


# Tie-break when a number maps to several zones and the workspace default is not one of them.
_REGION_MAIN_ZONE = {
    "US": "America/New_York",
    "CA": "America/Toronto",
    "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "GB": "Europe/London",
    "IE": "Europe/London",
    "IT": "Europe/Rome",
    "FI": "Europe/Helsinki",
    "NO": "Europe/Oslo",
    "RU": "Europe/Moscow",
    "KZ": "Asia/Almaty",
    "AU": "Australia/Sydney",
    "NZ": "Pacific/Auckland",
    "EC": "America/Guayaquil",
    "CL": "America/Santiago",
    "ID": "Asia/Jakarta",
}


def _phone_zones(phone_numbers: Sequence[str], default: str) -> tuple[str, ...] | None:
    """Zones for the first number that has any, best guess first (see `_REGION_MAIN_ZONE`)."""
    for number in _parsed_numbers(phone_numbers):
        zones = sorted({zone for zone in phone_timezones.time_zones_for_number(number) if is_valid_timezone(zone)})
        if not zones:
            continue
        main = _REGION_MAIN_ZONE.get(_region(number) or "")
        pick = next((zone for zone in (default, main) if zone in zones), zones[0])
        return (pick, *(zone for zone in zones if zone != pick))
    return None


@cache
def _canonical_zones() -> dict[str, str]:
    """Case-insensitive lookup of IANA names; reading the zone list once is cheap and keeps checks exact."""
    return {name.casefold(): name for name in zoneinfo.available_timezones() - {"localtime", "Factory", "posixrules"}}


def canonical_timezone(name: str | None) -> str | None:
    """The IANA spelling of a zone name given in any case ("europe/madrid" -> "Europe/Madrid"), or None."""
    return _canonical_zones().get((name or "").strip().casefold())


def is_valid_timezone(name: str) -> bool:
    return canonical_timezone(name) is not None


def resolve_timezone(explicit: str | None, notes: str, phone_numbers: Sequence[str], default: str) -> TimezoneChoice:
    """Pick the zone(s) to respect when calling; an invalid explicit zone is ignored (as for language)."""
    if zone := canonical_timezone(explicit):
        return TimezoneChoice(zone, (zone,), "explicit")
    if zones := _notes_place(_fold(notes or "")):
        return TimezoneChoice(zones[0], zones, "notes_place")
    fallback = canonical_timezone(default)
    if fallback is None:
        raise ValueError(f"default time zone {default!r} is not an IANA zone name")
    if zones := _phone_zones(phone_numbers, fallback):
        return TimezoneChoice(zones[0], zones, "phone")
    return TimezoneChoice(fallback, (fallback,), "default")
