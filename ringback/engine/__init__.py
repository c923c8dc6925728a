"""Pure domain logic: no I/O, no threads, no clock reads (time is always a parameter)."""
