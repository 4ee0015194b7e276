"""Scheduling: when each source syncs, and which due source a free worker takes.

- `schedule` — `decide(state, now)`: one pure function saying whether, when and why.
- `sources` — what the operator remembers of each source between watch events and syncs.
- `queue` — due times, taken by a bounded pool of workers.
- `shares` — fair workers: one registry cannot hold them all.
- `held` — the status notice of a spec change or request that the minimum interval holds back.
- `pausing` — what the leader writes when a source is paused or resumed.

Knows nothing of kopf, the API or the syncs themselves: uses the domain only.
"""
