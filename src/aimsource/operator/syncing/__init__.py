"""The sync side, run by the leader only: take due sources, sync them, write what a sync returned.

- `leadership` — the worker pool runs only while this replica holds the Lease.
- `progress` — a long sync's Progressing condition.
- `reconciler` — workers, status written on change, events on change; never a model edited or deleted.
- `status_writes` — the one guarded status patch, and the notices that are no sync's result (a
  sync held by the minimum interval, a pause, a resume).
- `secrets` — the sync's `SecretReader`: pull secrets from the operator namespace.

The top of the operator below `main`: may use state, coexistence, scheduling and `sync`.
"""
