"""The website channel: the office's news site rendered into MinIO (or posted to WordPress)."""
