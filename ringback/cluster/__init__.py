"""Cluster mode: several nodes on one PostgreSQL database, each owning a share of the enrollments.

Enrollments hash into a fixed number of partitions (`partitions.py`); nodes hold partitions by lease
(`leases.py`), every enrollment write is fenced by its partition's epoch (the group-commit writer checks
it), and work accepted by a node for a partition another node owns reaches the owner by NOTIFY
(`routing.py`). On SQLite there is one node, which owns everything (`ownership.py`).
"""
