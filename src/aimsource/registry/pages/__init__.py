"""Pages of the distribution API: how many items to ask for, and where the next page is.

- `sizes` — the page size `n` per host, and which answers mean "fewer".
- `links` — the `Link` header, taken exactly as the registry wrote it.

Uses `registry.http` only.
"""
