"""The core every Cloud Function imports: domain rules, services, storage adapters, config."""
