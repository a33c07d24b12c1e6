"""Domain rules as plain Python: no I/O, no client libraries."""
