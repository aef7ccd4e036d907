"""The static site: templates, the incremental index, the read-only server."""
