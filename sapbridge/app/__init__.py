"""The application object (:class:`Bridge`) and what its use cases return beyond the components'."""

from __future__ import annotations

from sapbridge.app.bridge import Bridge, check_store_url
from sapbridge.app.clients import SapClients
from sapbridge.app.components import Components, read_components
from sapbridge.app.push import ApprovedPlans, Decided, Requested

__all__ = ["ApprovedPlans", "Bridge", "Components", "Decided", "Requested", "SapClients", "check_store_url",
           "read_components"]
