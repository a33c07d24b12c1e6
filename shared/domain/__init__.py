"""Domain rules and values as plain Python: no I/O, no backend client, no web framework (pydantic
models are allowed). Services build on it; tests/unit/test_layers.py checks the imports."""
