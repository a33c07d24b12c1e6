"""One module per Cloud Function: parse, authorise, validate, call a service, map to HTTP."""
