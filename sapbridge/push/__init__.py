"""Controlled push of credit-limit changes and write-offs: request, approve, plan, apply."""
