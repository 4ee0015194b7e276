"""The domain layer: pure values and rules, no I/O, no clock, no logging.

Rooms, from the top (import-linter contract "Domain rooms" keeps the arrows pointing down):
- `pushes/` — push payloads and the incremental decisions they allow.
- `status/` — the status of a source after a sync; `models` (the model body) and `writes` beside it.
- `selection/` — selectors, their decisions and the plan of a sync.
- `spec/` — the spec read and checked.
- `versions/` — SemVer, constraints, unsatisfiable lists; `registries/` — the registries file.
- shared by all: `references`, `resources` (the resource facts), `naming`, `durations`, `times`,
  `kube_names`, `errors`, `causes`, and `options/` (how a setting is declared once, on its field,
  and the value syntax of flags and variables).
"""
