"""Seeded cash-application data: demo statements, the synthetic generator, the greedy baseline."""
