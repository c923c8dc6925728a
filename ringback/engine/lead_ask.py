"""What the lead asked for, read from the notes by rules per language.

The notes are untrusted, so nothing is copied out of them: topics are names from a fixed list, integrations
and features are canonical spellings from fixed lists, team size is a number. That makes the result safe to
hand to any writer as structured data.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PRICING, DEMO, TRIAL, MEETING, SUPPORT, INTEGRATION, FEATURE = (
    "pricing",
    "demo",
    "trial",
    "meeting",
    "support",
    "integration",
    "feature",
)
# Topic → pattern over accent-folded, lower-case text (en, es, fr, de, pt, it).
_TOPICS: dict[str, re.Pattern[str]] = {
    topic: re.compile(pattern)
    for topic, pattern in {
        PRICING: r"\b(?:pric|costs?\b|cost\b|how much|costo|coste|cuesta|cuanto|cout|quote|budget|precio|presupuesto"
        r"|cotiza|tarif|prix|devis|preis|kosten|kostet|angebot|preco|orcamento|quanto custa|custa|prezz|costi\b"
        r"|preventiv|listino|quanto costa)",
        DEMO: r"\b(?:demo|demonstra|vorfuhrung|dimostrazion)",
        TRIAL: r"\b(?:trial|prueba|essai|testphase|testversion|testzugang|teste\b|testar|prova gratuita|prova\b)",
        MEETING: r"\b(?:meeting|appointment|schedul|reunion|cita\b|rendez|termin\b|termin fur|gesprach|reuniao"
        r"|riunion|appuntament|incontr)",
        SUPPORT: r"\b(?:support|help|issue|problem|soporte|ayuda|assistance|aide\b|hilfe|unterstutzung|suporte"
        r"|ajuda|supporto|assistenza)",
    }.items()
}
INTEGRATIONS = (
    "HubSpot",
    "Salesforce",
    "Pipedrive",
    "Zapier",
    "Zoho",
    "Slack",
    "Microsoft Teams",
    "Outlook",
    "Gmail",
    "Google Calendar",
    "Shopify",
    "Zendesk",
    "Intercom",
    "WhatsApp",
)
FEATURES = ("SSO", "SAML", "API", "SCIM", "2FA", "GDPR", "HIPAA", "SOC 2")
_INTEGRATION_PATTERNS = {name: re.compile(rf"(?<![\w]){re.escape(name.lower())}(?![\w])") for name in INTEGRATIONS}
_FEATURE_PATTERNS = {name: re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])") for name in FEATURES}
# "50 reps", "un equipo de 8 vendedores", "15 agents", "30 Nutzer", "20 corretores", "25 agenti".
_TEAM_SIZE = re.compile(
    r"\b(\d{1,5})\s+(?:\w+\s+)?(?:reps|sales ?reps|users|seats|people|employees|agents|agentes|agenti|staff|"
    r"vendedores|usuarios|empleados|personas|commerciaux|utilisateurs|salaries|collaborateurs|mitarbeiter\w*|"
    r"nutzer\w*|leute|vertriebler\w*|usuarios|funcionarios|pessoas|corretores|utenti|dipendenti|venditori|"
    r"persone|sedes|sites|clinics|clinicas|unidades|sedi|filialen|locations)\b"
)
_TEAM_OF = re.compile(
    r"\b(?:team|equipo|equipe|squadra|team von|gruppe) (?:of|de|di|von) (\d{1,5})\b"
)
_URGENT = re.compile(
    r"\b(?:urgent\w*|asap|as soon as possible|right away|today|urgente\w*|cuanto antes|lo antes posible|"
    r"rapidement|au plus vite|dringend|sofort|schnell\w*|o quanto antes|rapidamente|subito|al piu presto)"
)


@dataclass(frozen=True)
class LeadAsk:
    """Topics in the order the lead raised them (the first is the main ask) and the named specifics."""

    topics: tuple[str, ...] = ()
    integrations: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    team_size: int | None = None
    urgent: bool = False

    @property
    def main(self) -> str | None:
        return self.topics[0] if self.topics else None

    def to_json(self) -> dict[str, object]:
        return {
            "main_ask": self.main,
            "topics": list(self.topics),
            "integrations": list(self.integrations),
            "features": list(self.features),
            "team_size": self.team_size,
            "urgent": self.urgent,
        }


def extract_ask(notes: str) -> LeadAsk:
    """Read the ask from the notes; the first topic raised is the main one."""
    folded = fold(notes)
    found = {topic: match.start() for topic, pattern in _TOPICS.items() if (match := pattern.search(folded))}
    integrations = _named(_INTEGRATION_PATTERNS, folded, found, INTEGRATION)
    features = _named(_FEATURE_PATTERNS, notes, found, FEATURE)
    size = _TEAM_SIZE.search(folded) or _TEAM_OF.search(folded)
    return LeadAsk(
        topics=tuple(sorted(found, key=lambda topic: found[topic])),
        integrations=integrations,
        features=features,
        team_size=int(size.group(1)) if size and int(size.group(1)) > 0 else None,
        urgent=bool(_URGENT.search(folded)),
    )


def _named(patterns: dict[str, re.Pattern[str]], text: str, found: dict[str, int], topic: str) -> tuple[str, ...]:
    """Names found in `text`, in order; the earliest also marks where `topic` was raised."""
    hits = sorted((match.start(), name) for name, pattern in patterns.items() if (match := pattern.search(text)))
    if hits:
        found[topic] = min(found.get(topic, hits[0][0]), hits[0][0])
    return tuple(name for _, name in hits)


def fold(text: str) -> str:
    """Lower case without accents, so "cuánto", "Cuanto" and "CUANTO" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
