"""The registries file: per-registry settings (mirrors, fallback, discovery, limits, TLS), pure.

- `entries` — the frozen values (`Registries`, `RegistryEntry`, `Mirror`) and the lookups the
  client, the CLI and the webhook make of them (which entry a registry takes, a mirror's registry).
- `parsing` — the YAML document read into those values, with one-line errors naming key and line.
Uses only `domain.references` (registry names are normalised like references) and PyYAML's composer.
"""
