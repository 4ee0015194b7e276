"""Where the Kubernetes API is and how to authenticate to it, found the way kubectl finds it.

In a pod, the service account (KUBERNETES_SERVICE_HOST/PORT and the files under
/var/run/secrets/kubernetes.io/serviceaccount); elsewhere the kubeconfig named by
KUBECONFIG (a path list, first file wins per key, as kubectl merges them) or
~/.kube/config, using its current context. Relative file paths in a kubeconfig
are relative to that file. Supported users: token, tokenFile, client certificate
and key (files or inline data), basic auth; exec and auth-provider plugins are
refused with a message rather than silently ignored.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aimsource.domain.causes import dropping_cause
from aimsource.kube.errors import KubeConfigError

log = logging.getLogger("aimsource.kube")

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
DEFAULT_OPERATOR_NAMESPACE = "aim-system"


@dataclass(frozen=True)
class KubeConfig:
    """Everything needed to open a connection to one API server. Secrets are kept out of repr()."""

    server: str
    """Base URL, e.g. `https://10.0.0.1:443`."""
    namespace: str | None = None
    """The context's (or service account's) namespace, if any."""
    token: str | None = field(default=None, repr=False)
    token_file: str | None = None
    """Re-read periodically by the client, because projected service-account tokens rotate."""
    ca_file: str | None = None
    ca_data: str | None = field(default=None, repr=False)
    """PEM text of the CA bundle."""
    insecure: bool = False
    """insecure-skip-tls-verify: no certificate verification at all."""
    client_cert_file: str | None = None
    client_key_file: str | None = None
    client_cert_data: str | None = field(default=None, repr=False)
    client_key_data: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    origin: str = ""
    """Where this came from (a file path or `in-cluster`), for messages."""

    def ssl_context(self) -> ssl.SSLContext | bool:
        """The TLS settings of the HTTP client: True for plain http, a context otherwise."""
        if not self.server.startswith("https://"):
            return True
        if self.insecure:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif self.ca_file or self.ca_data:
            context = ssl.create_default_context(cafile=self.ca_file, cadata=self.ca_data)
        else:
            context = ssl.create_default_context()
        self._load_client_certificate(context)
        return context

    def _load_client_certificate(self, context: ssl.SSLContext) -> None:
        if self.client_cert_file and self.client_key_file:
            context.load_cert_chain(self.client_cert_file, self.client_key_file)
        elif self.client_cert_data and self.client_key_data:
            # ssl only loads certificates from files: write them to a private directory, then remove it.
            with tempfile.TemporaryDirectory(prefix="aimsource-") as tmp:
                cert, key = Path(tmp, "client.crt"), Path(tmp, "client.key")
                for path, text in ((cert, self.client_cert_data), (key, self.client_key_data)):
                    path.touch(mode=0o600)
                    path.write_text(text)
                context.load_cert_chain(str(cert), str(key))

    def basic_auth(self) -> tuple[str, str] | None:
        if self.username is not None and self.password is not None:
            return (self.username, self.password)
        return None


def operator_namespace(*, service_account_dir: Path = SERVICE_ACCOUNT_DIR) -> str:
    """The namespace the operator runs in: the service account's, else `aim-system`."""
    try:
        namespace = (service_account_dir / "namespace").read_text().strip()
    except OSError:
        return DEFAULT_OPERATOR_NAMESPACE
    return namespace or DEFAULT_OPERATOR_NAMESPACE


def load_kube_config(
    *,
    environ: Mapping[str, str] | None = None,
    context: str | None = None,
    service_account_dir: Path = SERVICE_ACCOUNT_DIR,
) -> KubeConfig:
    """In-cluster when running in a pod (service account), else the kubeconfig; KubeConfigError if none."""
    env = os.environ if environ is None else environ
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    if host and port and (service_account_dir / "token").is_file():
        return in_cluster_config(host, port, service_account_dir=service_account_dir)
    if env.get("KUBECONFIG"):
        paths = [Path(p).expanduser() for p in env["KUBECONFIG"].split(os.pathsep) if p]
    else:
        home = env.get("HOME") or str(Path.home())
        paths = [Path(home) / ".kube" / "config"]
    existing = [p for p in paths if p.is_file()]
    if not existing:
        raise KubeConfigError(
            f"no Kubernetes configuration: not in a pod, and no kubeconfig at"
            f" {', '.join(str(p) for p in paths)}"
        )
    return kubeconfig_from_files(existing, context=context)


def in_cluster_config(host: str, port: str, *, service_account_dir: Path = SERVICE_ACCOUNT_DIR) -> KubeConfig:
    ca = service_account_dir / "ca.crt"
    namespace_file = service_account_dir / "namespace"
    host = f"[{host}]" if ":" in host else host  # IPv6 service addresses
    return KubeConfig(
        server=f"https://{host}:{port}",
        namespace=namespace_file.read_text().strip() if namespace_file.is_file() else None,
        token_file=str(service_account_dir / "token"),
        ca_file=str(ca) if ca.is_file() else None,
        origin="in-cluster",
    )


