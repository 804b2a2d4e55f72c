"""chatref.store."""
