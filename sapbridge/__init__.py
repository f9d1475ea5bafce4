"""sapbridge: an adapter between SAP S/4HANA FSCM and order-to-cash teams."""

from __future__ import annotations

from sapbridge.errors import SapBridgeError

__all__ = ["SapBridgeError", "__version__"]

__version__ = "0.1.0"
