"""The ingest service: the HTTP front door for approved content and its media."""
