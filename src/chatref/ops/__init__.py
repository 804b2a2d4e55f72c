"""chatref.ops."""
