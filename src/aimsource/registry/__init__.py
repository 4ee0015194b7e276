"""registry layer: the OCI distribution client (tags, manifest digests), its auth and its errors.

Rooms, from the top (import-linter contract "Registry rooms"): `client` (the distribution API:
tags, manifests, repositories); `listing` (a tag listing page by page) and `discovery/` (the
repositories a wildcard matches: catalog, Docker Hub's and GitHub's APIs); `answers` (replies read
into tags or errors) and `mirrors` (which endpoints serve a registry, failover); `auth/`
(challenges, credentials, tokens) beside `pages/` (page sizes, `Link`) and `hosts` (the registries
file as per-host budgets, page sizes, CAs, plain-HTTP hosts); `http/` (transport, sending, bodies,
limits, retry, trust); `errors`, `settings` and `observer` below all.

Public API, by module (see docs/dev/contracts.md): `client.RegistryClient`, `client.TagListing`,
`observer.RegistryObserver`, `settings.RegistrySettings`, `auth.credentials.parse_docker_config`,
`auth.credentials.Credential`, `auth.credentials.CredentialStore`, and the exceptions of `errors`. Nothing is
imported here so that `import aimsource.registry.errors` stays cheap for the CLI.
"""
