"""peewee models. Only `storage/` imports these; the rest of ringback sees engine dataclasses.

Declared without a database: `db.open_database` binds them through `database_proxy` at start-up.
"""

from __future__ import annotations

import json

import peewee
from peewee import (
    SQL,
    BigAutoField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    SmallIntegerField,
    TextField,
)

from ringback.engine import fields

database_proxy = peewee.DatabaseProxy()


class JSONField(TextField):
    """JSON kept as text so SQLite and PostgreSQL store it the same way."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)

    def text_contains(self, text: str) -> peewee.Expression:
        """A substring match on the stored JSON text (`.contains` would JSON-encode the pattern first)."""
        return self.cast("text").contains(text)


class UTCDateTimeField(DateTimeField):
    """Stores aware UTC datetimes as naive UTC and gives them back aware."""

    def db_value(self, value):
        if value is not None and value.tzinfo is not None:
            from datetime import UTC

            value = value.astimezone(UTC).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        if value is not None and getattr(value, "tzinfo", 1) is None:
            from datetime import UTC

            value = value.replace(tzinfo=UTC)
        return value


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class Workspace(BaseModel):
    id = CharField(primary_key=True, max_length=40)
    name = CharField(max_length=200)
    plan = CharField(max_length=40)
    features = JSONField()
    admin_emails = JSONField()
    window_start = CharField(max_length=5, default="08:00")
    window_end = CharField(max_length=5, default="21:00")
    window_days = CharField(max_length=40, default="mon-sun")
    default_language = CharField(max_length=10, default="en")
    default_timezone = CharField(max_length=64, default="UTC")
    default_region = CharField(max_length=2, null=True)
    default_sender = JSONField(null=True)  # {name, email, phone}: templates created without a sender use it
    sending_limits = JSONField(null=True)  # caps per channel and sender, domain throttle (0007)
    created_at = UTCDateTimeField()


class ApiKey(BaseModel):
    id = CharField(primary_key=True, max_length=40)
    workspace = ForeignKeyField(Workspace, backref="keys", on_delete="CASCADE")
    prefix = CharField(max_length=20)
    key_hash = CharField(max_length=64, unique=True)
    mode = CharField(max_length=4)
    scopes = CharField(max_length=40)
    name = CharField(max_length=100, default="")
    created_at = UTCDateTimeField()
    last_used_at = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)


class Template(BaseModel):
    id = CharField(primary_key=True, max_length=40)
    workspace = ForeignKeyField(Workspace, backref="templates", on_delete="CASCADE")
    name = CharField(max_length=fields.TEMPLATE_NAME)
    definition = JSONField()  # the validated template body (goal, tone, channels, steps, sender, links)
    created_at = UTCDateTimeField()


class Contact(BaseModel):
    id = CharField(primary_key=True, max_length=40)
    workspace = ForeignKeyField(Workspace, backref="contacts", on_delete="CASCADE")
    first_name = CharField(max_length=fields.PERSON_NAME, default="")
    last_name = CharField(max_length=fields.PERSON_NAME, default="")
    primary_email = CharField(max_length=fields.EMAIL, null=True)
    primary_email_lower = CharField(max_length=fields.EMAIL, null=True)
    language = CharField(max_length=fields.LANGUAGE_TAG, null=True)
    timezone = CharField(max_length=fields.TIMEZONE, null=True)
    metadata = JSONField(default=dict)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        indexes = ((("workspace", "primary_email_lower"), True),)


class ContactEmail(BaseModel):
    contact = ForeignKeyField(Contact, backref="emails", on_delete="CASCADE")
    position = IntegerField()
    email = CharField(max_length=fields.EMAIL)
    email_lower = CharField(max_length=fields.EMAIL)

    class Meta:
        indexes = ((("contact", "email_lower"), True),)


class ContactPhone(BaseModel):
    contact = ForeignKeyField(Contact, backref="phones", on_delete="CASCADE")
    workspace = ForeignKeyField(Workspace, on_delete="CASCADE")
    position = IntegerField()
    e164 = CharField(max_length=20)

    class Meta:
        indexes = ((("contact", "e164"), True), (("workspace", "e164"), False))


class ContactNote(BaseModel):
    contact = ForeignKeyField(Contact, backref="notes", on_delete="CASCADE")
    created_at = UTCDateTimeField()
    source = CharField(max_length=20, default="api")
    text = TextField()


class Suppression(BaseModel):
    contact = ForeignKeyField(Contact, backref="suppressions", on_delete="CASCADE")
    channel = CharField(max_length=10)  # email, sms, voice
    reason = CharField(max_length=fields.REASON)
    created_at = UTCDateTimeField()

    class Meta:
        indexes = ((("contact", "channel"), True),)


class Sequence(BaseModel):
    id = CharField(primary_key=True, max_length=40)
    workspace = ForeignKeyField(Workspace, on_delete="CASCADE")
    template = ForeignKeyField(Template, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, on_delete="CASCADE")
    model = CharField(max_length=100, null=True)
    created_at = UTCDateTimeField()


class Enrollment(BaseModel):
    id = CharField(primary_key=True, max_length=40)
    workspace = ForeignKeyField(Workspace, on_delete="CASCADE")
    sequence = ForeignKeyField(Sequence, backref="enrollments", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, backref="enrollments", on_delete="CASCADE")
    template = ForeignKeyField(Template, on_delete="CASCADE")
    status = CharField(max_length=20, index=True)
    mode = CharField(max_length=4)  # live or test (sandbox)
    auto_approve = BooleanField()
    language = CharField(max_length=10)
    language_source = CharField(max_length=20)
    timezone = CharField(max_length=64)
    timezone_candidates = JSONField()
    timezone_source = CharField(max_length=20)
    time_wish = JSONField(null=True)  # preferred hours for calls and texts, read from the notes (0002)
    anchor_at = UTCDateTimeField(null=True)
    next_wake_at = UTCDateTimeField(null=True, index=True)
    generation_attempts = IntegerField(default=0)
    admins_notified_at = UTCDateTimeField(null=True)
    decided_at = UTCDateTimeField(null=True)
    decided_by = CharField(max_length=200, null=True)
    status_reason = CharField(max_length=fields.REASON, null=True)
    metadata = JSONField(default=dict)  # the caller's own references (lead id, campaign...), returned as given
    # Which node owns it in cluster mode (ringback/cluster/partitions.py); derived from the id, stored to filter on.
    partition = SmallIntegerField(default=0, index=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class Step(BaseModel):
    id = CharField(primary_key=True, max_length=40)
    enrollment = ForeignKeyField(Enrollment, backref="steps", on_delete="CASCADE")
    index = IntegerField()
    channel = CharField(max_length=10)
    delay_seconds = IntegerField()
    recipient = CharField(max_length=320, null=True)
    status = CharField(max_length=20)
    scheduled_for = UTCDateTimeField(null=True)
    subject = TextField(null=True)
    body = TextField(null=True)  # for a call, the live-answer script
    voicemail_body = TextField(null=True)  # a call's voicemail script
    attempts = IntegerField(default=0)
    provider = CharField(max_length=20, null=True)
    provider_id = CharField(max_length=200, null=True, index=True)
    delivery_rank = IntegerField(default=0)
    sent_at = UTCDateTimeField(null=True)
    delivered_at = UTCDateTimeField(null=True)
    last_error_code = CharField(max_length=50, null=True)
    last_error = TextField(null=True)
    note = CharField(max_length=fields.REASON, null=True)  # why skipped / canceled / what it waits for
    waiting_for = CharField(max_length=20, null=True)  # the sending limit holding it back (0007)
    updated_at = UTCDateTimeField()

    class Meta:
        indexes = ((("enrollment", "index"), True),)


class IdempotencyRecord(BaseModel):
    workspace = ForeignKeyField(Workspace, on_delete="CASCADE")
    key = CharField(max_length=fields.IDEMPOTENCY_KEY)
    request_hash = CharField(max_length=64)
    state = CharField(max_length=10)  # in_flight, done
    response_status = IntegerField(null=True)
    response_body = JSONField(null=True)
    created_at = UTCDateTimeField()
    expires_at = UTCDateTimeField(index=True)

    class Meta:
        indexes = ((("workspace", "key"), True),)


class Event(BaseModel):
    id = CharField(primary_key=True, max_length=40)
    workspace = ForeignKeyField(Workspace, on_delete="CASCADE")
    enrollment = ForeignKeyField(Enrollment, backref="events", null=True, on_delete="CASCADE")
    kind = CharField(max_length=40)
    detail = JSONField(default=dict)
    created_at = UTCDateTimeField()


class SandboxDelivery(BaseModel):
    """What a test key's step would have sent. The unique token makes sandbox sends exactly-once."""

    token = CharField(max_length=80, unique=True)
    provider_id = CharField(max_length=40)
    step_id = CharField(max_length=40, index=True)
    channel = CharField(max_length=10)
    recipient = CharField(max_length=320)
    subject = TextField(null=True)
    body = TextField()
    voicemail_body = TextField(null=True)  # a call's voicemail script
    created_at = UTCDateTimeField()


