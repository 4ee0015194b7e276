"""The watched state: the operator's picture of the cluster, kept equal to the server's.

- `source_table` — known sources and when each is due (every replica keeps it).
- `inventory` — the index of AIMClusterModels fed by watch events, reconciled against paged LISTs.
- `index` — the sync's `ModelStore` over that index (no list call per sync).
- `resync` — first lists and re-lists.

Uses scheduling, coexistence, webhook routes and metrics; never the sync side (`operator.syncing`).
"""
