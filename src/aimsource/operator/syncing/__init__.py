"""The sync side, run by the leader only: take due sources, sync them, write what a sync returned.

- `leadership` — the worker pool runs only while this replica holds the Lease.
- `reconciler` — workers, status written on change, events on change; never a model edited or deleted.
- `secrets` — the sync's `SecretReader`: pull secrets from the operator namespace.

The top of the operator below `main`: may use state, coexistence, scheduling and `sync`.
"""
