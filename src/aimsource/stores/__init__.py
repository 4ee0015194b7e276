"""stores layer: model stores without a cluster.

- `directory` — models as YAML manifests in a directory (`aimsource sync --out`), append-only.
- `files` — reading an input file: a regular file only, of bounded size (the CLI's inputs too).

Uses the domain only (it fits `sync.ports.ModelStore` by shape); knows nothing of registries or
Kubernetes."""
