"""registry layer: the OCI distribution client (tags, manifest digests), its auth and its errors.

Public API, by module (see docs/dev/contracts.md): `client.RegistryClient`, `client.TagListing`,
`observer.RegistryObserver`, `settings.RegistrySettings`, `credentials.parse_docker_config`,
`credentials.Credential`, `credentials.CredentialStore`, and the exceptions of `errors`. Nothing is
imported here so that `import aimsource.registry.errors` stays cheap for the CLI.
"""
