"""The TikTok channel: videos through the Content Posting API (Direct Post)."""
