"""Sample AIMClusterModelSource objects, valid and invalid, shared by the CRD and agreement tests.

Each invalid sample breaks one rule, so that a test failing on it points at that rule.
"""

from __future__ import annotations

from typing import Any


def source(spec: Any, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": "sample", **metadata},
        "spec": spec,
    }


IMG = "org/model:1.0.0"
FILTER = {"image": "org/model"}

VALID: dict[str, dict[str, Any]] = {
    "images-only": {"images": [IMG]},
    "filters-only": {"filters": [FILTER]},
    "wildcard-filter-amd": {
        "filters": [
            {"image": "amdenterpriseai/aim-*", "exclude": ["amdenterpriseai/aim-base"], "versions": ["0.8.4"]}
        ],
        "maxModels": 5,
    },
    "wildcard-filter-ghcr-exclude-pattern": {
        "registry": "ghcr.io",
        "filters": [
            {"image": "amd-enterprise-ai/aim-private-*", "exclude": ["amd-enterprise-ai/aim-private-x*"]}
        ],
    },
    "filter-with-versions-and-exclude": {
        "filters": [{"image": "org/model", "versions": [">=1.0.0", "<2.0.0"], "exclude": ["org/base"]}]
    },
    "every-field": {
        "registry": "ghcr.io",
        "images": [IMG, "ghcr.io/org/other"],
        "versions": [">=0.8.0"],
        "syncInterval": "2h30m",
        "imagePullSecrets": [{"name": "creds"}],
        "maxModels": 5,
    },
    "registry-with-port": {"registry": "localhost:5000", "images": [IMG]},
    "sync-15m": {"images": [IMG], "syncInterval": "15m"},
    "sync-fraction": {"images": [IMG], "syncInterval": "1.5h"},
    "sync-ms": {"images": [IMG], "syncInterval": "300ms"},
    "sync-micro-sign": {"images": [IMG], "syncInterval": "10\u00b5s"},
    "sync-many-parts": {"images": [IMG], "syncInterval": "1h2m3s4ms"},
    "max-models-1": {"images": [IMG], "maxModels": 1},
    "max-models-10000": {"images": [IMG], "maxModels": 10000},
    "100-images": {"images": [f"org/m{i}:1.0.0" for i in range(100)]},
    "100-filters": {"filters": [{"image": f"org/m{i}"} for i in range(100)]},
    "image-512-chars": {"images": ["o/" + "a" * 510]},
    "20-versions": {"images": [IMG], "versions": [">=1.0.0"] * 20},
    "nulls-count-as-absent": {
        "registry": None,
        "images": [IMG],
        "filters": None,
        "versions": None,
        "syncInterval": None,
        "maxModels": None,
    },
    "filter-with-null-lists": {"filters": [{"image": "org/model", "versions": None, "exclude": None}]},
    "empty-versions-list": {"images": [IMG], "versions": []},
    "pull-secret-dotted-name": {"images": [IMG], "imagePullSecrets": [{"name": "regcred.ghcr-io"}]},
    "pull-secret-253-chars": {
        "images": [IMG],
        "imagePullSecrets": [{"name": ".".join(["a" * 63] * 4)[:252] + "z"}],
    },
    "pull-secret-one-char": {"images": [IMG], "imagePullSecrets": [{"name": "a"}]},
}

