"""The tamper-evident audit log: every controlled action, chained by hashes."""
