"""The webhook channel: signed JSON to intranet portals and chat bots; the reference adapter."""
