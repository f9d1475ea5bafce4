"""OData V2: query building, paging, error translation and the client sapbridge uses."""
