"""The `.status` of a source after a sync, built in parts.

- `build` — the whole status, and whether it differs from what is stored.
- `verdict` — which status value a sync earns, its reason and message.
- `counters` — models owned, images available, whether the cap was hit.
- `conditions` — Ready, Degraded and MaxModelsLimitReached, with honest transition times.
- `selectors` — `status.selectors`, one entry per image or filter.
- `text` — messages made safe and bounded.
- `paused` — the annotation that pauses a source, and its status while paused.

Uses selection's public results (`selectors`, `planning`, `moved`), never its internals
(`decisions`, `prefixed_tags`, `compact_sequences`); import-linter holds both.
"""
