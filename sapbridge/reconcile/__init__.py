"""Reconciliations: pure functions over canonical records that return data, plus their reports."""
