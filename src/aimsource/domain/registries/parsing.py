"""The registries file read into `Registries`: strict, with one-line errors naming key and line.

    registries:
      docker.io:
        mirrors:
          - url: https://mirror.corp.example:5000
            caFile: /etc/aimsource/ca/corp.pem
          - http://10.0.0.7:5000          # a bare URL is short for {url: ...}
        fallback: false
      "*":
        requestsPerSecond: 20

An empty document (or `registries:` with nothing under it) is a valid file without entries: the
deployed ConfigMap starts so. The document is composed into YAML nodes, never into Python objects
first, so every error carries the line of the key or value at fault (`FILE:LINE: KEY: why`);
unknown keys, duplicate keys, registries written twice (`docker.io` and `index.docker.io`), bad
URLs and CA files that `file_exists` does not find are all errors. Pure: the caller passes the text
and, if CA files must exist, the function that says so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import yaml

from aimsource.domain.errors import DomainError, InvalidReferenceError
from aimsource.domain.references import normalize_registry, parse_reference
from aimsource.domain.registries.entries import (
    DISCOVERY_KINDS,
    WILDCARD,
    Mirror,
    Registries,
    RegistryEntry,
)

ENTRY_KEYS = (
    "mirrors",
    "fallback",
    "repositoryDiscovery",
    "discoveryURL",
    "requestsPerSecond",
    "maxConcurrency",
    "pageSize",
    "insecure",
    "caFile",
)
MIRROR_KEYS = ("url", "caFile")
NOT_IN_WILDCARD = ("mirrors", "fallback", "discoveryURL", "insecure")
"""Keys that make sense only for a named registry: a mirror of every registry would mix their
repositories, and plain HTTP to every host is not a default anyone should get by accident."""
MAX_MIRRORS = 10
MAX_PAGE_SIZE = 10_000

_Exists = Callable[[str], bool]
_STR = "tag:yaml.org,2002:str"
_constructor = yaml.constructor.SafeConstructor()
_USERINFO = re.compile(r"//[^/?#]*@")


class InvalidRegistriesError(DomainError):
    """A registries file that cannot be used; the message is one line: `FILE:LINE: KEY: why`."""


def parse_registries(text: str, *, origin: str, file_exists: _Exists | None = None) -> Registries:
    """Read a registries file; raises InvalidRegistriesError naming `origin`, the line and the key.

    `file_exists` checks each `caFile` (None: not checked, e.g. when validating elsewhere)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InvalidRegistriesError(
            f"{origin}{line}: not valid YAML: {exc.problem or exc.context}"
        ) from None
    except yaml.YAMLError as exc:
        raise InvalidRegistriesError(f"{origin}: not valid YAML ({type(exc).__name__})") from None
    except RecursionError:
        raise InvalidRegistriesError(f"{origin}: not valid YAML: nested too deeply") from None
    reader = _Reader(origin, file_exists)
    if root is None or _is_null(root):
        return Registries()
    top = reader.mapping(root, "the document", allowed=("registries",))
    node = top.get("registries")
    if node is None or _is_null(node[1]):
        return Registries()
    entries: dict[str, RegistryEntry] = {}
    for key_node, value in reader.mapping_items(node[1], "registries"):
        key = reader.registry_key(key_node)
        if key in entries:
            raise reader.fail(
                key_node, f"registries.{key_node.value}", f"names {key} again (line {entries[key].line})"
            )
        entries[key] = reader.entry(key, value, line=key_node.start_mark.line + 1)
    return Registries(entries)


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


