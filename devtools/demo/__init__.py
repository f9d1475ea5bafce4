"""The demo company: its generator, SAP shapes, the fake SAP that records the demo fixtures."""
