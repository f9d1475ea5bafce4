"""Leases in the store: one holder at a time per name (a job, a sync partition), across machines."""
