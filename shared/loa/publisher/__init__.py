"""The publisher runtime every channel service runs on."""
