"""chatref.ingest."""
