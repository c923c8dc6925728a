"""Write use cases: one plain class each, owning its transaction (DESIGN §2, the write path)."""
