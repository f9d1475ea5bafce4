"""Seeded recoveries data: demo claims and the synthetic generator."""
