"""Registry push events: payloads read into `Push` values, and pushes decided without a listing.

- `payloads` — each provider's payload (distribution, Docker Hub, GHCR, Quay, Harbor, generic) read
  strictly into the same values.
- `mirrored` — pushes from a configured mirror read as pushes to the registry it mirrors.
- `increments` — when one pushed tag may be decided with one HEAD, and the status after it.

The top of the domain: may use status, selection and everything below them.
"""
