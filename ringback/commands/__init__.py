"""The command layer: every write use case of the running node, one class each.

HTTP resources, the review page and webhooks call commands; commands own their transaction (a
unit handed to the group-commit writer, `ringback/storage/writer.py`) and, once it is durable, tell
the supervisor which enrollment has news. Nothing else in the node writes business state: the
enrollment actors persist their own transitions through the same writer. docs/architecture.md
("The write path") shows who commits what, when, and why the order is safe.
"""
