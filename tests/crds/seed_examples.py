"""Every YAML example of the user documentation (shared/spec/model-sources-seed.txt), re-indented.

The stored copy of the documentation lost its indentation, so the examples are transcribed here by
hand, in the order they appear. Fragments that show one field (`spec: registry: ghcr.io`) are
completed into whole sources with the smallest addition that makes them one: a metadata name and,
where the fragment has no selector, `images: [org/model-a:1.0.0]`; what the documentation wrote is
kept as written. The documentation promises that each is valid.
"""

from __future__ import annotations

from typing import Any

import yaml

_HEAD = "apiVersion: aim.eai.amd.com/v1alpha1\nkind: AIMClusterModelSource\n"

# Whole manifests, exactly as in the documentation.
MANIFESTS: dict[str, str] = {
    "basic-example": _HEAD
    + """\
metadata:
  name: amd-models
spec:
  images:
    - amdenterpriseai/aim-qwen-qwen3-32b:0.8.5
    - amdenterpriseai/aim-deepseek-deepseek-r1:0.8.5
  syncInterval: 1h
""",
    "private-registry-section": """\
apiVersion: v1
kind: Secret
metadata:
  name: ghcr-secret
  namespace: aim-system # operator namespace
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: BASE64_CONFIG
---
"""
    + _HEAD
    + """\
metadata:
  name: private-models
spec:
  registry: ghcr.io
  imagePullSecrets:
    - name: ghcr-secret
  images:
    - myorg/private-model:1.0.0
""",
    "dockerhub-explicit-images": _HEAD
    + """\
metadata:
  name: dockerhub-models
spec:
  registry: docker.io
  images:
    - amdenterpriseai/aim-qwen-qwen3-32b:0.8.5
    - amdenterpriseai/aim-deepseek-deepseek-r1:0.8.5
  syncInterval: 2h
""",
    "ghcr-version-constraints": _HEAD
    + """\
metadata:
  name: ghcr-stable-models
spec:
  registry: ghcr.io
  images:
    - amdenterpriseai/aim-qwen-qwen3-32b
    - amdenterpriseai/aim-deepseek-deepseek-r1
  versions:
    - ">=0.8.0"
    - "<1.0.0"
  syncInterval: 1h
""",
    "multiple-registries": _HEAD
    + """\
metadata:
  name: multi-registry-models
spec:
  registry: docker.io # default
  filters:
    - image: amdenterpriseai/aim-qwen-qwen3-32b # uses docker.io
    - image: ghcr.io/amdenterpriseai/aim-deepseek-deepseek-r1 # overrides to ghcr.io
  syncInterval: 1h
""",
    "private-registry-example": """\
apiVersion: v1
kind: Secret
metadata:
  name: private-registry-creds
  namespace: aim-system
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: BASE64_ENCODED_CONFIG
---
"""
    + _HEAD
    + """\
metadata:
  name: private-models
spec:
  registry: private.registry.io
  imagePullSecrets:
    - name: private-registry-creds
  images:
    - myorg/model-a
    - myorg/model-b
  versions:
    - ">=1.0.0"
  syncInterval: 1h
""",
    "specific-versions": _HEAD
    + """\
metadata:
  name: specific-versions
spec:
  registry: ghcr.io
  filters:
    - image: amdenterpriseai/aim-qwen-qwen3-32b:0.8.5
    - image: amdenterpriseai/aim-qwen-qwen3-32b:0.8.4
    - image: amdenterpriseai/aim-deepseek-deepseek-r1:0.8.5
  syncInterval: 6h
""",
}

# `spec:` fragments from the Configuration sections; see the module docstring for how they are completed.
_SELECTOR = "  images:\n    - org/model-a:1.0.0\n"
FRAGMENTS: dict[str, str] = {
    "registry": "spec:\n  registry: ghcr.io # or docker.io, gcr.io, etc.\n" + _SELECTOR,
    "images": """\
spec:
  images:
    - amdenterpriseai/aim-qwen-qwen3-32b:0.8.5
    - ghcr.io/silogen/aim-google-gemma-3-1b-it:0.8.1-rc1
""",
    "filters": """\
spec:
  filters:
    - image: amdenterpriseai/aim-qwen-qwen3-32b
      versions:
        - ">=0.8.5"
    - image: ghcr.io/silogen/aim-google-gemma-3-1b-it:0.8.1-rc1
""",
    "mutual-exclusivity": """\
spec:
  images:
    - amdenterpriseai/aim-qwen-qwen3-32b:0.8.5
  # filters: ... # invalid when images is set
""",
    "global-versions": """\
spec:
  registry: ghcr.io
  images:
    - amdenterpriseai/aim-qwen-qwen3-32b
    - amdenterpriseai/aim-deepseek-deepseek-r1
  versions:
    - ">=0.8.0"
    - "<1.0.0"
""",
    "per-filter-versions": """\
spec:
  registry: ghcr.io
  versions:
    - ">=0.8.0" # global default
  filters:
    - image: amdenterpriseai/aim-qwen-qwen3-32b
      versions:
        - ">=0.8.5" # overrides global for this filter
    - image: amdenterpriseai/aim-deepseek-deepseek-r1
      # uses global constraint
""",
    "prerelease-versions": 'spec:\n  versions:\n    - ">=0.8.1-rc1" # includes prereleases\n' + _SELECTOR,
    "exclusions": """\
spec:
  filters:
    - image: amdenterpriseai/aim-qwen-qwen3-32b
      exclude:
        - amdenterpriseai/aim-base
        - amdenterpriseai/aim-experimental
""",
    "sync-interval": "spec:\n  syncInterval: 30m # supports: 15m, 1h, 2h30m, etc.\n" + _SELECTOR,
    "max-models": """\
spec:
  maxModels: 100 # CRD default: 100, range: 1-10000
  images:
    - org/model-a:1.0.0
    - org/model-b:1.0.0
""",
}

# The status the documentation shows for a source that hit maxModels.
STATUS_EXAMPLE = """\
status:
  status: Ready
  discoveredModels: 100
  availableModels: 250
  modelsLimitReached: true
  conditions:
    - type: MaxModelsLimitReached
      status: "True"
      message: "Model creation limit reached (100 models created).
        150 available images not created as models."
"""


def sources(name: str, text: str) -> list[dict[str, Any]]:
    """The AIMClusterModelSource objects in one example (manifests may also hold a Secret)."""
    return [doc for doc in yaml.safe_load_all(text) if doc and doc.get("kind") == "AIMClusterModelSource"]


def all_sources() -> dict[str, dict[str, Any]]:
    """Every example as a whole AIMClusterModelSource object, keyed by a readable id."""
    out: dict[str, dict[str, Any]] = {}
    for name, text in MANIFESTS.items():
        (source,) = sources(name, text)
        out[name] = source
    for name, text in FRAGMENTS.items():
        out[f"fragment-{name}"] = yaml.safe_load(_HEAD + f"metadata:\n  name: {name}\n" + text)
    return out
