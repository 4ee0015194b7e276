"""The AIMClusterModelSource spec as values, and its validation.

The dataclasses are the contract other packages use (see docs/dev/contracts.md). `parse_source`
applies the CRD's defaults and its rules (src/aimsource/crds/, the single source of truth; the domain
reads no files, so the limits are repeated below and tests/crds/ checks that both agree): a CRD
installed without its schema or CEL rule must not make the operator misbehave, and `aimsource check`
must reject offline exactly what the API server rejects. Unknown spec fields are problems too, as
with kubectl's strict field validation: a misspelt `syncinterval` would otherwise be dropped
silently. `check_source` adds what only the domain can know: references and constraints that do not
parse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aimsource.domain.durations import parse_duration
from aimsource.domain.errors import DomainError
from aimsource.domain.kube_names import DNS1123_SUBDOMAIN
from aimsource.domain.references import DOCKER_HUB
from aimsource.domain.resources import API_VERSION, SOURCE_KIND, SOURCE_LABEL
from aimsource.domain.spec.field_checks import FieldChecker, is_int, show, type_name
from aimsource.domain.spec.field_checks import Problem as Problem  # re-exported: part of the spec's contract
from aimsource.domain.spec.selector_checks import check_selectors

DEFAULT_REGISTRY = DOCKER_HUB  # the seed: `registry` defaults to Docker Hub
DEFAULT_SYNC_INTERVAL = 3600.0
DEFAULT_MAX_MODELS = 100

# Limits, equal to the CRD's (tests/crds/test_agreement.py compares them).
MAX_REGISTRY_LENGTH = 255
MAX_SELECTORS = 100  # images, filters
MAX_IMAGE_LENGTH = 512  # images[], filters[].image, filters[].exclude[]
MAX_VERSIONS = 20  # versions, filters[].versions
MAX_CONSTRAINT_LENGTH = 256
MAX_EXCLUDES = 100
MAX_PULL_SECRETS = 16
MAX_SECRET_NAME_LENGTH = 253
MAX_SYNC_INTERVAL_LENGTH = 64
MIN_MAX_MODELS, MAX_MAX_MODELS = 1, 10000
# Written with escapes for the two micro signs Go accepts; the compiled text equals the CRD's pattern.
SYNC_INTERVAL_PATTERN = re.compile("^([0-9]+(\\.[0-9]+)?(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$")

# The source's name is the value of the models' label SOURCE_LABEL (model-source), so it must be a
# valid label value as well as a valid object name (RFC 1123 subdomain): at most 63 characters.
MAX_NAME_LENGTH = 63
# A pull secret's name becomes a path segment of an API request: only a DNS-1123 subdomain (what
# Kubernetes accepts as a Secret's name) may pass, so "../../kube-system/secrets/x" never reaches the
# kube client. The CRD carries the same pattern, anchored because OpenAPI patterns search.
SECRET_NAME_PATTERN = "^" + DNS1123_SUBDOMAIN.pattern + "$"

SPEC_FIELDS = frozenset(
    {"registry", "images", "filters", "versions", "syncInterval", "imagePullSecrets", "maxModels"}
)
_FILTER_FIELDS = frozenset({"image", "versions", "exclude"})
_SECRET_FIELDS = frozenset({"name"})
EXACTLY_ONE_MESSAGE = "exactly one of spec.images or spec.filters must be set"


@dataclass(frozen=True)
class FilterSpec:
    image: str
    versions: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceSpec:
    registry: str = DEFAULT_REGISTRY
    images: tuple[str, ...] = ()
    filters: tuple[FilterSpec, ...] = ()
    versions: tuple[str, ...] = ()
    sync_interval: float = DEFAULT_SYNC_INTERVAL
    image_pull_secrets: tuple[str, ...] = ()
    max_models: int = DEFAULT_MAX_MODELS


@dataclass(frozen=True)
class Source:
    name: str
    uid: str
    generation: int
    spec: SourceSpec
    annotations: Mapping[str, str] = field(default_factory=dict)


class InvalidSpecError(DomainError):
    """The object breaks the CRD's rules; `problems` lists every one."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))


