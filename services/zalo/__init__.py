"""The Zalo Official Account channel: articles with cover and body, follower broadcast."""
