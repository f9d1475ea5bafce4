"""Sync partitions and their leases: one (system, object, company code) synced by one run at a time.

A sync object whose every dataset is partitioned by company code (``open_items``) splits into one
partition per company code; any other object (``customers``: its master data is one table for
all company codes) is one partition ``*``. Two syncs whose partitions overlap cannot both run:
:func:`partition_leases` takes a lease per partition in ``job_locks`` (the same lease as a job's,
under the name ``sync:<system>:<object>:<company code>``), all or none, and holds them with a
heartbeat until the sync ends. Different partitions run side by side.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from sapbridge.errors import JobError
from sapbridge.leases.lock import Acquired, Heartbeat, LockHolder, acquire, release
from sapbridge.mapping import DatasetMapping
from sapbridge.sync.engine import OBJECTS, datasets_for

__all__ = ["ALL_CODES", "EXIT_BUSY", "Partition", "PartitionBusyError", "partition_leases",
           "partitions_of"]

ALL_CODES = "*"
"""The company code of a partition that covers every company code of the sync."""

EXIT_BUSY = 4
"""Exit code of a sync refused because another run syncs one of its partitions (as a locked job)."""


@dataclass(frozen=True, slots=True, order=True)
class Partition:
    """One unit of sync work: an object of a system, for one company code or all (``*``)."""

    system: str
    object: str
    company_code: str = ALL_CODES

    @property
    def label(self) -> str:
        """``demo/open_items/1000``: the partition as messages name it."""
        return f"{self.system}/{self.object}/{self.company_code}"

    @property
    def lease_name(self) -> str:
        """The partition's lease in ``job_locks`` (job names cannot contain ``:``)."""
        return f"sync:{self.system}:{self.object}:{self.company_code}"


class PartitionBusyError(JobError):
    """Another live run syncs a partition this sync needs."""

    def __init__(self, partition: Partition, holder: LockHolder) -> None:
        super().__init__(f"partition {partition.label} is already being synced: {holder.describe()}",
                         partition=partition.label, holder=holder, exit_code=EXIT_BUSY)


def _objects(objects: Sequence[str]) -> list[str]:
    """The named objects (``all`` expanded) in sync order."""
    datasets = datasets_for(objects)
    return [name for name, filled in OBJECTS.items() if set(filled) <= set(datasets)]


def _split_by_company_code(mappings: Mapping[str, DatasetMapping], name: str) -> bool:
    return all(d in mappings and mappings[d].partition == "company_code" for d in OBJECTS[name])


def partitions_of(mappings: Mapping[str, DatasetMapping], *, system: str, objects: Sequence[str],
                  company_codes: Sequence[str]) -> list[Partition]:
    """The partitions a sync of ``objects`` for ``company_codes`` writes, in sync order."""
    found: list[Partition] = []
    for name in _objects(objects):
        if company_codes and _split_by_company_code(mappings, name):
            found += [Partition(system, name, code) for code in dict.fromkeys(company_codes)]
        else:
            found.append(Partition(system, name))
    return found


@contextmanager
def partition_leases(engine: Engine, partitions: Sequence[Partition], run_id: str) -> Iterator[None]:
    """Hold the lease of every partition while the block runs; :class:`PartitionBusyError` if one is held.

    Leases are taken in sorted order, so two syncs wanting overlapping sets cannot each hold part
    of what the other needs and both give up forever; a refused sync gives back what it took.
    """
    names = []
    with ExitStack() as held:
        for partition in sorted(set(partitions)):
            taken = acquire(engine, partition.lease_name, run_id)
            if not isinstance(taken, Acquired):
                raise PartitionBusyError(partition, taken)
            held.callback(release, engine, partition.lease_name, run_id)
            names.append(partition.lease_name)
        with Heartbeat(engine, names, run_id):
            yield
