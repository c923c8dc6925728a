"""A deterministic multilingual writer that needs no network.

It is the writer when no LLM key is configured and the fallback when the LLM is down, so a hot lead is
still called back. It reads the same inputs as an LLM: the sender's identity, what the lead asked
(`engine.lead_ask`: topics, named integrations and features, team size), the template's goal and facts, and
the plan as it will run (skipped steps are never referred to). A call gets two scripts: a live-answer one
for a person (one direct question) and a voicemail one (no question, a way to call back). The notes and the
lead's company are untrusted, so it never copies them: only names from fixed lists and numbers come out of
the notes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ringback.engine.lead_ask import FEATURE, INTEGRATION, INTEGRATIONS, LeadAsk, extract_ask, fold
from ringback.engine.model import Channel, GeneratedSteps, GenerationRequest, StepContent, StepPlan
from ringback.engine.sms import opt_out_text, segments
from ringback.providers.llm.base import WriterError

GENERAL = "general"
# What the template's goal asks the lead to do, by the first of these words found in the goal.
_GOAL_ACTIONS = (("demo", "demo"), ("trial", "trial"), ("call", "call"), ("meeting", "call"), ("talk", "call"))
_NAMED_TOPICS = (INTEGRATION, FEATURE)
_MAX_NAME_CHARS = 40
_MAX_SENDER_CHARS = 60


@dataclass(frozen=True)
class _Language:
    email_hello: str
    email_hello_anonymous: str
    spoken_hello: str
    spoken_hello_anonymous: str
    intro: str  # {sender}
    intro_company: str  # {sender}, {company}
    intro_title: str  # {sender}, {title}, {company}
    thanks: str
    after_call: str
    follow_ups: tuple[str, ...]
    last_note: str
    topics: Mapping[str, tuple[str, str]]  # topic → (first mention, reminder); named topics take {names}
    short: Mapping[str, str]  # topic → one short SMS sentence; named topics take {names}
    noted: str  # {items}: the specifics the lead named, in short
    size: str  # {n}: the team size the lead gave
    names: str  # {names}: the specifics the lead named, in a sentence
    works_with: str  # {names}: integrations the template's goal or facts name
    actions: Mapping[str, str]  # goal action → call to action in a written step
    sms_action: str  # the call to action of a first text: short, a text has little room
    follow_up_closes: tuple[str, ...]
    last_close: str
    voice_action: str  # a call can reach a person or a voicemail: ask for a call back, not for "15 minutes"
    voice_message_next: str
    voice_goodbye: str
    live_question: str  # a live call asks one direct question...
    live_connect: str  # ...and puts the lead through to the template's connect number,
    live_callback: str  # or, without one, asks for a call back on this number
    sign_off: str
    team_signature: str
    subjects: Mapping[str, str]  # topic, "follow_up" or "last" → subject starting with "{name}, "
    conjunction: str  # "and" joining the last two names
    lowercase_after_greeting: bool = False  # German letters go on in lower case after "Hallo Maria,"


_LANGUAGES: dict[str, _Language] = {
    "en": _Language(
        email_hello="Hi {name},",
        email_hello_anonymous="Hello,",
        spoken_hello="Hi {name}",
        spoken_hello_anonymous="Hi there",
        intro="This is {sender}.",
        intro_company="This is {sender} from {company}.",
        intro_title="This is {sender}, {title} at {company}.",
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
                "You asked for a demo: I can show you the product in action, focused on what matters to you.",
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
                "You asked for help: I'll make sure you get the right support quickly.",
                "If you still need help, I'm here for you.",
            ),
            INTEGRATION: (
                "You asked about working with {names}: I'll show you exactly how that fits your setup.",
                "I can still walk you through how it works with {names}.",
            ),
            FEATURE: (
                "You asked about {names}: I'll go through how that works for you.",
                "Happy to go over {names} whenever it suits you.",
            ),
            GENERAL: (
                "I'd love to learn more about what you're looking for.",
                "I'd still love to hear what you're looking for.",
            ),
        },
        short={
            "pricing": "You asked about pricing.",
            "demo": "You asked for a demo.",
            "meeting": "You'd like to talk.",
            "trial": "You asked about a trial.",
            "support": "You asked for help.",
            INTEGRATION: "You asked about {names}.",
            FEATURE: "You asked about {names}.",
            GENERAL: "Thanks for your request.",
        },
        noted="Noted: {items}.",
        size="I've noted the size you mentioned ({n}).",
        names="I'll cover {names} as well.",
        works_with="It works with {names}.",
        actions={
            "call": "Would you have 15 minutes for a quick call this week?",
            "demo": "Would you like to book a short demo this week?",
            "trial": "Shall I set up a free trial for you?",
            "reply": "Just reply to this message and I'll get back to you right away.",
        },
        sms_action="Free for a quick call this week?",
        follow_up_closes=(
            "Just reply with a time that suits you.",
            "A one-line reply is enough and I'll take it from there.",
        ),
        last_close="If the timing isn't right, no problem: you can reach me here whenever you're ready.",
        voice_action="You can call me back on this number whenever it suits you.",
        voice_message_next="I'll also send you a short message so you can reply in writing.",
        voice_goodbye="Have a great day!",
        live_question="Is now a good moment to talk about it?",
        live_connect="Stay on the line and I'll connect you with a colleague right away.",
        live_callback="Would you like to go through it together? Call me back on this number whenever it suits you.",
        sign_off="Best regards,",
        team_signature="The team",
        subjects={
            "pricing": "{name}, about pricing",
            "demo": "{name}, your demo",
            "meeting": "{name}, quick chat?",
            "trial": "{name}, your free trial",
            "support": "{name}, your request for help",
            INTEGRATION: "{name}, about your integration question",
            FEATURE: "{name}, about your question",
            GENERAL: "{name}, about your request",
            "follow_up": "{name}, following up",
            "last": "{name}, one last note",
        },
        conjunction="and",
    ),
    "es": _Language(
        email_hello="Hola, {name}:",
        email_hello_anonymous="Hola:",
        spoken_hello="Hola, {name}",
        spoken_hello_anonymous="Hola",
        intro="Le saluda {sender}.",
        intro_company="Le saluda {sender}, de {company}.",
        intro_title="Le saluda {sender}, {title} en {company}.",
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
                "Nos pidió una demostración: puedo enseñarle el producto en funcionamiento, centrado en lo "
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
                "Nos pidió ayuda: me aseguraré de que reciba el soporte adecuado cuanto antes.",
                "Si todavía necesita ayuda, aquí estoy.",
            ),
            INTEGRATION: (
                "Nos preguntó por {names}: le mostraré cómo encaja con lo que ya utiliza.",
                "Sigo a su disposición para explicarle cómo funciona con {names}.",
            ),
            FEATURE: (
                "Nos preguntó por {names}: le explicaré cómo funciona en su caso.",
                "Con gusto repasamos {names} cuando le venga bien.",
            ),
            GENERAL: (
                "Me encantaría saber más sobre lo que está buscando.",
                "Me encantaría saber qué está buscando.",
            ),
        },
        short={
            "pricing": "Nos preguntó por los precios.",
            "demo": "Nos pidió una demo.",
            "meeting": "Quería hablar con nosotros.",
            "trial": "Le interesa una prueba.",
            "support": "Nos pidió ayuda.",
            INTEGRATION: "Nos preguntó por {names}.",
            FEATURE: "Nos preguntó por {names}.",
            GENERAL: "Gracias por su solicitud.",
        },
        noted="Tomo nota: {items}.",
        size="He tomado nota del tamaño que mencionó ({n}).",
        names="También le explicaré {names}.",
        works_with="Se integra con {names}.",
        actions={
            "call": "¿Tendría 15 minutos esta semana para una breve llamada?",
            "demo": "¿Le gustaría reservar una breve demostración esta semana?",
            "trial": "¿Quiere que le active una prueba gratuita?",
            "reply": "Responda a este mensaje y le contestaré enseguida.",
        },
        sms_action="¿Hablamos esta semana?",
        follow_up_closes=(
            "Respóndame con el momento que mejor le venga.",
            "Basta con una línea de respuesta y yo me encargo del resto.",
        ),
        last_close="Si ahora no es buen momento, no pasa nada: puede escribirme aquí cuando quiera.",
        voice_action="Puede devolverme la llamada a este número cuando le venga bien.",
        voice_message_next="También le enviaré un breve mensaje para que pueda responder por escrito.",
        voice_goodbye="¡Que tenga un buen día!",
        live_question="¿Le viene bien hablarlo ahora?",
        live_connect="No cuelgue y le paso ahora mismo con un compañero.",
        live_callback="¿Le gustaría que lo veamos juntos? Devuélvame la llamada a este número cuando le venga bien.",
        sign_off="Un saludo,",
        team_signature="El equipo",
        subjects={
            "pricing": "{name}, su consulta sobre precios",
            "demo": "{name}, su demostración",
            "meeting": "{name}, ¿hablamos?",
            "trial": "{name}, su prueba gratuita",
            "support": "{name}, su solicitud de ayuda",
            INTEGRATION: "{name}, su consulta sobre integraciones",
            FEATURE: "{name}, su consulta",
            GENERAL: "{name}, sobre su solicitud",
            "follow_up": "{name}, un breve seguimiento",
            "last": "{name}, un último mensaje",
        },
        conjunction="y",
    ),
    "fr": _Language(
        email_hello="Bonjour {name},",
        email_hello_anonymous="Bonjour,",
        spoken_hello="Bonjour {name}",
        spoken_hello_anonymous="Bonjour",
        intro="Je suis {sender}.",
        intro_company="Je suis {sender}, de {company}.",
        intro_title="Je suis {sender}, {title} chez {company}.",
        thanks="Merci de nous avoir contactés.",
        after_call="Je viens d'essayer de vous joindre par téléphone.",
        follow_ups=(
            "Je reviens vers vous suite à mon précédent message.",
            "Je me permets de vous relancer, au cas où mon dernier message vous aurait échappé.",
        ),
        last_note="Je ne veux pas encombrer votre boîte de réception : ceci est mon dernier message pour le moment.",
        topics={
            "pricing": (
                "Vous nous avez interrogés sur nos tarifs : je vous présente volontiers nos formules et "
                "vous aide à trouver celle qui vous convient le mieux.",
                "Je peux toujours vous envoyer une proposition tarifaire adaptée à vos besoins.",
            ),
            "demo": (
                "Vous avez demandé une démonstration : je peux vous montrer le produit en action, en me "
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
                "Vous avez besoin d'aide : je veille à ce que vous obteniez rapidement le bon accompagnement.",
                "Si vous avez toujours besoin d'aide, je suis là.",
            ),
            INTEGRATION: (
                "Vous nous avez interrogés sur {names} : je vous montrerai comment cela s'intègre à vos outils.",
                "Je peux toujours vous montrer comment cela fonctionne avec {names}.",
            ),
            FEATURE: (
                "Vous nous avez interrogés sur {names} : je vous explique volontiers comment cela fonctionne.",
                "Je reviens volontiers sur {names} quand cela vous arrange.",
            ),
            GENERAL: (
                "J'aimerais en savoir plus sur ce que vous recherchez.",
                "J'aimerais toujours savoir ce que vous recherchez.",
            ),
        },
        short={
            "pricing": "Vous avez demandé nos tarifs.",
            "demo": "Vous avez demandé une démonstration.",
            "meeting": "Vous souhaitiez échanger.",
            "trial": "Un essai vous intéresse.",
            "support": "Vous avez besoin d'aide.",
            INTEGRATION: "Vous avez demandé {names}.",
            FEATURE: "Vous avez demandé {names}.",
            GENERAL: "Merci pour votre demande.",
        },
        noted="C'est noté : {items}.",
        size="J'ai bien noté le volume indiqué ({n}).",
        names="Je vous présenterai aussi {names}.",
        works_with="Il s'intègre avec {names}.",
        actions={
            "call": "Auriez-vous 15 minutes cette semaine pour un court appel ?",
            "demo": "Souhaitez-vous réserver une courte démonstration cette semaine ?",
            "trial": "Voulez-vous que je vous ouvre un essai gratuit ?",
            "reply": "Répondez simplement à ce message et je reviens vers vous très vite.",
        },
        sms_action="On s'appelle cette semaine ?",
        follow_up_closes=(
            "Indiquez-moi simplement le moment qui vous arrange.",
            "Une ligne de réponse suffit, je m'occupe du reste.",
        ),
        last_close="Si le moment n'est pas idéal, aucun souci : vous pouvez me répondre ici quand vous voulez.",
        voice_action="Vous pouvez me rappeler à ce numéro quand cela vous arrange.",
        voice_message_next="Je vous envoie aussi un court message pour que vous puissiez répondre par écrit.",
        voice_goodbye="Bonne journée !",
        live_question="Est-ce un bon moment pour en parler ?",
        live_connect="Restez en ligne, je vous mets tout de suite en relation avec un collègue.",
        live_callback=(
            "Souhaitez-vous que nous en parlions ensemble ? Rappelez-moi à ce numéro quand cela vous arrange."
        ),
        sign_off="Bien cordialement,",
        team_signature="L'équipe",
        subjects={
            "pricing": "{name}, votre demande de tarifs",
            "demo": "{name}, votre démonstration",
            "meeting": "{name}, on en parle ?",
            "trial": "{name}, votre essai gratuit",
            "support": "{name}, votre demande d'aide",
            INTEGRATION: "{name}, votre question sur les intégrations",
            FEATURE: "{name}, votre question",
            GENERAL: "{name}, suite à votre demande",
            "follow_up": "{name}, petit suivi",
            "last": "{name}, un dernier mot",
        },
        conjunction="et",
    ),
    "de": _Language(
        email_hello="Hallo {name},",
        email_hello_anonymous="Guten Tag,",
        spoken_hello="Hallo {name}",
        spoken_hello_anonymous="Guten Tag",
        intro="Mein Name ist {sender}.",
        intro_company="Mein Name ist {sender} von {company}.",
        intro_title="Mein Name ist {sender}, {title} bei {company}.",
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
                "Sie haben nach einer Demo gefragt: Ich zeige Ihnen das Produkt gerne live, mit Fokus auf das, "
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
                "Sie brauchen Hilfe: Ich sorge dafür, dass Sie schnell die richtige Unterstützung bekommen.",
                "Falls Sie noch Hilfe brauchen, bin ich für Sie da.",
            ),
            INTEGRATION: (
                "Sie haben nach {names} gefragt: Ich zeige Ihnen, wie das zu Ihren Werkzeugen passt.",
                "Gerne zeige ich Ihnen weiterhin, wie es mit {names} funktioniert.",
            ),
            FEATURE: (
                "Sie haben nach {names} gefragt: Ich erkläre Ihnen gerne, wie das bei Ihnen funktioniert.",
                "Gerne gehe ich auf {names} ein, wann immer es Ihnen passt.",
            ),
            GENERAL: (
                "Ich würde gerne mehr darüber erfahren, wonach Sie suchen.",
                "Ich würde mich weiterhin freuen zu hören, wonach Sie suchen.",
            ),
        },
        short={
            "pricing": "Sie haben nach Preisen gefragt.",
            "demo": "Sie wünschen eine Demo.",
            "meeting": "Sie wünschen ein Gespräch.",
            "trial": "Sie möchten eine Testphase.",
            "support": "Sie brauchen Hilfe.",
            INTEGRATION: "Sie haben nach {names} gefragt.",
            FEATURE: "Sie haben nach {names} gefragt.",
            GENERAL: "Danke für Ihre Anfrage.",
        },
        noted="Notiert: {items}.",
        size="Die genannte Größe ({n}) habe ich notiert.",
        names="Auf {names} gehe ich ebenfalls ein.",
        works_with="Es lässt sich mit {names} verbinden.",
        actions={
            "call": "Hätten Sie diese Woche 15 Minuten für ein kurzes Gespräch?",
            "demo": "Möchten Sie diese Woche eine kurze Demo vereinbaren?",
            "trial": "Soll ich Ihnen einen kostenlosen Testzugang einrichten?",
            "reply": "Antworten Sie einfach auf diese Nachricht, und ich melde mich umgehend.",
        },
        sms_action="Kurz telefonieren diese Woche?",
        follow_up_closes=(
            "Nennen Sie mir einfach eine Zeit, die Ihnen passt.",
            "Eine kurze Antwort genügt, um den Rest kümmere ich mich.",
        ),
        last_close="Falls es gerade nicht passt, kein Problem: Sie erreichen mich hier, wann immer Sie möchten.",
        voice_action="Sie können mich unter dieser Nummer zurückrufen, wann immer es Ihnen passt.",
        voice_message_next="Ich schicke Ihnen außerdem eine kurze Nachricht, damit Sie schriftlich antworten können.",
        voice_goodbye="Einen schönen Tag noch!",
        live_question="Passt es Ihnen gerade, kurz darüber zu sprechen?",
        live_connect="Bleiben Sie dran, ich verbinde Sie sofort mit einem Kollegen.",
        live_callback=(
            "Möchten Sie das gemeinsam durchgehen? Rufen Sie mich unter dieser Nummer zurück, "
            "wann immer es Ihnen passt."
        ),
        sign_off="Viele Grüße",
        team_signature="Ihr Team",
        subjects={
            "pricing": "{name}, Ihre Preisanfrage",
            "demo": "{name}, Ihre Demo",
            "meeting": "{name}, kurzes Gespräch?",
            "trial": "{name}, Ihre kostenlose Testphase",
            "support": "{name}, Ihre Anfrage",
            INTEGRATION: "{name}, Ihre Frage zu Integrationen",
            FEATURE: "{name}, Ihre Frage",
            GENERAL: "{name}, zu Ihrer Anfrage",
            "follow_up": "{name}, kurze Nachfrage",
            "last": "{name}, eine letzte Nachricht",
        },
        conjunction="und",
        lowercase_after_greeting=True,
    ),
    "pt": _Language(
        email_hello="Olá {name},",
        email_hello_anonymous="Olá,",
        spoken_hello="Olá, {name}",
        spoken_hello_anonymous="Olá",
        intro="Aqui é {sender}.",
        intro_company="Aqui é {sender}, da equipe {company}.",
        intro_title="Aqui é {sender}, {title} da equipe {company}.",
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
                "Você pediu uma demonstração: posso mostrar o produto em ação, focando no que importa para você.",
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
                "Você pediu ajuda: vou garantir que receba o suporte certo rapidamente.",
                "Se ainda precisar de ajuda, estou aqui.",
            ),
            INTEGRATION: (
                "Você perguntou sobre {names}: vou mostrar como isso se encaixa nas suas ferramentas.",
                "Continuo à disposição para mostrar como funciona com {names}.",
            ),
            FEATURE: (
                "Você perguntou sobre {names}: vou explicar como isso funciona no seu caso.",
                "Posso rever {names} com você quando for melhor.",
            ),
            GENERAL: (
                "Gostaria de saber mais sobre o que você procura.",
                "Adoraria saber o que você procura.",
            ),
        },
        short={
            "pricing": "Você perguntou sobre preços.",
            "demo": "Você pediu uma demo.",
            "meeting": "Você queria conversar.",
            "trial": "Você quer um período de teste.",
            "support": "Você pediu ajuda.",
            INTEGRATION: "Você perguntou sobre {names}.",
            FEATURE: "Você perguntou sobre {names}.",
            GENERAL: "Obrigado pelo seu pedido.",
        },
        noted="Anotado: {items}.",
        size="Anotei o tamanho que mencionou ({n}).",
        names="Também vou explicar {names}.",
        works_with="Integra-se com {names}.",
        actions={
            "call": "Teria 15 minutos esta semana para uma conversa rápida?",
            "demo": "Gostaria de agendar uma breve demonstração esta semana?",
            "trial": "Quer que eu ative um teste gratuito para você?",
            "reply": "Basta responder a esta mensagem e retorno logo em seguida.",
        },
        sms_action="Podemos falar esta semana?",
        follow_up_closes=(
            "Responda com o horário que for melhor para você.",
            "Uma linha de resposta basta e eu cuido do resto.",
        ),
        last_close="Se agora não for o momento, sem problema: pode me responder aqui quando quiser.",
        voice_action="Pode me ligar de volta neste número quando for melhor para você.",
        voice_message_next="Também vou enviar uma mensagem curta para você responder por escrito.",
        voice_goodbye="Tenha um ótimo dia!",
        live_question="Agora é um bom momento para conversarmos sobre isso?",
        live_connect="Fique na linha que vou transferir você agora mesmo para um colega.",
        live_callback="Gostaria de ver isso juntos? Me ligue de volta neste número quando for melhor para você.",
        sign_off="Atenciosamente,",
        team_signature="A equipe",
        subjects={
            "pricing": "{name}, sobre preços",
            "demo": "{name}, a sua demonstração",
            "meeting": "{name}, vamos conversar?",
            "trial": "{name}, o seu teste gratuito",
            "support": "{name}, o seu pedido de ajuda",
            INTEGRATION: "{name}, a sua pergunta sobre integrações",
            FEATURE: "{name}, a sua pergunta",
            GENERAL: "{name}, sobre o seu pedido",
            "follow_up": "{name}, dando seguimento",
            "last": "{name}, uma última mensagem",
        },
        conjunction="e",
    ),
    "it": _Language(
        email_hello="Buongiorno {name},",
        email_hello_anonymous="Buongiorno,",
        spoken_hello="Buongiorno {name}",
        spoken_hello_anonymous="Buongiorno",
        intro="Sono {sender}.",
        intro_company="Sono {sender} di {company}.",
        intro_title="Sono {sender}, {title} di {company}.",
        thanks="Grazie per averci contattato.",
        after_call="Ho appena provato a chiamarLa al telefono.",
        follow_ups=(
            "Le scrivo per dare seguito al mio messaggio precedente.",
            "Le riscrivo nel caso in cui il mio ultimo messaggio Le fosse sfuggito.",
        ),
        last_note="Non voglio intasare la Sua casella di posta, quindi questo è il mio ultimo messaggio per ora.",
        topics={
            "pricing": (
                "Ci ha chiesto informazioni sui prezzi: Le presento volentieri i nostri piani e La aiuto "
                "a trovare l'opzione più adatta.",
                "Posso ancora inviarLe un preventivo su misura per le Sue esigenze.",
            ),
            "demo": (
                "Ci ha chiesto una demo: posso mostrarLe il prodotto in azione, concentrandomi su ciò "
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
                "Ci ha chiesto aiuto: mi assicurerò che riceva rapidamente il supporto giusto.",
                "Se ha ancora bisogno di aiuto, sono qui.",
            ),
            INTEGRATION: (
                "Ci ha chiesto di {names}: Le mostrerò come si inserisce tra i Suoi strumenti.",
                "Resto a disposizione per mostrarLe come funziona con {names}.",
            ),
            FEATURE: (
                "Ci ha chiesto di {names}: Le spiego volentieri come funziona nel Suo caso.",
                "Possiamo riprendere {names} quando preferisce.",
            ),
            GENERAL: (
                "Mi piacerebbe sapere di più su ciò che sta cercando.",
                "Mi farebbe piacere sapere cosa sta cercando.",
            ),
        },
        short={
            "pricing": "Ci ha chiesto i prezzi.",
            "demo": "Ci ha chiesto una demo.",
            "meeting": "Desidera parlarne.",
            "trial": "Le interessa una prova.",
            "support": "Ci ha chiesto aiuto.",
            INTEGRATION: "Ci ha chiesto di {names}.",
            FEATURE: "Ci ha chiesto di {names}.",
            GENERAL: "Grazie per la richiesta.",
        },
        noted="Preso nota: {items}.",
        size="Ho preso nota delle dimensioni indicate ({n}).",
        names="Le illustrerò anche {names}.",
        works_with="Si integra con {names}.",
        actions={
            "call": "Avrebbe 15 minuti questa settimana per una breve chiamata?",
            "demo": "Le andrebbe di prenotare una breve demo questa settimana?",
            "trial": "Vuole che Le attivi una prova gratuita?",
            "reply": "Risponda pure a questo messaggio e Le risponderò subito.",
        },
        sms_action="Ci sentiamo questa settimana?",
        follow_up_closes=(
            "Mi indichi pure il momento che preferisce.",
            "Basta una riga di risposta, al resto penso io.",
        ),
        last_close="Se ora non è il momento giusto, nessun problema: può rispondermi qui quando vuole.",
        voice_action="Può richiamarmi a questo numero quando Le è più comodo.",
        voice_message_next="Le invierò anche un breve messaggio, così potrà rispondere per iscritto.",
        voice_goodbye="Buona giornata!",
        live_question="Le va bene parlarne adesso?",
        live_connect="Resti in linea, La metto subito in contatto con un collega.",
        live_callback="Le andrebbe di vederlo insieme? Mi richiami a questo numero quando Le è più comodo.",
        sign_off="Cordiali saluti,",
        team_signature="Il team",
        subjects={
            "pricing": "{name}, la Sua richiesta sui prezzi",
            "demo": "{name}, la Sua demo",
            "meeting": "{name}, ci sentiamo?",
            "trial": "{name}, la Sua prova gratuita",
            "support": "{name}, la Sua richiesta di aiuto",
            INTEGRATION: "{name}, la Sua domanda sulle integrazioni",
            FEATURE: "{name}, la Sua domanda",
            GENERAL: "{name}, in merito alla Sua richiesta",
            "follow_up": "{name}, un breve seguito",
            "last": "{name}, un ultimo messaggio",
        },
        conjunction="e",
    ),
}
SUPPORTED_LANGUAGES = frozenset(_LANGUAGES)


class OfflineWriter:
    """Same request in, same content out: no clock, no randomness, no network."""

    name = "offline-v2"

    def write(self, request: GenerationRequest) -> GeneratedSteps:
        plans = {plan.index: plan for plan in request.steps}
        unknown = [index for index in request.wanted if index not in plans]
        if unknown:
            raise WriterError(f"steps not in the sequence: {unknown}")
        draft = _Draft.of(request)
        return GeneratedSteps(model=self.name, steps={index: draft.step(plans[index]) for index in request.wanted})


@dataclass(frozen=True)
class _Draft:
    """What every step of one request shares: the language, the people, the ask, the plan as it runs."""

    words: _Language
    name: str
    sender: str
    sender_company: str
    sender_title: str
    ask: LeadAsk
    topic: str  # the main ask, or GENERAL
    action: str
    product_names: tuple[str, ...]  # integrations the template's goal or facts name
    runs: tuple[StepPlan, ...]  # the steps that will run, in order
    max_segments: int
    first_text: StepPlan | None
    opt_out: str  # the opt-out line added to the first text after writing; room is kept for it
    connect: bool  # a live call ends by putting the lead through to a colleague

    @classmethod
    def of(cls, request: GenerationRequest) -> _Draft:
        ask = extract_ask(request.notes)
        requests = [topic for topic in ask.topics if topic not in _NAMED_TOPICS]
        first_text = next((plan for plan in request.runs if plan.channel is Channel.SMS), None)
        return cls(
            words=_LANGUAGES.get(request.language.lower().split("-")[0], _LANGUAGES["en"]),
            name=_name(request.first_name, _MAX_NAME_CHARS),
            sender=_name(request.sender_name, _MAX_SENDER_CHARS),
            sender_company=_name(request.sender_company, _MAX_SENDER_CHARS),
            sender_title=_name(request.sender_title, _MAX_SENDER_CHARS),
            ask=ask,
            topic=(requests or [*ask.topics, GENERAL])[0],
            action=_goal_action(request.goal),
            product_names=_product_names(request),
            runs=request.runs,
            max_segments=request.sms_max_segments,
            first_text=first_text,
            opt_out=" " + opt_out_text(request.language) if request.sms_opt_out else "",
            connect=request.voice_connect,
        )

    def step(self, plan: StepPlan) -> StepContent:
        if plan.channel is Channel.EMAIL:
            return StepContent(subject=self._subject(plan), body=self._email(plan))
        if plan.channel is Channel.SMS:
            return StepContent(body=self._sms(plan))
        return StepContent(body=self._live_call(plan), voicemail=self._voicemail(plan))

    # --- the three channels ----------------------------------------------------------------------------

    def _email(self, plan: StepPlan) -> str:
        words = self.words
        hello = words.email_hello.format(name=self.name) if self.name else words.email_hello_anonymous
        context = self._context(plan)
        if self._opens(plan):
            context = [self._intro(), *context, *self._second_topic()]
        middle = " ".join(part for part in context if part)
        if words.lowercase_after_greeting:
            middle = middle[0].lower() + middle[1:]
        return "\n\n".join([hello, middle, self._close(plan), f"{words.sign_off}\n{self._signature()}"])

    def _sms(self, plan: StepPlan) -> str:
        words = self.words
        if self._opens(plan):
            context = [words.short[self.topic].format(names=self._topic_names()), self._noted()]
        else:
            context = [self._reminder()]
        close = self.words.sms_action if self._opens(plan) else self._close(plan)
        required = [self._spoken_hello(), self._intro(short=True), close]
        context = [part for part in context if part]
        # Drop the softer sentences rather than let the segment limit cut the call to action.
        while context and not self._fits_sms(plan, " ".join([*required, *context])):
            context.pop()
        return " ".join(part for part in [*required[:2], *context, required[2]] if part)

    def _live_call(self, plan: StepPlan) -> str:
        """A person picked up: short, one direct question, then the connect number or a call back."""
        words = self.words
        if self._position(plan) == 0:
            context = [words.short[self.topic].format(names=self._topic_names()), self._noted()]
        else:
            context = [self._reminder()]
        if self.connect:
            close = [words.live_question, words.live_connect]
        else:
            close = [words.live_callback, words.voice_goodbye]
        return " ".join(part for part in [self._spoken_hello(), self._intro(), *context, *close] if part)

    def _voicemail(self, plan: StepPlan) -> str:
        """An answering machine: no question left hanging, a way to call back, and only true promises."""
        words = self.words
        context = self._context(plan) if self._position(plan) == 0 else [self._reminder()]
        parts = [self._spoken_hello(), self._intro(), *context, words.voice_action]
        if any(later.channel is not Channel.VOICE for later in self._after(plan)):
            parts.append(words.voice_message_next)  # only promised when a written step will really follow
        parts.append(words.voice_goodbye)
        return " ".join(part for part in parts if part)

    # --- sentences ---------------------------------------------------------------------------------------

    def _context(self, plan: StepPlan) -> list[str]:
        """The first step thanks and answers the ask; the first written step after a call says so; later
        ones follow up with a reminder. Only calls that really run before a step are mentioned."""
        words, names = self.words, self._topic_names()
        first, reminder = (sentence.format(names=names) for sentence in words.topics[self.topic])
        position = self._position(plan)
        details = [self._size(), self._names_sentence(), self._works_with()]
        if position == 0:
            return [words.thanks, first, *details]
        if self._opens(plan):
            return [words.after_call, first, *details]
        if plan == self.runs[-1]:
            return [words.last_note, reminder]
        return [words.follow_ups[(position - 1) % len(words.follow_ups)], reminder]

    def _reminder(self) -> str:
        return self.words.topics[self.topic][1].format(names=self._topic_names())

    def _close(self, plan: StepPlan) -> str:
        """The written step's last line: never the same twice in one sequence."""
        words = self.words
        if self._opens(plan):
            return words.actions[self.action]
        if plan == self.runs[-1]:
            return words.last_close
        earlier = [step for step in self.runs[: self._position(plan)] if step.channel is not Channel.VOICE]
        return words.follow_up_closes[(len(earlier) - 1) % len(words.follow_up_closes)]

    def _second_topic(self) -> list[str]:
        others = [topic for topic in self.ask.topics if topic not in (self.topic, *_NAMED_TOPICS)]
        return [self.words.topics[others[0]][0]] if others else []

    def _subject(self, plan: StepPlan) -> str:
        key = "last" if plan == self.runs[-1] else "follow_up"
        if self._opens(plan):
            key = self.topic
        subject = self.words.subjects[key]
        return subject.format(name=self.name) if self.name else _capitalise(subject.removeprefix("{name}, "))

    def _intro(self, short: bool = False) -> str:
        """Who is writing: the sender, a person of the sender's company. A text uses the first name only."""
        words = self.words
        sender = self.sender.split(" ")[0] if short else self.sender
        if sender and self.sender_company and self.sender_title and not short:
            return words.intro_title.format(sender=sender, title=self.sender_title, company=self.sender_company)
        if sender and self.sender_company:
            return words.intro_company.format(sender=sender, company=self.sender_company)
        return words.intro.format(sender=sender) if sender else ""

    def _signature(self) -> str:
        role = ", ".join(part for part in (self.sender_title, self.sender_company) if part)
        return "\n".join(part for part in (self.sender or self.words.team_signature, role) if part)

    def _spoken_hello(self) -> str:
        words = self.words
        return (words.spoken_hello.format(name=self.name) if self.name else words.spoken_hello_anonymous) + "."

    def _topic_names(self) -> str:
        named = {INTEGRATION: self.ask.integrations, FEATURE: self.ask.features}.get(self.topic, ())
        return self._join(named)

    def _other_names(self) -> tuple[str, ...]:
        """Specifics the lead named that the main sentence does not already name."""
        names = (*self.ask.integrations, *self.ask.features)
        shown = {INTEGRATION: self.ask.integrations, FEATURE: self.ask.features}.get(self.topic, ())
        return tuple(name for name in names if name not in shown)

    def _names_sentence(self) -> str:
        others = self._other_names()
        return self.words.names.format(names=self._join(others)) if others else ""

    def _size(self) -> str:
        return self.words.size.format(n=self.ask.team_size) if self.ask.team_size else ""

    def _noted(self) -> str:
        items = [*self._other_names(), *([str(self.ask.team_size)] if self.ask.team_size else [])]
        return self.words.noted.format(items=", ".join(items)) if items else ""

    def _works_with(self) -> str:
        return self.words.works_with.format(names=self._join(self.product_names)) if self.product_names else ""

    def _join(self, names: tuple[str, ...]) -> str:
        if len(names) < 2:
            return "".join(names)
        return f"{', '.join(names[:-1])} {self.words.conjunction} {names[-1]}"

    # --- the plan as it runs -----------------------------------------------------------------------------

    def _order(self, plan: StepPlan) -> tuple[StepPlan, ...]:
        """The running steps, with `plan` placed in them even if the caller asked for a skipped one."""
        return self.runs if plan in self.runs else tuple(sorted((*self.runs, plan), key=lambda p: p.index))

    def _position(self, plan: StepPlan) -> int:
        return self._order(plan).index(plan)

    def _after(self, plan: StepPlan) -> tuple[StepPlan, ...]:
        return self._order(plan)[self._position(plan) + 1 :]

    def _opens(self, plan: StepPlan) -> bool:
        """True for the first step, and for the first written step when only calls ran before it."""
        earlier = self._order(plan)[: self._position(plan)]
        return not earlier or (
            plan.channel is not Channel.VOICE and all(step.channel is Channel.VOICE for step in earlier)
        )

    def _fits_sms(self, plan: StepPlan, text: str) -> bool:
        suffix = self.opt_out if plan == self.first_text else ""
        return segments(text + suffix) <= self.max_segments


def _goal_action(goal: str) -> str:
    folded = fold(goal)
    found = [(match.start(), action) for word, action in _GOAL_ACTIONS if (match := re.search(rf"\b{word}", folded))]
    return min(found)[1] if found else "reply"


def _product_names(request: GenerationRequest) -> tuple[str, ...]:
    text = fold(" ".join([request.goal, request.value_proposition, *request.facts]))
    return tuple(name for name in INTEGRATIONS if re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", text))


def _name(value: str, limit: int) -> str:
    """One line, bounded length; an all-lowercase name typed into a form gets capitals ("maria" → "Maria")."""
    value = " ".join(value.split())[:limit].strip()
    return value.title() if value.islower() else value


def _capitalise(text: str) -> str:
    for position, char in enumerate(text):
        if char.isalpha():
            return text[:position] + char.upper() + text[position + 1 :]
    return text
