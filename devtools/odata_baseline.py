"""The way a pyodata user reads an entity set: one ``EntityProxy`` per row, values typed by pyodata.

Only the benchmark uses this, as the baseline our decode-and-map path is compared against. It
reads the same pages over the same transport, decodes them with the standard library's JSON
parser (as pyodata does through requests) and builds the objects pyodata's
``get_entities().execute()`` returns, then touches every selected property.
"""

from __future__ import annotations

import json
from typing import Any

from sapbridge.mapping import ODataRoute
from sapbridge.odata.client import ODataClient
from sapbridge.odata.query import odata_filter
from sapbridge.transport.base import ResponseLike

__all__ = ["read_with_pyodata_entities"]


def _stdlib_json(response: ResponseLike) -> Any:
    return json.loads(response.content)


def read_with_pyodata_entities(client: ODataClient, route: ODataRoute, partition: str | None,
                               page_size: int, *, limit: int | None = None) -> int:
    """Read ``route``'s entity set into pyodata entity proxies; return how many rows were read.

    The requests are the ones a sync of ``partition`` sends, so both read the same pages.
    """
    from pyodata.v2.service import EntityProxy

    model = client.model(route.service)
    entity_set_model = model.schema.entity_set(route.entity_set)
    entity_type = entity_set_model.entity_type
    select = route.select()
    rows = 0
    pages = client.iter_pages(route.service, route.entity_set, select=select,
                              filter=odata_filter(route, partition, None),
                              orderby=",".join(route.orderby) or None, expand=route.expand,
                              page_size=page_size, inline_count=True, decode=_stdlib_json)
    for page in pages:
        for raw in page.rows:
            entity = EntityProxy(model, entity_set_model, entity_type, raw)
            for name in select:
                getattr(entity, name)
            rows += 1
            if limit is not None and rows >= limit:
                return rows
    return rows