class _Reader:
    def __init__(self, origin: str, file_exists: _Exists | None) -> None:
        self._origin = origin
        self._exists = file_exists

    def fail(self, node: yaml.Node, key: str, why: str) -> InvalidRegistriesError:
        return InvalidRegistriesError(f"{self._origin}:{node.start_mark.line + 1}: {key}: {why}")

    def mapping_items(self, node: yaml.Node, key: str) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, key, "must be a mapping")
        seen: set[str] = set()
        items: list[tuple[yaml.ScalarNode, yaml.Node]] = []
        for key_node, value in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, key, "keys must be plain strings")
            name = str(key_node.value)
            if name in seen:
                raise self.fail(key_node, f"{key}.{name}", "written twice")
            seen.add(name)
            items.append((key_node, value))
        return items

    def mapping(
        self, node: yaml.Node, key: str, *, allowed: tuple[str, ...]
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        found: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value in self.mapping_items(node, key):
            name = str(key_node.value)
            if name not in allowed:
                where = name if key == "the document" else f"{key}.{name}"
                raise self.fail(key_node, where, f"unknown key (known: {', '.join(allowed)})")
            found[name] = (key_node, value)
        return found

    def registry_key(self, node: yaml.ScalarNode) -> str:
        text = str(node.value).strip()
        if text == WILDCARD:
            return WILDCARD
        where = f"registries.{text[:100]}"
        if "://" in text or "/" in text:
            raise self.fail(node, where, "write the registry as host[:port], without scheme or path")
        lowered = text.lower()
        if not ("." in lowered or ":" in lowered or lowered == "localhost"):
            raise self.fail(node, where, 'not a registry host (write host[:port] as in references, or "*")')
        try:
            ref = parse_reference(f"{text}/probe")
        except InvalidReferenceError:
            raise self.fail(node, where, "not a valid host[:port]") from None
        return normalize_registry(ref.registry)

    def entry(self, key: str, node: yaml.Node, *, line: int) -> RegistryEntry:
        where = f"registries.{key}"
        if _is_null(node):
            return RegistryEntry(key, line=line)
        fields = self.mapping(node, where, allowed=ENTRY_KEYS)
        if key == WILDCARD:
            for name in NOT_IN_WILDCARD:
                if name in fields:
                    raise self.fail(fields[name][0], f'registries."*".{name}', "only for a named registry")
        values: dict[str, Any] = {}
        for name, (_, value) in fields.items():
            at = f"{where}.{name}"
            if name == "mirrors":
                values["mirrors"] = self.mirrors(value, at, key)
            elif name in ("fallback", "insecure"):
                values[name] = self.scalar(value, at, bool, "true or false")
            elif name == "repositoryDiscovery":
                kind = self.scalar(value, at, str, "a string")
                if kind not in DISCOVERY_KINDS:
                    raise self.fail(value, at, f'"{kind[:40]}" is not one of {", ".join(DISCOVERY_KINDS)}')
                values["repository_discovery"] = kind
            elif name == "discoveryURL":
                values["discovery_url"] = self.url(value, at, allow_path=True)[0]
            elif name == "requestsPerSecond":
                rate = self.scalar(value, at, (int, float), "a number")
                if not math.isfinite(rate) or rate < 0:
                    raise self.fail(
                        value, at, "must be a number of requests per second, 0 or more (0: no budget)"
                    )
                values["requests_per_second"] = float(rate)
            elif name in ("maxConcurrency", "pageSize"):
                number = self.scalar(value, at, int, "a whole number")
                top = MAX_PAGE_SIZE if name == "pageSize" else 1000
                if not 1 <= number <= top:
                    raise self.fail(value, at, f"must be between 1 and {top}")
                values["max_concurrency" if name == "maxConcurrency" else "page_size"] = number
            elif name == "caFile":
                values["ca_file"] = self.ca_file(value, at)
        return RegistryEntry(key, line=line, **values)

    def mirrors(self, node: yaml.Node, where: str, registry: str) -> tuple[Mirror, ...]:
        if _is_null(node):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, where, "must be a list of mirrors ({url, caFile} or a URL)")
        if len(node.value) > MAX_MIRRORS:
            raise self.fail(node, where, f"at most {MAX_MIRRORS} mirrors")
        mirrors: list[Mirror] = []
        for index, item in enumerate(node.value):
            at = f"{where}[{index}]"
            ca_file = None
            if isinstance(item, yaml.MappingNode):
                fields = self.mapping(item, at, allowed=MIRROR_KEYS)
                if "url" not in fields:
                    raise self.fail(item, f"{at}.url", "required")
                url_node = fields["url"][1]
                if "caFile" in fields:
                    ca_file = self.ca_file(fields["caFile"][1], f"{at}.caFile")
                at = f"{at}.url"
            else:
                url_node = item
            url, host = self.url(url_node, at, allow_path=False)
            if host == registry or (registry == "docker.io" and host == "registry-1.docker.io"):
                raise self.fail(url_node, at, f"is {registry} itself, not a mirror of it")
            if any(m.host == host for m in mirrors):
                raise self.fail(url_node, at, f"{host} is listed twice")
            mirrors.append(Mirror(url=url, host=host, ca_file=ca_file))
        return tuple(mirrors)

    def url(self, node: yaml.Node, where: str, *, allow_path: bool) -> tuple[str, str]:
        """(`scheme://host[:port][path]` normalised, `host[:port]`)."""
        text = self.scalar(node, where, str, "a URL").strip()
        shown = _USERINFO.sub("//***@", text)[:100]  # a password written in the URL is never shown
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError:
            raise self.fail(node, where, f'"{shown}" is not a valid URL') from None
        if parts.scheme not in ("http", "https"):
            raise self.fail(node, where, f'"{shown}" must start with https:// (or http:// for plain HTTP)')
        if not parts.hostname:
            raise self.fail(node, where, f'"{shown}" names no host')
        if parts.username is not None or parts.password is not None:
            raise self.fail(node, where, "credentials do not belong in the URL: put them in a pull secret")
        if parts.query or parts.fragment:
            raise self.fail(node, where, f'"{shown}" must not have a query or fragment')
        path = parts.path.rstrip("/")
        if path and not allow_path:
            raise self.fail(
                node, where, f'"{shown}": a mirror is host[:port] only (its /v2/ API is at the root)'
            )
        host = parts.hostname.lower()
        if ":" in host:
            host = f"[{host}]"
        if any(c.isspace() for c in host) or not _valid_host(host):
            raise self.fail(node, where, f'"{shown}" names no valid host')
        default_port = 443 if parts.scheme == "https" else 80
        netloc = host if port is None or port == default_port else f"{host}:{port}"
        return f"{parts.scheme}://{netloc}{path}", netloc

    def ca_file(self, node: yaml.Node, where: str) -> str:
        path = str(self.scalar(node, where, str, "a file path"))
        if not path:
            raise self.fail(node, where, "empty")
        if self._exists is not None and not self._exists(path):
            raise self.fail(node, where, f"{path[:200]}: no such file")
        return path

    def scalar(self, node: yaml.Node, where: str, kind: Any, what: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, where, f"must be {what}")
        value = _constructor.construct_object(node)
        if kind is str and node.tag == _STR:
            return str(value)
        if isinstance(value, bool) and kind is not bool:
            raise self.fail(node, where, f"must be {what}, not {str(value).lower()}")
        if kind is str or not isinstance(value, kind):
            raise self.fail(node, where, f"must be {what}, not {_shown(node)}")
        return value


def _valid_host(host: str) -> bool:
    try:
        parse_reference(f"{host}/probe")
    except InvalidReferenceError:
        return False
    return True


def _shown(node: yaml.ScalarNode) -> str:
    text = str(node.value)
    return f'"{text[:40]}"' if text else "empty"
