"""Use cases. Each depends on ports, Protocols declared in ``ports.py`` (those several services share)
or beside the service; adapters in ``shared/adapters`` implement them, in-memory fakes in
``tests/unit/fakes.py``, and ``shared/bootstrap.py`` wires one to each. No service imports a backend
client, a web framework, an adapter or the composition root (tests/unit/test_layers.py checks)."""
