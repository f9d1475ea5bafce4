"""Pull: SAP datasets into the store through declarative mappings."""

from sapbridge.sync.engine import (
    ALL_OBJECTS,
    OBJECTS,
    DatasetSummary,
    SyncRequest,
    SyncSummary,
    datasets_for,
    run_sync,
)

__all__ = [
    "ALL_OBJECTS",
    "OBJECTS",
    "DatasetSummary",
    "SyncRequest",
    "SyncSummary",
    "datasets_for",
    "run_sync",
]
