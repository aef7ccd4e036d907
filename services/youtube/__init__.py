"""The YouTube channel: resumable video uploads streamed from MinIO, scheduled natively."""
