"""HTTP mechanics: one request made politely and safely, whatever the registry answers.

- `transport` — one exchange over aiohttp: request, status, headers, capped body.
- `sending` — limits, timeouts, redirects and retries around the transport.
- `bodies` — reading a body with a hard cap, compressed or not.
- `limits` — per-host concurrency cap and request budget.
- `fairness` — who is asking: a host's slots go round-robin between syncs and their selectors.
- `retry` — when to try again, and how long to wait.
- `endpoints` — where a registry lives and which URL schemes we may use.
- `trust` — the public certificate authorities.
- `messages` — the request and answer values the auth flow and the sender pass.
- `header_syntax` — RFC 9110 scanning shared by `WWW-Authenticate` and `Link` parsers.

Knows nothing of authentication or the distribution API: uses the registry's errors, settings and
observer, and the domain.
"""
