"""Enrollments hash into a fixed number of partitions: the unit of ownership in cluster mode.

Fixed, because the partition is stored on each enrollment row (to filter due waves and recovery by the
partitions a node owns); changing the count would need a migration that rewrites every row.
"""

from __future__ import annotations

import zlib

PARTITIONS = 256


def partition_of(enrollment_id: str) -> int:
    """Stable across processes and versions (crc32, not Python's salted `hash`)."""
    return zlib.crc32(enrollment_id.encode()) % PARTITIONS