def parse_source(obj: Mapping[str, Any]) -> Source:
    """Turn a whole AIMClusterModelSource object into a `Source`, or raise InvalidSpecError.

    Defaults are the CRD's: registry docker.io, syncInterval 1h, maxModels 100; a null field counts
    as absent (the API server prunes nulls before defaulting). Metadata: `name` is required (a valid
    object name of at most 63 characters, see MAX_NAME_LENGTH); `uid` defaults to "" and
    `generation` to 1, as for a manifest read from a file. `apiVersion`, `kind` and `status` are
    not looked at (see check_source).
    """
    checker = FieldChecker()
    source = _read_source(obj, checker)
    if checker.problems or source is None:
        raise InvalidSpecError(tuple(checker.problems))
    return source


def check_source(obj: Mapping[str, Any]) -> list[Problem]:
    """Every problem of a manifest, as `aimsource check` prints them; empty when it is valid.

    Beyond parse_source's: apiVersion and kind, then each selector's reference (wildcards, digests,
    malformed) and each version constraint, at the path of the entry that is wrong.
    """
    checker = FieldChecker()
    if not isinstance(obj, Mapping):
        return [Problem("(document)", f"must be a mapping (a Kubernetes object), not {type_name(obj)}")]
    if obj.get("apiVersion") != API_VERSION:
        checker.add("apiVersion", f"must be {API_VERSION}, not {show(obj.get('apiVersion'))}")
    if obj.get("kind") != SOURCE_KIND:
        checker.add("kind", f"must be {SOURCE_KIND}, not {show(obj.get('kind'))}")
    source = _read_source(obj, checker)
    spec = obj.get("spec")
    if isinstance(spec, Mapping):
        registry = source.spec.registry if source is not None else spec.get("registry")
        check_selectors(
            spec,
            registry if isinstance(registry, str) else DEFAULT_REGISTRY,
            checker,
            default_registry=DEFAULT_REGISTRY,
        )
    return checker.problems


def _read_source(obj: Mapping[str, Any], checker: FieldChecker) -> Source | None:
    if not isinstance(obj, Mapping):
        checker.add("(document)", f"must be a mapping (a Kubernetes object), not {type_name(obj)}")
        return None
    name, uid, generation, annotations = _read_metadata(obj.get("metadata"), checker)
    if obj.get("spec") is None:
        checker.add("spec", "required")
        return None
    spec = _read_spec(obj["spec"], checker)
    if spec is None:
        return None
    return Source(name=name, uid=uid, generation=generation, spec=spec, annotations=annotations)


def _read_metadata(value: Any, checker: FieldChecker) -> tuple[str, str, int, dict[str, str]]:
    metadata = checker.mapping({} if value is None else value, "metadata") or {}
    name = metadata.get("name")
    if name is None or name == "":
        checker.add("metadata.name", "required")
        name = ""
    elif not isinstance(name, str):
        checker.add("metadata.name", f"must be a string, not {type_name(name)}")
        name = ""
    elif len(name) > MAX_NAME_LENGTH:
        checker.add(
            "metadata.name",
            f"must be at most {MAX_NAME_LENGTH} characters long (is {len(name)}): it is the value of "
            f"the models' label {SOURCE_LABEL}",
        )
    elif not DNS1123_SUBDOMAIN.fullmatch(name):
        checker.add(
            "metadata.name",
            f'"{name}" is not a valid name (lower-case letters, digits, "-" and ".", '
            "starting and ending with a letter or digit)",
        )
    uid = metadata.get("uid")
    if uid is None:
        uid = ""
    elif not isinstance(uid, str):
        checker.add("metadata.uid", f"must be a string, not {type_name(uid)}")
        uid = ""
    generation = metadata.get("generation")
    if generation is None:
        generation = 1
    elif not is_int(generation) or generation < 1:
        checker.add("metadata.generation", f"must be a positive integer, not {show(generation)}")
        generation = 1
    annotations: dict[str, str] = {}
    raw = metadata.get("annotations")
    if raw is not None and checker.mapping(raw, "metadata.annotations") is not None:
        for key, text in raw.items():
            if not isinstance(key, str):
                checker.add("metadata.annotations", f"keys must be strings, not {type_name(key)} ({key!r})")
            elif not isinstance(text, str):
                checker.add(f"metadata.annotations.{key}", f"must be a string, not {type_name(text)}")
            else:
                annotations[key] = text
    return name, uid, generation, annotations