class WebhookEndpoint(BaseModel):
    """Where a workspace wants its events pushed (0009). The secret is kept usable: it signs every delivery."""

    id = CharField(primary_key=True, max_length=40)
    workspace = ForeignKeyField(Workspace, on_delete="CASCADE")
    url = CharField(max_length=fields.WEBHOOK_URL)
    description = CharField(max_length=fields.WEBHOOK_DESCRIPTION, default="")
    events = JSONField(null=True)  # the event types it hears; null = every type
    enabled = BooleanField(default=True)
    secret = CharField(max_length=100)
    failing_since = UTCDateTimeField(null=True)  # first failure with no success since
    disabled_reason = CharField(max_length=fields.REASON, null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class OutboxEvent(BaseModel):
    """An integrator-facing event, written in the transaction of the change it reports (0009).

    `seq` is the feed's cursor: outbox inserts are serialized until commit (see storage/outbox.py), so
    its order is commit order.
    """

    seq = BigAutoField()
    id = CharField(max_length=40, unique=True)
    workspace = ForeignKeyField(Workspace, on_delete="CASCADE")
    type = CharField(max_length=40)
    data = JSONField()
    created_at = UTCDateTimeField(index=True)

    class Meta:
        indexes = ((("workspace", "seq"), False),)


class WebhookDelivery(BaseModel):
    """One event for one endpoint: pending until delivered or given up; a row, so a restart resumes it."""

    id = BigAutoField()
    event = ForeignKeyField(OutboxEvent, on_delete="CASCADE")
    endpoint = ForeignKeyField(WebhookEndpoint, backref="deliveries", on_delete="CASCADE")
    status = CharField(max_length=10)  # pending, delivered, failed
    attempts = IntegerField(default=0)
    next_attempt_at = UTCDateTimeField(null=True, index=True)
    last_attempt_at = UTCDateTimeField(null=True)
    last_status_code = IntegerField(null=True)
    last_duration_ms = IntegerField(null=True)
    last_error = CharField(max_length=fields.REASON, null=True)
    created_at = UTCDateTimeField()

    class Meta:
        indexes = ((("endpoint", "id"), False),)


class SendLog(BaseModel):
    """One row per send attempt that passed a workspace's sending limits: what the caps count (0007).
    Rows go with their step (erasure) and are purged once no window can count them."""

    workspace = ForeignKeyField(Workspace, on_delete="CASCADE")
    step = ForeignKeyField(Step, on_delete="CASCADE")
    attempt = IntegerField()
    channel = CharField(max_length=10)
    sender = CharField(max_length=320)
    recipient_domain = CharField(max_length=255, null=True)
    sandbox = BooleanField()
    sent_at = UTCDateTimeField()

    class Meta:
        indexes = (
            (("step", "attempt"), True),
            (("workspace", "channel", "sender", "sent_at"), False),
            (("workspace", "recipient_domain", "sent_at"), False),
            (("sent_at",), False),
        )


class ErasedAddress(BaseModel):
    """A keyed hash of an erased contact's email or phone, so the person is never contacted again (0008).

    HMAC under a key derived from the server secret: the address itself is gone, and the database alone
    (a dump, a backup) cannot be brute-forced back to phone numbers without that secret.
    """

    workspace = ForeignKeyField(Workspace, on_delete="CASCADE")
    kind = CharField(max_length=10)  # email or phone
    digest = CharField(max_length=64)
    created_at = UTCDateTimeField()

    class Meta:
        indexes = ((("workspace", "kind", "digest"), True),)


class AuditEntry(BaseModel):
    """Who erased or exported which contact, when, and how much: ids and counts, never personal data (0008)."""

    id = CharField(primary_key=True, max_length=40)
    workspace = ForeignKeyField(Workspace, on_delete="CASCADE")
    action = CharField(max_length=40)  # contact.erased, contact.exported
    key_id = CharField(max_length=40)
    subject = CharField(max_length=40)  # the contact id: random, it names nobody once the contact is erased
    counts = JSONField(default=dict)
    created_at = UTCDateTimeField()

    class Meta:
        indexes = ((("workspace", "created_at"), False),)


class SchemaVersion(BaseModel):
    version = IntegerField(primary_key=True)
    applied_at = UTCDateTimeField(constraints=[SQL("DEFAULT CURRENT_TIMESTAMP")])


ALL_MODELS = [
    Workspace,
    ApiKey,
    Template,
    Contact,
    ContactEmail,
    ContactPhone,
    ContactNote,
    Suppression,
    Sequence,
    Enrollment,
    Step,
    IdempotencyRecord,
    Event,
    SandboxDelivery,
    WebhookEndpoint,
    OutboxEvent,
    WebhookDelivery,


    SendLog,


    ErasedAddress,
    AuditEntry,
]
