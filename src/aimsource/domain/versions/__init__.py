"""Versions: SemVer read from tags, the constraint grammar, and the lists no version can satisfy.

- `semver` — a tag read as a SemVer 2.0 version (optional leading `v`) and its precedence.
- `constraints` — the npm range grammar with plain SemVer precedence for pre-releases.
- `unsatisfiable` — constraint lists that no version can meet, found by interval arithmetic.
- `near_misses` — why a tag that looks like a version is not one.

The bottom of the domain: uses only `domain.errors` and `domain.references`, never selection, spec or
status (import-linter contract "Domain rooms").
"""
