"""Developer tools outside the runtime: demo and synthetic data generators, a fake SAP, baselines.

They may import sapbridge; sapbridge never imports them (tests/test_layout.py checks).
"""
