"""Transports: the only code that touches SAP. Everything above them receives one."""
