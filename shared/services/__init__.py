"""Use cases. Each takes its adapters as arguments; none imports a client library."""
