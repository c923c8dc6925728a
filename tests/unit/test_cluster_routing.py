"""Cluster mode's pure parts: partitions, fair shares and the NOTIFY payloads between nodes."""

from __future__ import annotations

import json
import zlib

import pytest

from ringback.actors.messages import Deliver, ForgetEnrollments, Reconcile, StopContact
from ringback.cluster.leases import fair_share
from ringback.cluster.partitions import PARTITIONS, partition_of
from ringback.cluster.routing import MAX_PAYLOAD, decode, encode
from ringback.engine import events as ev
from ringback.engine.model import StepContent


def test_a_partition_depends_on_the_enrollment_id_alone_and_spreads_them():
    assert partition_of("enr_01JABCDEF") == partition_of("enr_01JABCDEF")
    assert partition_of("enr_01JABCDEF") == zlib.crc32(b"enr_01JABCDEF") % PARTITIONS  # the same in every process
    used = {partition_of(f"enr_{n:06d}") for n in range(5000)}
    assert len(used) == PARTITIONS


@pytest.mark.parametrize("count", range(1, 8))
def test_fair_shares_cover_every_partition_and_differ_by_at_most_one(count):
    nodes = sorted(f"node-{i}" for i in range(count))
    shares = [fair_share(nodes, node) for node in nodes]
    assert sum(shares) == PARTITIONS and max(shares) - min(shares) <= 1
    assert fair_share(nodes, "not-a-member") == 0


@pytest.mark.parametrize(
    "message",
    [
        Deliver("enr_1", ev.Started()),
        Deliver("enr_1", ev.Approved("ana@acme.example")),
        Deliver("enr_1", ev.Rejected("ana@acme.example", "wrong lead")),
        Deliver("enr_1", ev.StepEdited(1, StepContent("Hola", "Asunto", None), "ana@acme.example")),
        Deliver("enr_1", ev.Stopped("canceled")),
        Deliver("enr_1", ev.DeliveryReported(0, "delivered", 3, None, None)),
        StopContact("ct_1", "opted out"),
        ForgetEnrollments(("enr_1", "enr_2")),
    ],
)
def test_what_crosses_nodes_arrives_as_it_was_sent(message):
    assert decode(encode("node-a", message)) == ("node-a", message)


def test_an_event_too_large_for_a_notification_travels_as_a_reconcile_of_its_enrollment():
    edit = Deliver("enr_1", ev.StepEdited(0, StepContent("x" * MAX_PAYLOAD, None, None), "ana@acme.example"))
    assert decode(encode("node-a", edit)) == ("node-a", Reconcile("enr_1"))


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        json.dumps({"kind": "deliver"}),
        json.dumps({"origin": "x", "kind": "drop_tables"}),
        json.dumps({"origin": "x", "kind": "deliver", "enrollment": "e", "event": "Recovered", "fields": {}}),
    ],
)
def test_a_notification_we_did_not_write_is_refused(payload):
    with pytest.raises(ValueError):
        decode(payload)


def test_events_that_stay_on_their_node_are_not_encoded():
    with pytest.raises(TypeError):
        encode("node-a", Reconcile("enr_1"))
