"""The operator: the only package that imports kopf.

- `handlers` — kopf's side: login, the model indexes, thin event handlers (no finalizers).
- `sources` / `schedule` / `queue` — what is known of each source, when it syncs next and why
  (one pure function), and the due-time queue a bounded worker pool takes sources from.
- `reconciler` — one sync's effects: status written on change, events on change, never a model
  edited or deleted; `reporting` holds the pure decisions.
- `index` — the sync's ModelStore over the watch-fed indexes (no list call per sync).
- `leadership` — workers run only while this replica holds the Lease.
- `metrics`, `endpoints`, `logs` — Prometheus, /healthz and /readyz, structured logs.
- `settings` / `main` — configuration and assembly (`aimsource run`).
"""
