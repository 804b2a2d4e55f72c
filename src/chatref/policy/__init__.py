"""chatref.policy."""