def kubeconfig_from_files(paths: list[Path], *, context: str | None = None) -> KubeConfig:
    """Merge kubeconfig files as kubectl does (first definition of a name wins) and resolve a context."""
    merged: dict[str, dict[str, tuple[Path, dict[str, Any]]]] = {"clusters": {}, "users": {}, "contexts": {}}
    current: str | None = None
    for path in paths:
        try:
            doc = yaml.safe_load(path.read_bytes().decode("utf-8")) or {}
        except OSError as e:
            raise KubeConfigError(f"cannot read kubeconfig {path}: {type(e).__name__}") from e
        except UnicodeDecodeError as e:
            # Not chained: the error keeps the undecodable bytes (a token, a key).
            error = KubeConfigError(f"cannot read kubeconfig {path}: not UTF-8 text")
            raise dropping_cause(error, e, log) from None
        except RecursionError as e:  # the parser builds nested collections recursively
            raise KubeConfigError(f"cannot read kubeconfig {path}: nested too deeply") from e
        except yaml.YAMLError as e:
            # Not chained: a YAML error quotes the document, tokens and keys and all.
            error = KubeConfigError(f"cannot read kubeconfig {path}: {type(e).__name__}")
            raise dropping_cause(error, e, log) from None
        if not isinstance(doc, dict):
            raise KubeConfigError(f"kubeconfig {path} is not a mapping")
        current = current or _text(doc.get("current-context"), "current-context", str(path)) or None
        for section, entry_key in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            items = doc.get(section) or []
            if not isinstance(items, list):
                raise KubeConfigError(f"{section} in kubeconfig {path} is not a list")
            for item in items:
                if not isinstance(item, dict):
                    raise KubeConfigError(f"an entry of {section} in kubeconfig {path} is not a mapping")
                item_name = str(item.get("name"))
                entry = item.get(entry_key) or {}
                if not isinstance(entry, dict):
                    raise KubeConfigError(
                        f'{entry_key} "{item_name}" in kubeconfig {path} is not a mapping'
                        f" (it is {_kind(entry)})"
                    )
                if item_name not in merged[section]:
                    merged[section][item_name] = (path, entry)
    origin = ", ".join(str(p) for p in paths)
    name = context or current
    if not name:
        raise KubeConfigError(f"kubeconfig {origin} has no current-context")
    if name not in merged["contexts"]:
        raise KubeConfigError(f'context "{name}" not found in kubeconfig {origin}')
    ctx = merged["contexts"][name][1]
    cluster_name = _text(ctx.get("cluster"), f'context "{name}": cluster', origin)
    user_name = _text(ctx.get("user"), f'context "{name}": user', origin)
    if cluster_name not in merged["clusters"]:
        raise KubeConfigError(
            f'cluster "{cluster_name}" of context "{name}" not found in kubeconfig {origin}'
        )
    cluster_path, cluster = merged["clusters"][cluster_name]
    user_path, user = merged["users"].get(user_name, (cluster_path, {})) if user_name else (cluster_path, {})
    if not cluster.get("server"):
        raise KubeConfigError(f'cluster "{cluster_name}" in kubeconfig {origin} has no server')
    if user.get("exec") or user.get("auth-provider"):
        raise KubeConfigError(
            f'user "{user_name}" in kubeconfig {origin} uses an exec or auth-provider'
            " plugin, which aimsource does not support; use a token or a client"
            " certificate"
        )
    insecure = cluster.get("insecure-skip-tls-verify", False)
    if not isinstance(insecure, bool):
        raise KubeConfigError(
            f'insecure-skip-tls-verify of cluster "{cluster_name}" in kubeconfig {origin}'
            " is not true or false"
        )
    return KubeConfig(
        server=str(_text(cluster["server"], f'cluster "{cluster_name}": server', origin)).rstrip("/"),
        namespace=_text(ctx.get("namespace"), f'context "{name}": namespace', origin),
        token=_text(user.get("token"), f'user "{user_name}": token', origin),
        token_file=_path(user_path, user.get("tokenFile")),
        ca_file=_path(cluster_path, cluster.get("certificate-authority")),
        ca_data=_decode(cluster.get("certificate-authority-data"), "certificate-authority-data", origin),
        insecure=insecure,
        client_cert_file=_path(user_path, user.get("client-certificate")),
        client_key_file=_path(user_path, user.get("client-key")),
        client_cert_data=_decode(user.get("client-certificate-data"), "client-certificate-data", origin),
        client_key_data=_decode(user.get("client-key-data"), "client-key-data", origin),
        username=_text(user.get("username"), f'user "{user_name}": username', origin),
        password=_text(user.get("password"), f'user "{user_name}": password', origin),
        origin=origin,
    )


def _text(value: object, what: str, origin: str) -> str | None:
    """A string field (None when absent); anything else is a one-line error naming the field."""
    if value is None or isinstance(value, str):
        return value
    raise KubeConfigError(f"{what} in kubeconfig {origin} is not a string (it is {_kind(value)})")


def _kind(value: object) -> str:
    return {str: "a string", list: "a list", dict: "a mapping", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _path(base: Path, value: object) -> str | None:
    if not value:
        return None
    path = Path(str(value)).expanduser()
    return str(path if path.is_absolute() else base.parent / path)


def _decode(value: object, what: str, origin: str) -> str | None:
    if not value:
        return None
    try:
        return base64.b64decode(str(value), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as e:
        # Not chained: a UnicodeDecodeError keeps the decoded bytes (a client key, a token).
        error = KubeConfigError(f"{what} in kubeconfig {origin} is not valid base64")
        raise dropping_cause(error, e, log) from None
