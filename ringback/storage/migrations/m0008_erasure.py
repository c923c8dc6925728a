"""0008: erased-address hashes (the suppression list of erased contacts) and the audit log (issue 16)."""

from ringback.storage.models import AuditEntry, ErasedAddress


def up(db) -> None:
    # New tables only; 0001 already made them on a database created by this version (safe=True skips them).
    db.create_tables([ErasedAddress, AuditEntry], safe=True)
