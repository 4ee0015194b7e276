"""Repository discovery for wildcard filters: which repositories of a registry match a pattern.

- `listing` — `RepositoryListing`, what every dialect returns (matched names, capped; how many seen).
- `catalog` — `GET /v2/_catalog` of the distribution API, for every registry but Docker Hub and GHCR.
- `apis` — Docker Hub's and GitHub's repository listings; `tag_digests` — their tag listings with
  digests, which spare a new image's manifest HEAD (used by `sync.digests`, not by discovery).

Each dialect keeps only the names its pattern matches (at most `RegistrySettings.max_repositories`)
and counts the rest, so a registry of a million repositories costs pages, not memory. Uses
`registry.http` and `registry.pages` like the tag listing does; never the sync or the domain's
selection.
"""
