"""One adapter per backend: the only modules that import a Google Cloud client library."""
