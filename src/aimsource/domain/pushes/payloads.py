"""Registry push notifications: each provider's payload read into the same `Push` values.

Pure code over parsed JSON, so every provider's shape is tested as a table of sample payloads
(the samples come from each provider's documentation). A payload either yields pushes, yields none
because it is a kind of notification that is not a push (a pull, a GitHub `ping`, a Harbor scan:
"ignored"), or is malformed (`MalformedPayload`, whose message names the field). Registry hosts and
repositories are normalised with `references`, so `index.docker.io/library/ubuntu` and
`docker.io/ubuntu` are the same push; anything that would not parse as an image reference is
malformed rather than passed on, because it ends up in log lines and in requests to registries.

The shapes, with the fields read:

- `distribution` (CNCF distribution, media type `application/vnd.docker.distribution.events.v1+json`):
  `{"events": [{"action": "push", "target": {"repository", "tag"?, "digest"?}, "request": {"host"}}]}`;
  events of other actions, and pushes of blobs (no tag, no manifest media type), are skipped.
- `dockerhub`: `{"push_data": {"tag"}, "repository": {"repo_name"}}` (registry `docker.io`).
- `ghcr` (GitHub `package` and `registry_package` events): `{"action": "published"|"updated",
  "package"|"registry_package": {"namespace", "name", "package_type": "container",
  "package_version": {"container_metadata": {"tag": {"name", "digest"}}}}}` (registry `ghcr.io`).
- `quay`: `{"docker_url": "quay.io/ns/repo", "updated_tags": [...]}` (older payloads: a mapping of
  tag to image id).
- `harbor`: `{"type": "PUSH_ARTIFACT", "event_data": {"repository": {"repo_full_name"},
  "resources": [{"tag", "digest", "resource_url": "host/ns/repo:tag"}]}}`.
- `generic`: `{"registry", "repository", "tag"?}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aimsource.domain.errors import InvalidReferenceError
from aimsource.domain.references import DOCKER_HUB, ImageRef, is_valid_tag, parse_reference

MAX_PUSHES = 100
"""Pushes read from one payload; a notification naming more is malformed (distribution batches a
few events per envelope, the others name one repository). Parsing stops at the first one past it."""
MAX_ENTRIES = 1000
"""Entries (events, resources, tags) one payload's list may hold, pushes or not; a longer list is
malformed before any entry is read."""

_DIGEST_PREFIXES = ("sha256:", "sha512:")
_MANIFEST_MEDIA_HINTS = ("manifest", "image.index")


class MalformedPayload(ValueError):
    """The payload is not what the provider sends; the message names the missing or bad field."""


@dataclass(frozen=True)
class Push:
    """One pushed image: a repository, and the tag when the notification names one."""

    registry: str
    """Normalised host[:port] (`docker.io` for Docker Hub's aliases)."""
    repository: str
    """Normalised repository (`library/` added on Docker Hub)."""
    tag: str | None = None
    digest: str | None = None

    @property
    def ref(self) -> ImageRef:
        return ImageRef(self.registry, self.repository, self.tag)

    def __str__(self) -> str:
        return str(self.ref)


Parser = Callable[[object], list[Push]]


def parse_payload(provider: str, payload: object) -> list[Push]:
    """The pushes in one notification; [] when it is a notification of something else.

    Raises KeyError for an unknown provider and MalformedPayload for a payload of the wrong shape.
    """
    pushes = PARSERS[provider](payload)
    _check_count(pushes)
    return list(dict.fromkeys(pushes))  # a batch may repeat an event


def _check_count(pushes: list[Push]) -> None:
    if len(pushes) > MAX_PUSHES:
        raise MalformedPayload(f"more than {MAX_PUSHES} pushes in one notification")


def _entries(obj: object, name: str, *, where: str = "") -> list[Any]:
    """A list field, refused when it holds more than MAX_ENTRIES entries."""
    entries: list[Any] = _field(obj, name, list, where=where)
    if len(entries) > MAX_ENTRIES:
        path = f"{where}.{name}" if where else name
        raise MalformedPayload(f"{path} holds {len(entries)} entries (at most {MAX_ENTRIES})")
    return entries


def make_push(registry: str, repository: str, tag: str | None = None, digest: str | None = None) -> Push:
    """A normalised push; MalformedPayload when the names are not a valid image reference."""
    if not isinstance(registry, str) or not registry:
        raise MalformedPayload("the registry is missing")
    if not isinstance(repository, str) or not repository:
        raise MalformedPayload("the repository is missing")
    if tag is not None and (not isinstance(tag, str) or not is_valid_tag(tag)):
        raise MalformedPayload(f"invalid tag {_show(tag)}")
    registry = registry.strip().lower()
    if "/" in registry or "://" in registry:
        raise MalformedPayload(f"invalid registry {_show(registry)}")
    try:
        # A registry that `parse_reference` would not take for one ("localhost" is one; a bare
        # name is not) still is one here: the provider says so.
        host = registry if ("." in registry or ":" in registry or registry == "localhost") else None
        text = f"{host}/{repository}" if host else repository
        ref = parse_reference(text, default_registry=registry)
    except InvalidReferenceError as exc:
        raise MalformedPayload(str(exc)) from exc
    if digest is not None and not (isinstance(digest, str) and digest.startswith(_DIGEST_PREFIXES)):
        digest = None  # only a hint: the sync's HEAD gives the digest it records
    return Push(ref.registry, ref.repository, tag, digest)


# --- providers --------------------------------------------------------------------------------


def _distribution(payload: object) -> list[Push]:
    events = _entries(payload, "events")
    pushes: list[Push] = []
    for index, event in enumerate(events):
        if not isinstance(event, Mapping):
            raise MalformedPayload(f"events[{index}] is not an object")
        if event.get("action") != "push":
            continue
        target = _field(event, "target", Mapping, where=f"events[{index}]")
        tag = target.get("tag") or None
        media = str(target.get("mediaType") or "")
        if tag is None and not any(hint in media for hint in _MANIFEST_MEDIA_HINTS):
            continue  # a blob (layer) upload: not an image anyone can name yet
        request = _field(event, "request", Mapping, where=f"events[{index}]")
        host = _field(request, "host", str, where=f"events[{index}].request")
        repository = _field(target, "repository", str, where=f"events[{index}].target")
        pushes.append(make_push(host, repository, tag, target.get("digest")))
        _check_count(pushes)
    return pushes


def _dockerhub(payload: object) -> list[Push]:
    data = _field(payload, "push_data", Mapping)
    repository = _field(_field(payload, "repository", Mapping), "repo_name", str, where="repository")
    tag = data.get("tag") or None
    return [make_push(DOCKER_HUB, repository, tag)]


def _ghcr(payload: object) -> list[Push]:
    if not isinstance(payload, Mapping):
        raise MalformedPayload("the payload is not a JSON object")
    key = "package" if "package" in payload else "registry_package" if "registry_package" in payload else None
    if key is None:
        return []  # `ping` and every other GitHub event
    if payload.get("action") not in ("published", "updated"):
        return []
    package = _field(payload, key, Mapping)
    if str(package.get("package_type", "")).lower() != "container":
        return []  # npm, maven...: not an image
    namespace = _field(package, "namespace", str, where=key)
    name = _field(package, "name", str, where=key)
    registry = "ghcr.io"
    url = (package.get("registry") or {}).get("url") if isinstance(package.get("registry"), Mapping) else None
    if isinstance(url, str) and "://" in url:
        registry = url.split("://", 1)[1].strip("/") or registry
    version = package.get("package_version")
    tag_name = digest = None
    if isinstance(version, Mapping):
        metadata = version.get("container_metadata")
        tag = metadata.get("tag") if isinstance(metadata, Mapping) else None
        if isinstance(tag, Mapping):
            tag_name = tag.get("name") or None
            digest = tag.get("digest")
    return [make_push(registry, f"{namespace.lower()}/{name.lower()}", tag_name, digest)]


def _quay(payload: object) -> list[Push]:
    payload = _object(payload)
    url = _field(payload, "docker_url", str)
    registry, _, repository = url.partition("/")
    if not repository:
        raise MalformedPayload(f"docker_url {_show(url)} names no repository")
    tags = payload.get("updated_tags") or []
    if isinstance(tags, Mapping):
        tags = list(tags)  # older Quay: {"tag": "image id"}
    if not isinstance(tags, list):
        raise MalformedPayload("updated_tags is not a list")
    if len(tags) > MAX_PUSHES:
        raise MalformedPayload(f"more than {MAX_PUSHES} pushes in one notification")
    if not tags:
        return [make_push(registry, repository)]
    return [make_push(registry, repository, tag) for tag in tags]


def _harbor(payload: object) -> list[Push]:
    if _field(payload, "type", str) != "PUSH_ARTIFACT":
        return []
    data = _field(payload, "event_data", Mapping)
    repository = _field(
        _field(data, "repository", Mapping, where="event_data"),
        "repo_full_name",
        str,
        where="event_data.repository",
    )
    resources = _entries(data, "resources", where="event_data")
    pushes: list[Push] = []
    for index, resource in enumerate(resources):
        if not isinstance(resource, Mapping):
            raise MalformedPayload(f"event_data.resources[{index}] is not an object")
        url = _field(resource, "resource_url", str, where=f"event_data.resources[{index}]")
        host = url.split("/", 1)[0]
        tag = resource.get("tag") or None
        if isinstance(tag, str) and tag.startswith(_DIGEST_PREFIXES):
            tag = None  # pushed by digest only: Harbor puts the digest where the tag goes
        pushes.append(make_push(host, repository, tag, resource.get("digest")))
        _check_count(pushes)
    return pushes


def _generic(payload: object) -> list[Push]:
    payload = _object(payload)
    registry = _field(payload, "registry", str)
    repository = _field(payload, "repository", str)
    tag = payload.get("tag")
    if tag is not None and not isinstance(tag, str):
        raise MalformedPayload("tag is not a string")
    return [make_push(registry, repository, tag or None)]


PARSERS: dict[str, Parser] = {
    "distribution": _distribution,
    "dockerhub": _dockerhub,
    "ghcr": _ghcr,
    "quay": _quay,
    "harbor": _harbor,
    "generic": _generic,
}


def _object(obj: object, where: str = "") -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise MalformedPayload(f"{where or 'the payload'} is not a JSON object")
    return obj


def _field(obj: object, name: str, kind: type, *, where: str = "") -> Any:
    value = _object(obj, where).get(name)
    label = f"{where}.{name}" if where else name
    if value is None:
        raise MalformedPayload(f"{label} is missing")
    if not isinstance(value, kind):
        raise MalformedPayload(f"{label} is not {_kind(kind)}")
    return value


def _kind(kind: type) -> str:
    if kind is str:
        return "a string"
    return "a list" if kind is list else "an object"


def _show(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
