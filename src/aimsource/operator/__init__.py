"""The operator: the only package that imports kopf.

Rooms, from the top (import-linter contract "Operator rooms" keeps the arrows pointing down):
- `main`, `settings` — assembly and configuration (`aimsource run`); `handlers` — kopf's side: login,
  the model indexes, thin event handlers (no finalizers).
- `syncing/` — the leader's workers: one sync's effects, status and events written on change, never a
  model edited or deleted.
- `state/` — the watched state: the source table, the model inventory and its `ModelStore`, re-lists.
- `coexistence/` — other controllers writing a source's status; `webhook/` — the push receiver;
  `reloading` — the registries file, re-read while the operator runs.
- `scheduling/` — what is known of each source, when it syncs next and why, the queue, fair shares.
- `reporting` (pure decisions: status writes, events), `metrics`, `endpoints`, `logs`.
"""
