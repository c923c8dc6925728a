"""A deterministic multilingual writer that needs no network.

It is the writer when no LLM key is configured and the fallback when the LLM is down, so a hot lead is
still called back. It reads the same inputs as an LLM: the first name, what the notes ask about (pricing,
a demo, a meeting, a trial, support) and what the template's goal is after (a call, a demo, a trial).
The notes are untrusted, so it never copies them: it only looks for topics in them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from ringback.engine.content_guard import MAX_BODY_CHARS
from ringback.engine.model import Channel, GeneratedSteps, GenerationRequest, StepContent, StepPlan
from ringback.providers.llm.base import WriterError

GENERAL = "general"
_TOPIC_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (topic, re.compile(pattern))
    for topic, pattern in (
        (
            "pricing",
            r"\b(?:pric|costs?\b|costo|coste|cout|quote|budget|precio|presupuesto|cotiza|tarif|prix|devis|preis"
            r"|kosten|kostet|angebot|preco|orcamento|prezz|costi\b|preventiv|listino)",
        ),
        ("demo", r"\b(?:demo|demonstra|vorfuhrung|dimostrazion)"),
        (
            "meeting",
            r"\b(?:meeting|meet\b|call\b|calls\b|appointment|schedul|reunion|cita\b|llamad|rendez|appel|termine?\b"
            r"|gesprach|anruf|reuniao|chamada|ligacao|riunion|appuntament|chiamat|incontr)",
        ),
        ("trial", r"\b(?:trial|prueba|essai|test(?:phase|version|zugang)?\b|teste\b|testar|prova\b)"),
        (
            "support",
            r"\b(?:support|help|issue|problem|soporte|ayuda|assistance|aide\b|hilfe|unterstutzung|suporte|ajuda"
            r"|supporto|assistenza)",
        ),
    )
)
# What the template's goal asks the lead to do, by the first topic found in the goal.
_GOAL_ACTIONS = {"demo": "demo", "trial": "trial", "meeting": "call"}
_MAX_NAME_CHARS = 40
_MAX_SENDER_CHARS = 60


@dataclass(frozen=True)
class _Language:
    email_hello: str
    email_hello_anonymous: str
    spoken_hello: str
    spoken_hello_anonymous: str
    intro_person: str
    intro_person_company: str
    intro_team: str
    thanks: str
    after_call: str
    follow_ups: tuple[str, ...]
    last_note: str
    topics: Mapping[str, tuple[str, str]]  # topic → (first mention, reminder in a follow-up)
    actions: Mapping[str, str]  # goal action → call to action
    voice_close: str
    sign_off: str
    team_signature: str
    subjects: Mapping[str, str]  # topic, "follow_up" or "last" → subject starting with "{name}, "
    lowercase_after_greeting: bool = False  # German letters go on in lower case after "Hallo Maria,"


_LANGUAGES: dict[str, _Language] = {
    "en": _Language(
        email_hello="Hi {name},",
        email_hello_anonymous="Hello,",
        spoken_hello="Hi {name}",
        spoken_hello_anonymous="Hi there",
        intro_person="This is {sender}.",
        intro_person_company="This is {sender} from {company}.",
        intro_team="This is the {company} team.",
        thanks="Thank you for getting in touch with us.",
        after_call="I just tried to reach you by phone.",
        follow_ups=(
            "I wanted to follow up on my previous message.",
            "I'm getting back to you in case my last message got buried.",
        ),
        last_note="I don't want to fill up your inbox, so this is my last note for now.",
        topics={
            "pricing": (
                "You asked about pricing: I'd be glad to walk you through our plans and find the option "
                "that fits you best.",
                "I can still send you a price overview tailored to your needs.",
            ),
            "demo": (
                "You mentioned a demo: I can show you the product in action, focused on what matters to you.",
                "The offer of a personalised demo still stands.",
            ),
            "meeting": (
                "You wanted to talk: I'm happy to set up a time that works for you.",
                "I'm still happy to find a time to talk.",
            ),
            "trial": (
                "You're interested in a trial: I can get you set up so you can try it for yourself.",
                "Your trial can be set up whenever you like.",
            ),
            "support": (
                "You mentioned needing help: I'll make sure you get the right support quickly.",
                "If you still need help, I'm here for you.",
            ),
            GENERAL: (
                "I'd love to learn more about what you're looking for.",
                "I'd still love to hear what you're looking for.",
            ),
        },
        actions={
            "call": "Would you have 15 minutes for a quick call this week?",
            "demo": "Would you like to book a short demo this week?",
            "trial": "Shall I set up a free trial for you?",
            "reply": "Just reply to this message and I'll get back to you right away.",
        },
        voice_close="I'll also send you a message so you can reply whenever it suits you. Have a great day!",
        sign_off="Best regards,",
        team_signature="The team",
        subjects={
            "pricing": "{name}, about pricing",
            "demo": "{name}, your demo",
            "meeting": "{name}, quick chat?",
            "trial": "{name}, your free trial",
            "support": "{name}, your request for help",
            GENERAL: "{name}, about your request",
            "follow_up": "{name}, following up",
            "last": "{name}, one last note",
        },
    ),
    "es": _Language(
        email_hello="Hola, {name}:",
        email_hello_anonymous="Hola:",
        spoken_hello="Hola, {name}",
        spoken_hello_anonymous="Hola",
        intro_person="Soy {sender}.",
        intro_person_company="Soy {sender}, de {company}.",
        intro_team="Somos el equipo de {company}.",
        thanks="Gracias por ponerse en contacto con nosotros.",
        after_call="Acabo de intentar llamarle por teléfono.",
        follow_ups=(
            "Le escribo para dar seguimiento a mi mensaje anterior.",
            "Vuelvo a escribirle por si mi último mensaje se le pasó.",
        ),
        last_note="No quiero llenar su bandeja de entrada, así que este es mi último mensaje por ahora.",
        topics={
            "pricing": (
                "Nos preguntó por los precios: con gusto le explico nuestros planes y le ayudo a "
                "encontrar la opción que mejor se adapte a usted.",
                "Sigo a su disposición para enviarle una propuesta de precios adaptada a sus necesidades.",
            ),
            "demo": (
                "Mencionó una demostración: puedo enseñarle el producto en funcionamiento, centrado en lo "
                "que a usted le interesa.",
                "Mi propuesta de una demostración personalizada sigue en pie.",
            ),
            "meeting": (
                "Quería hablar con nosotros: con gusto buscamos un momento que le venga bien.",
                "Sigo a su disposición para buscar un momento para hablar.",
            ),
            "trial": (
                "Le interesa una prueba: puedo preparársela para que pueda probarlo por su cuenta.",
                "Podemos activar su prueba cuando usted quiera.",
            ),
            "support": (
                "Mencionó que necesita ayuda: me aseguraré de que reciba el soporte adecuado cuanto antes.",
                "Si todavía necesita ayuda, aquí estoy.",
            ),
            GENERAL: (
                "Me encantaría saber más sobre lo que está buscando.",
                "Me encantaría saber qué está buscando.",
            ),
        },
        actions={
            "call": "¿Tendría 15 minutos esta semana para una breve llamada?",
            "demo": "¿Le gustaría reservar una breve demostración esta semana?",
            "trial": "¿Quiere que le active una prueba gratuita?",
            "reply": "Responda a este mensaje y le contestaré enseguida.",
        },
        voice_close=(
            "También le enviaré un mensaje para que pueda responder cuando le venga bien. ¡Que tenga un buen día!"
        ),
        sign_off="Un saludo,",
        team_signature="El equipo",
        subjects={
            "pricing": "{name}, su consulta sobre precios",
            "demo": "{name}, su demostración",
            "meeting": "{name}, ¿hablamos?",
            "trial": "{name}, su prueba gratuita",
            "support": "{name}, su solicitud de ayuda",
            GENERAL: "{name}, sobre su solicitud",
            "follow_up": "{name}, un breve seguimiento",
            "last": "{name}, un último mensaje",
        },
    ),
    "fr": _Language(
        email_hello="Bonjour {name},",
        email_hello_anonymous="Bonjour,",
        spoken_hello="Bonjour {name}",
        spoken_hello_anonymous="Bonjour",
        intro_person="Ici {sender}.",
        intro_person_company="Ici {sender}, de chez {company}.",
        intro_team="Ici l'équipe {company}.",
        thanks="Merci de nous avoir contactés.",
        after_call="Je viens d'essayer de vous joindre par téléphone.",
        follow_ups=(
            "Je reviens vers vous suite à mon précédent message.",
            "Je me permets de vous relancer, au cas où mon dernier message vous aurait échappé.",
        ),
        last_note=("Je ne veux pas encombrer votre boîte de réception : ceci est mon dernier message pour le moment."),
        topics={
            "pricing": (
                "Vous nous avez interrogés sur nos tarifs : je vous présente volontiers nos formules et "
                "vous aide à trouver celle qui vous convient le mieux.",
                "Je peux toujours vous envoyer une proposition tarifaire adaptée à vos besoins.",
            ),
            "demo": (
                "Vous avez évoqué une démonstration : je peux vous montrer le produit en action, en me "
                "concentrant sur ce qui compte pour vous.",
                "Ma proposition de démonstration personnalisée tient toujours.",
            ),
            "meeting": (
                "Vous souhaitiez échanger : je vous propose volontiers un créneau qui vous convient.",
                "Je reste disponible pour convenir d'un moment pour échanger.",
            ),
            "trial": (
                "Un essai vous intéresse : je peux tout préparer pour que vous puissiez tester par vous-même.",
                "Votre essai peut être activé quand vous le souhaitez.",
            ),
            "support": (
                "Vous avez mentionné avoir besoin d'aide : je veille à ce que vous obteniez rapidement le "
                "bon accompagnement.",
                "Si vous avez toujours besoin d'aide, je suis là.",
            ),
            GENERAL: (
                "J'aimerais en savoir plus sur ce que vous recherchez.",
                "J'aimerais toujours savoir ce que vous recherchez.",
            ),
        },
        actions={
            "call": "Auriez-vous 15 minutes cette semaine pour un court appel ?",
            "demo": "Souhaitez-vous réserver une courte démonstration cette semaine ?",
            "trial": "Voulez-vous que je vous ouvre un essai gratuit ?",
            "reply": "Répondez simplement à ce message et je reviens vers vous très vite.",
        },
        voice_close=(
            "Je vous envoie aussi un message pour que vous puissiez répondre quand cela vous arrange. Bonne journée !"
        ),
        sign_off="Bien cordialement,",
        team_signature="L'équipe",
        subjects={
            "pricing": "{name}, votre demande de tarifs",
            "demo": "{name}, votre démonstration",
            "meeting": "{name}, on en parle ?",
            "trial": "{name}, votre essai gratuit",
            "support": "{name}, votre demande d'aide",
            GENERAL: "{name}, suite à votre demande",
            "follow_up": "{name}, petit suivi",
            "last": "{name}, un dernier mot",
        },
    ),
    "de": _Language(
        email_hello="Hallo {name},",
        email_hello_anonymous="Guten Tag,",
        spoken_hello="Hallo {name}",
        spoken_hello_anonymous="Guten Tag",
        intro_person="Hier ist {sender}.",
        intro_person_company="Hier ist {sender} von {company}.",
        intro_team="Hier ist das Team von {company}.",
        thanks="Vielen Dank für Ihre Anfrage.",
        after_call="Ich habe gerade versucht, Sie telefonisch zu erreichen.",
        follow_ups=(
            "Ich wollte kurz an meine letzte Nachricht anknüpfen.",
            "Ich melde mich noch einmal, falls meine letzte Nachricht untergegangen ist.",
        ),
        last_note="Ich möchte Ihr Postfach nicht überfüllen, daher ist dies vorerst meine letzte Nachricht.",
        topics={
            "pricing": (
                "Sie haben nach unseren Preisen gefragt: Gerne stelle ich Ihnen unsere Pakete vor und "
                "finde mit Ihnen die passende Option.",
                "Gerne schicke ich Ihnen eine auf Sie zugeschnittene Preisübersicht.",
            ),
            "demo": (
                "Sie haben eine Demo erwähnt: Ich zeige Ihnen das Produkt gerne live, mit Fokus auf das, "
                "was Ihnen wichtig ist.",
                "Mein Angebot einer persönlichen Demo steht weiterhin.",
            ),
            "meeting": (
                "Sie möchten sich austauschen: Gerne finden wir einen Termin, der Ihnen passt.",
                "Gerne finde ich weiterhin einen passenden Termin für ein Gespräch.",
            ),
            "trial": (
                "Sie interessieren sich für eine Testphase: Ich richte sie gerne ein, damit Sie alles "
                "selbst ausprobieren können.",
                "Ihre Testphase kann jederzeit starten, wenn Sie möchten.",
            ),
            "support": (
                "Sie haben erwähnt, dass Sie Hilfe brauchen: Ich sorge dafür, dass Sie schnell die "
                "richtige Unterstützung bekommen.",
                "Falls Sie noch Hilfe brauchen, bin ich für Sie da.",
            ),
            GENERAL: (
                "Ich würde gerne mehr darüber erfahren, wonach Sie suchen.",
                "Ich würde mich weiterhin freuen zu hören, wonach Sie suchen.",
            ),
        },
        actions={
            "call": "Hätten Sie diese Woche 15 Minuten für ein kurzes Gespräch?",
            "demo": "Möchten Sie diese Woche eine kurze Demo vereinbaren?",
            "trial": "Soll ich Ihnen einen kostenlosen Testzugang einrichten?",
            "reply": "Antworten Sie einfach auf diese Nachricht, und ich melde mich umgehend.",
        },
        voice_close=(
            "Ich schicke Ihnen außerdem eine Nachricht, damit Sie antworten können, wann es Ihnen passt. "
            "Einen schönen Tag noch!"
        ),
        sign_off="Viele Grüße",
        team_signature="Ihr Team",
        lowercase_after_greeting=True,
        subjects={
            "pricing": "{name}, Ihre Preisanfrage",
            "demo": "{name}, Ihre Demo",
            "meeting": "{name}, kurzes Gespräch?",
            "trial": "{name}, Ihre kostenlose Testphase",
            "support": "{name}, Ihre Anfrage",
            GENERAL: "{name}, zu Ihrer Anfrage",
            "follow_up": "{name}, kurze Nachfrage",
            "last": "{name}, eine letzte Nachricht",
        },
    ),
    "pt": _Language(
        email_hello="Olá {name},",
        email_hello_anonymous="Olá,",
        spoken_hello="Olá, {name}",
        spoken_hello_anonymous="Olá",
        intro_person="Aqui é {sender}.",
        intro_person_company="Aqui é {sender}, da {company}.",
        intro_team="Aqui é a equipe da {company}.",
        thanks="Agradecemos o seu contato.",
        after_call="Acabei de tentar falar com você por telefone.",
        follow_ups=(
            "Estou retomando a minha mensagem anterior.",
            "Escrevo de novo caso a minha última mensagem tenha passado despercebida.",
        ),
        last_note="Não quero encher a sua caixa de entrada, então esta é a minha última mensagem por agora.",
        topics={
            "pricing": (
                "Você perguntou sobre preços: será um prazer apresentar os nossos planos e ajudar a "
                "encontrar a melhor opção para você.",
                "Posso enviar uma proposta de preços adaptada às suas necessidades.",
            ),
            "demo": (
                "Você mencionou uma demonstração: posso mostrar o produto em ação, focando no que importa para você.",
                "A proposta de uma demonstração personalizada continua de pé.",
            ),
            "meeting": (
                "Você queria conversar: será um prazer marcar um horário que funcione para você.",
                "Continuo à disposição para marcarmos uma conversa.",
            ),
            "trial": (
                "Você tem interesse num período de teste: posso preparar tudo para você experimentar por "
                "conta própria.",
                "O seu período de teste pode ser ativado quando quiser.",
            ),
            "support": (
                "Você mencionou que precisa de ajuda: vou garantir que receba o suporte certo rapidamente.",
                "Se ainda precisar de ajuda, estou aqui.",
            ),
            GENERAL: (
                "Gostaria de saber mais sobre o que você procura.",
                "Adoraria saber o que você procura.",
            ),
        },
        actions={
            "call": "Teria 15 minutos esta semana para uma conversa rápida?",
            "demo": "Gostaria de agendar uma breve demonstração esta semana?",
            "trial": "Quer que eu ative um teste gratuito para você?",
            "reply": "Basta responder a esta mensagem e retorno logo em seguida.",
        },
        voice_close=("Também vou enviar uma mensagem para você responder quando for melhor. Tenha um ótimo dia!"),
        sign_off="Atenciosamente,",
        team_signature="A equipe",
        subjects={
            "pricing": "{name}, sobre preços",
            "demo": "{name}, a sua demonstração",
            "meeting": "{name}, vamos conversar?",
            "trial": "{name}, o seu teste gratuito",
            "support": "{name}, o seu pedido de ajuda",
            GENERAL: "{name}, sobre o seu pedido",
            "follow_up": "{name}, dando seguimento",
            "last": "{name}, uma última mensagem",
        },
    ),
    "it": _Language(
        email_hello="Buongiorno {name},",
        email_hello_anonymous="Buongiorno,",
        spoken_hello="Buongiorno {name}",
        spoken_hello_anonymous="Buongiorno",
        intro_person="Sono {sender}.",
        intro_person_company="Sono {sender} di {company}.",
        intro_team="Siamo il team di {company}.",
        thanks="Grazie per averci contattato.",
        after_call="Ho appena provato a chiamarLa al telefono.",
        follow_ups=(
            "Le scrivo per dare seguito al mio messaggio precedente.",
            "Le riscrivo nel caso in cui il mio ultimo messaggio Le fosse sfuggito.",
        ),
        last_note=("Non voglio intasare la Sua casella di posta, quindi questo è il mio ultimo messaggio per ora."),
        topics={
            "pricing": (
                "Ci ha chiesto informazioni sui prezzi: Le presento volentieri i nostri piani e La aiuto "
                "a trovare l'opzione più adatta.",
                "Posso ancora inviarLe un preventivo su misura per le Sue esigenze.",
            ),
            "demo": (
                "Ha accennato a una demo: posso mostrarLe il prodotto in azione, concentrandomi su ciò "
                "che conta per Lei.",
                "La proposta di una demo personalizzata è sempre valida.",
            ),
            "meeting": (
                "Desidera parlarne: troviamo volentieri un momento che Le vada bene.",
                "Resto a disposizione per fissare un momento per parlarne.",
            ),
            "trial": (
                "Le interessa una prova: posso preparare tutto perché possa provarlo di persona.",
                "La Sua prova può essere attivata quando desidera.",
            ),
            "support": (
                "Ha detto di aver bisogno di aiuto: mi assicurerò che riceva rapidamente il supporto giusto.",
                "Se ha ancora bisogno di aiuto, sono qui.",
            ),
            GENERAL: (
                "Mi piacerebbe sapere di più su ciò che sta cercando.",
                "Mi farebbe piacere sapere cosa sta cercando.",
            ),
        },
        actions={
            "call": "Avrebbe 15 minuti questa settimana per una breve chiamata?",
            "demo": "Le andrebbe di prenotare una breve demo questa settimana?",
            "trial": "Vuole che Le attivi una prova gratuita?",
            "reply": "Risponda pure a questo messaggio e Le risponderò subito.",
        },
        voice_close="Le invierò anche un messaggio, così potrà rispondere quando preferisce. Buona giornata!",
        sign_off="Cordiali saluti,",
        team_signature="Il team",
        subjects={
            "pricing": "{name}, la Sua richiesta sui prezzi",
            "demo": "{name}, la Sua demo",
            "meeting": "{name}, ci sentiamo?",
            "trial": "{name}, la Sua prova gratuita",
            "support": "{name}, la Sua richiesta di aiuto",
            GENERAL: "{name}, in merito alla Sua richiesta",
            "follow_up": "{name}, un breve seguito",
            "last": "{name}, un ultimo messaggio",
        },
    ),
}
SUPPORTED_LANGUAGES = frozenset(_LANGUAGES)


def detect_topics(text: str) -> tuple[str, ...]:
    """Topics mentioned in `text`, in a fixed order, matched without case or accents (preço = preco)."""
    folded = _fold(text)
    return tuple(topic for topic, pattern in _TOPIC_PATTERNS if pattern.search(folded))


class OfflineWriter:
    """Same request in, same content out: no clock, no randomness, no network."""

    name = "offline-v1"

    def write(self, request: GenerationRequest) -> GeneratedSteps:
        plans = {plan.index: plan for plan in request.steps}
        unknown = [index for index in request.wanted if index not in plans]
        if unknown:
            raise WriterError(f"steps not in the sequence: {unknown}")
        draft = _Draft.of(request)
        return GeneratedSteps(model=self.name, steps={index: draft.step(plans[index]) for index in request.wanted})


@dataclass(frozen=True)
class _Draft:
    """What every step of one request shares: the language, the lead, the sender, the topics, the goal."""

    words: _Language
    name: str
    sender: str
    company: str
    topics: tuple[str, ...]
    action: str
    order: tuple[StepPlan, ...]  # the sequence, by index

    @classmethod
    def of(cls, request: GenerationRequest) -> _Draft:
        goal_topics = [topic for topic in detect_topics(request.goal) if topic in _GOAL_ACTIONS]
        return cls(
            words=_LANGUAGES.get(request.language.lower().split("-")[0], _LANGUAGES["en"]),
            name=_name(request.first_name, _MAX_NAME_CHARS),
            sender=_name(request.sender_name, _MAX_SENDER_CHARS),
            company=_name(request.company, _MAX_SENDER_CHARS),
            topics=detect_topics(request.notes) or (GENERAL,),
            action=_GOAL_ACTIONS[goal_topics[0]] if goal_topics else "reply",
            order=tuple(sorted(request.steps, key=lambda plan: plan.index)),
        )

    def step(self, plan: StepPlan) -> StepContent:
        if plan.channel is Channel.EMAIL:
            return StepContent(subject=self._subject(plan), body=self._email(plan))
        if plan.channel is Channel.SMS:
            return StepContent(body=self._sms(plan))
        return StepContent(body=self._voice(plan))

    def _email(self, plan: StepPlan) -> str:
        words = self.words
        hello = words.email_hello.format(name=self.name) if self.name else words.email_hello_anonymous
        context = self._context(plan)
        if self._position(plan) == 0 or self._reads_as_first(plan):
            context += [words.topics[topic][0] for topic in self.topics[1:2]]  # an email has room for two
        middle = " ".join(context)
        if words.lowercase_after_greeting:
            middle = middle[0].lower() + middle[1:]
        signature = "\n".join(part for part in (self.sender, self.company) if part) or words.team_signature
        return "\n\n".join([hello, middle, words.actions[self.action], f"{words.sign_off}\n{signature}"])

    def _sms(self, plan: StepPlan) -> str:
        required = [self._spoken_hello(), self._intro(), self.words.actions[self.action]]
        context = self._context(plan)
        # With long names, drop the softer sentences rather than let the guard cut the call to action.
        while context and len(" ".join(required + context)) > MAX_BODY_CHARS[Channel.SMS]:
            context.pop()
        return " ".join(part for part in [*required[:2], *context, required[2]] if part)

    def _voice(self, plan: StepPlan) -> str:
        parts = [self._spoken_hello(), self._intro(), *self._context(plan)]
        parts += [self.words.actions[self.action], self.words.voice_close]
        return " ".join(part for part in parts if part)

    def _subject(self, plan: StepPlan) -> str:
        key = "last" if self._is_last(plan) else "follow_up"
        if self._reads_as_first(plan):
            key = self.topics[0]
        subject = self.words.subjects[key]
        return subject.format(name=self.name) if self.name else _capitalise(subject.removeprefix("{name}, "))

    def _context(self, plan: StepPlan) -> list[str]:
        """The sentences that carry the context. The first message thanks and names the topic; the first
        written message after a call says so and names the topic; later ones follow up with a reminder."""
        words, topic = self.words, self.topics[0]
        position = self._position(plan)
        if position == 0:
            return [words.thanks, words.topics[topic][0]]
        if self._reads_as_first(plan):
            return [words.after_call, words.topics[topic][0]]
        if self._is_last(plan):
            return [words.last_note, words.topics[topic][1]]
        return [words.follow_ups[(position - 1) % len(words.follow_ups)], words.topics[topic][1]]

    def _reads_as_first(self, plan: StepPlan) -> bool:
        """True for step 1, and for the first written step when every step before it was a call."""
        earlier = self.order[: self._position(plan)]
        return plan.channel is not Channel.VOICE and all(step.channel is Channel.VOICE for step in earlier)

    def _position(self, plan: StepPlan) -> int:
        return self.order.index(plan)

    def _is_last(self, plan: StepPlan) -> bool:
        return plan.index == self.order[-1].index

    def _spoken_hello(self) -> str:
        words = self.words
        return (words.spoken_hello.format(name=self.name) if self.name else words.spoken_hello_anonymous) + "."

    def _intro(self) -> str:
        words = self.words
        if self.sender and self.company:
            return words.intro_person_company.format(sender=self.sender, company=self.company)
        if self.sender:
            return words.intro_person.format(sender=self.sender)
        if self.company:
            return words.intro_team.format(company=self.company)
        return ""


def _name(value: str, limit: int) -> str:
    """One line, bounded length; an all-lowercase name typed into a form gets capitals ("maria" → "Maria")."""
    value = " ".join(value.split())[:limit].strip()
    return value.title() if value.islower() else value


def _capitalise(text: str) -> str:
    for position, char in enumerate(text):
        if char.isalpha():
            return text[:position] + char.upper() + text[position + 1 :]
    return text


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
