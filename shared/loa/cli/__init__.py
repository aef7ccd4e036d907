"""The ``loa`` command line."""
