"""sync layer: one sync of one source, wherever it runs (operator, `aimsource sync`, tests).

- `engine` — list, decide, plan, create, build the status; `incremental` — a pushed tag decided with
  one HEAD; `named_versions` — lists of exact versions checked by HEAD, no listing.
- `pipeline` — each new image checked and created as one step; `digests` — new images' digests
  from Docker Hub's or GitHub's API where that costs fewer requests than a HEAD each.
- `listing_cache` — the operator's cache in front of the registry (stale listings);
  `static_listing` — `--tags-file`.
- `ports` — the `Protocol`s it talks through (`TagLister`, `ModelStore`, `SecretReader`).

Uses the registry client, the domain and its own ports; never kopf, the kube client or the CLI."""
