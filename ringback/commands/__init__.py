"""Write use cases: one plain class each, owning its transaction."""
