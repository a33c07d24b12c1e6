"""Small developer tools run with ``python -m tools.NAME``."""
