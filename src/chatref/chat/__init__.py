"""chatref.chat."""
