"""The e-mail channel: press releases to journalists through an SMTP relay."""