def _read_spec(value: Any, checker: FieldChecker) -> SourceSpec | None:
    spec = checker.mapping(value, "spec", SPEC_FIELDS)
    if spec is None:
        return None

    registry = spec.get("registry")
    if registry is None:
        registry = DEFAULT_REGISTRY
    else:
        registry = checker.string(registry, "spec.registry", max_length=MAX_REGISTRY_LENGTH)

    images = checker.strings(
        spec.get("images"), "spec.images", max_items=MAX_SELECTORS, max_length=MAX_IMAGE_LENGTH, min_items=1
    )
    raw_filters = checker.items(spec.get("filters"), "spec.filters", max_items=MAX_SELECTORS, min_items=1)
    filters = tuple(
        f for i, item in enumerate(raw_filters) if (f := _read_filter(item, f"spec.filters[{i}]", checker))
    )
    if _is_set(spec.get("images")) == _is_set(spec.get("filters")):
        both = "both are set" if _is_set(spec.get("images")) else "neither is set"
        checker.add("spec", f"{EXACTLY_ONE_MESSAGE} ({both})")

    versions = checker.strings(
        spec.get("versions"), "spec.versions", max_items=MAX_VERSIONS, max_length=MAX_CONSTRAINT_LENGTH
    )
    sync_interval = _read_sync_interval(spec.get("syncInterval"), checker)
    pull_secrets = tuple(
        name
        for i, item in enumerate(
            checker.items(spec.get("imagePullSecrets"), "spec.imagePullSecrets", max_items=MAX_PULL_SECRETS)
        )
        if (name := _read_secret_ref(item, f"spec.imagePullSecrets[{i}]", checker))
    )
    max_models = spec.get("maxModels")
    if max_models is None:
        max_models = DEFAULT_MAX_MODELS
    elif not is_int(max_models):
        checker.add("spec.maxModels", f"must be an integer, not {type_name(max_models)}")
    elif not MIN_MAX_MODELS <= max_models <= MAX_MAX_MODELS:
        checker.add(
            "spec.maxModels", f"must be between {MIN_MAX_MODELS} and {MAX_MAX_MODELS} (is {max_models})"
        )

    if registry is None or sync_interval is None or not is_int(max_models):
        return None
    return SourceSpec(
        registry=registry,
        images=images,
        filters=filters,
        versions=versions,
        sync_interval=sync_interval,
        image_pull_secrets=pull_secrets,
        max_models=max_models,
    )


def _read_filter(value: Any, path: str, checker: FieldChecker) -> FilterSpec | None:
    item = checker.mapping(value, path, _FILTER_FIELDS)
    if item is None:
        return None
    image = item.get("image")
    if image is None:
        checker.add(f"{path}.image", "required")
    else:
        image = checker.string(image, f"{path}.image", max_length=MAX_IMAGE_LENGTH)
    versions = checker.strings(
        item.get("versions"), f"{path}.versions", max_items=MAX_VERSIONS, max_length=MAX_CONSTRAINT_LENGTH
    )
    exclude = checker.strings(
        item.get("exclude"), f"{path}.exclude", max_items=MAX_EXCLUDES, max_length=MAX_IMAGE_LENGTH
    )
    return None if image is None else FilterSpec(image=image, versions=versions, exclude=exclude)


def _read_secret_ref(value: Any, path: str, checker: FieldChecker) -> str | None:
    item = checker.mapping(value, path, _SECRET_FIELDS)
    if item is None:
        return None
    if item.get("name") is None:
        checker.add(f"{path}.name", "required")
        return None
    name = checker.string(item["name"], f"{path}.name", max_length=MAX_SECRET_NAME_LENGTH)
    if name is not None and not DNS1123_SUBDOMAIN.fullmatch(name):
        checker.add(
            f"{path}.name",
            f"{show(name)} is not a valid Secret name (a DNS-1123 subdomain: lower-case letters, "
            'digits, "-" and ".", starting and ending with a letter or digit)',
        )
        return None
    return name


def _read_sync_interval(value: Any, checker: FieldChecker) -> float | None:
    if value is None:
        return DEFAULT_SYNC_INTERVAL
    text = checker.string(value, "spec.syncInterval", max_length=MAX_SYNC_INTERVAL_LENGTH)
    if text is None:
        return None
    if not SYNC_INTERVAL_PATTERN.fullmatch(text):
        checker.add(
            "spec.syncInterval",
            f'"{text}" is not a duration: write a number and a unit (ns, us, ms, s, m, h), '
            "like 15m, 1h or 2h30m",
        )
        return None
    return parse_duration(text)


def _is_set(value: Any) -> bool:
    """Whether a selector list counts as set for the exactly-one rule: present and not empty."""
    return value is not None and not (isinstance(value, list | tuple) and not value)
