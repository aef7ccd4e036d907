"""The X channel: posts and threads through tweepy, counted the way X counts."""