INVALID: dict[str, Any] = {
    "no-spec": None,
    "empty-spec": {},
    "both-images-and-filters": {"images": [IMG], "filters": [FILTER]},
    "neither-only-registry": {"registry": "ghcr.io"},
    "empty-images": {"images": []},
    "empty-filters": {"filters": []},
    "empty-images-with-filters": {"images": [], "filters": [FILTER]},
    "101-images": {"images": [f"org/m{i}:1.0.0" for i in range(101)]},
    "101-filters": {"filters": [{"image": f"org/m{i}"} for i in range(101)]},
    "image-513-chars": {"images": ["o/" + "a" * 511]},
    "empty-image": {"images": [""]},
    "image-not-a-string": {"images": [1]},
    "images-not-a-list": {"images": IMG},
    "filter-without-image": {"filters": [{"versions": [">=1.0.0"]}]},
    "filter-image-null": {"filters": [{"image": None}]},
    "filter-image-513-chars": {"filters": [{"image": "o/" + "a" * 511}]},
    "filter-not-an-object": {"filters": ["org/model"]},
    "filter-unknown-field": {"filters": [{"image": "org/model", "version": [">=1.0.0"]}]},
    "filter-21-versions": {"filters": [{"image": "org/model", "versions": [">=1.0.0"] * 21}]},
    "filter-101-excludes": {
        "filters": [{"image": "org/model", "exclude": [f"org/x{i}" for i in range(101)]}]
    },
    "exclude-513-chars": {"filters": [{"image": "org/model", "exclude": ["o/" + "a" * 511]}]},
    "21-versions": {"images": [IMG], "versions": [">=1.0.0"] * 21},
    "version-257-chars": {"images": [IMG], "versions": [">=1.0.0" + " " * 250]},
    "empty-version": {"images": [IMG], "versions": [""]},
    "empty-registry": {"registry": "", "images": [IMG]},
    "registry-256-chars": {"registry": "r" * 256, "images": [IMG]},
    "registry-not-a-string": {"registry": 5000, "images": [IMG]},
    "sync-words": {"images": [IMG], "syncInterval": "1 hour"},
    "sync-days": {"images": [IMG], "syncInterval": "1d"},
    "sync-no-unit": {"images": [IMG], "syncInterval": "60"},
    "sync-trailing-number": {"images": [IMG], "syncInterval": "1h30"},
    "sync-negative": {"images": [IMG], "syncInterval": "-1h"},
    "sync-empty": {"images": [IMG], "syncInterval": ""},
    "sync-integer": {"images": [IMG], "syncInterval": 3600},
    "sync-65-chars": {"images": [IMG], "syncInterval": "10h" + "1h" * 31},
    "max-models-0": {"images": [IMG], "maxModels": 0},
    "max-models-10001": {"images": [IMG], "maxModels": 10001},
    "max-models-negative": {"images": [IMG], "maxModels": -1},
    "max-models-string": {"images": [IMG], "maxModels": "100"},
    "max-models-fraction": {"images": [IMG], "maxModels": 1.5},
    "max-models-boolean": {"images": [IMG], "maxModels": True},
    "pull-secret-without-name": {"images": [IMG], "imagePullSecrets": [{}]},
    "pull-secret-as-string": {"images": [IMG], "imagePullSecrets": ["creds"]},
    "pull-secret-empty-name": {"images": [IMG], "imagePullSecrets": [{"name": ""}]},
    "17-pull-secrets": {"images": [IMG], "imagePullSecrets": [{"name": f"s{i}"} for i in range(17)]},
    # A secret's name becomes a path segment of an API request: only DNS-1123 subdomains pass.
    "pull-secret-path-traversal": {
        "images": [IMG],
        "imagePullSecrets": [{"name": "../../kube-system/secrets/regcred"}],
    },
    "pull-secret-slash": {"images": [IMG], "imagePullSecrets": [{"name": "kube-system/regcred"}]},
    "pull-secret-upper-case": {"images": [IMG], "imagePullSecrets": [{"name": "RegCred"}]},
    "pull-secret-underscore": {"images": [IMG], "imagePullSecrets": [{"name": "reg_cred"}]},
    "pull-secret-leading-dash": {"images": [IMG], "imagePullSecrets": [{"name": "-regcred"}]},
    "pull-secret-trailing-dot": {"images": [IMG], "imagePullSecrets": [{"name": "regcred."}]},
    "pull-secret-double-dot": {"images": [IMG], "imagePullSecrets": [{"name": "reg..cred"}]},
    "pull-secret-dot-dot": {"images": [IMG], "imagePullSecrets": [{"name": ".."}]},
    "pull-secret-space": {"images": [IMG], "imagePullSecrets": [{"name": "reg cred"}]},
    "pull-secret-trailing-newline": {"images": [IMG], "imagePullSecrets": [{"name": "regcred\n"}]},
    "pull-secret-percent": {"images": [IMG], "imagePullSecrets": [{"name": "reg%2fcred"}]},
    "pull-secret-254-chars": {"images": [IMG], "imagePullSecrets": [{"name": "a" * 254}]},
    "unknown-spec-field": {"images": [IMG], "syncinterval": "30m"},
    "spec-not-an-object": ["org/model:1.0.0"],
}
