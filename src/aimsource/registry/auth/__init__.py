"""Authentication: challenges, credentials, tokens.

- `flow` — the challenge flow as a generator over `http.messages` values (Basic, Bearer tokens,
  cached per registry, scope and credential).
- `challenges` — `WWW-Authenticate` parsing.
- `credentials` — `.dockerconfigjson` documents and which credential belongs to which host.

Uses `registry.http` values; never the distribution API (`registry.pages`, `registry.client`).
"""
