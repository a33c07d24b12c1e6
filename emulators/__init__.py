"""The local stack: emulators, schema bootstrap, demo data, dev identity provider, function host."""
