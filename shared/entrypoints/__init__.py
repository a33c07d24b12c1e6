"""The edge: what the functions share to speak HTTP and Pub/Sub push (parsing, the auth guard,
problem responses, push envelopes). Only this package and `functions/` know HTTP."""
