"""chatref.web."""
