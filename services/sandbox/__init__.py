"""The sandbox: faithful local emulators of the platforms Loa publishes to."""
