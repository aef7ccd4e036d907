"""The tracker: where every piece of content stands on every channel, and the actions ops need."""
