"""Start and stop a real registry: Debian's `docker-registry` (CNCF distribution 2.8) on loopback.

The client is proven against the real server, not a double. Modes: `anonymous`, `htpasswd` (Basic
auth) and `token` (Bearer challenge pointing at our `TokenServer`), each optionally over TLS with a
throw-away CA. Storage is in memory, so a registry costs one process and a few MB; tests share one
per mode (session fixtures in tests/support/registry_fixtures.py).

Scripts use `start_registry(...)` as a context manager; everything it started (the process, the
token server, the temporary directory) is stopped and removed on exit, also on errors.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from tests.support.images import ImagePusher
from tests.support.serving import LOOPBACK, free_port
from tests.support.tls import (
    CertificateAuthority,
    client_verify,
    make_certificate_authority,
    make_signing_key,
)
from tests.support.token_server import TokenPolicy, TokenServer

Mode = Literal["anonymous", "htpasswd", "token"]
REGISTRY_BINARY = "docker-registry"
DEFAULT_USERNAME = "aim-robot"
SERVICE = "aimsource-test-registry"


class RegistryUnavailable(RuntimeError):
    """`docker-registry` is missing or did not come up; the message says which and shows its log."""


@dataclass(frozen=True)
class RunningRegistry:
    """A registry process that answers on `host`, and everything a client needs to reach it."""

    mode: Mode
    host: str
    """`127.0.0.1:PORT`, as written in an image reference."""
    scheme: str
    """`http` or `https`."""
    ca_file: Path | None
    """The CA bundle to verify the registry (and the token server) with; None without TLS."""
    username: str | None
    password: str | None = field(repr=False)
    """Credentials that work in htpasswd and token modes (None in anonymous mode)."""
    token_server: TokenServer | None
    """The realm of the Bearer challenge (token mode only): request log, policy, `realm`."""
    log_path: Path
    """The registry's combined stdout/stderr."""
    pid: int

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What to pass as httpx's `verify=` to reach this registry (a context trusting `ca_file`)."""
        return client_verify(self.ca_file)

    def auth(self) -> httpx.BasicAuth | None:
        """Basic credentials for httpx (htpasswd mode), None otherwise."""
        if self.username is None or self.password is None:
            return None
        return httpx.BasicAuth(self.username, self.password)

    def pusher(self) -> ImagePusher:
        """An `ImagePusher` that already knows this registry's address, CA and credentials."""
        return ImagePusher(
            self.base_url, username=self.username, password=self.password, ca_file=self.ca_file
        )

    def docker_config(self) -> dict[str, Any]:
        """A `.dockerconfigjson` document with this registry's credentials (no `auths` when anonymous)."""
        if self.username is None or self.password is None:
            return {"auths": {}}
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {"auths": {self.host: {"auth": token}}}

    def secret_strings(self) -> tuple[str, ...]:
        """Forms of the credentials that must never show up in a log, status, event or error message:
        the password and the base64 `user:password` of a Basic header (empty when anonymous)."""
        if self.username is None or self.password is None:
            return ()
        return (self.password, base64.b64encode(f"{self.username}:{self.password}".encode()).decode())

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def registry_binary() -> str | None:
    """Path of `docker-registry`, or None when it is not installed."""
    return shutil.which(REGISTRY_BINARY) or (
        "/usr/bin/docker-registry" if os.path.exists("/usr/bin/docker-registry") else None
    )


def _htpasswd_line(username: str, password: str) -> str:
    """A bcrypt htpasswd line (distribution accepts only bcrypt)."""
    result = subprocess.run(
        ["htpasswd", "-Bbn", username, password], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RegistryUnavailable(f"htpasswd failed (is apache2-utils installed?): {result.stderr.strip()}")
    return result.stdout.strip() + "\n"


def _config(
    *,
    port: int,
    workdir: Path,
    mode: Mode,
    tls: CertificateAuthority | None,
    username: str | None,
    password: str | None,
    token_server: TokenServer | None,
    root_bundle: Path | None,
    storage_dir: Path | None = None,
    notify_url: str | None = None,
) -> dict[str, Any]:
    http: dict[str, Any] = {"addr": f"{LOOPBACK}:{port}", "secret": secrets.token_hex(16)}
    if tls is not None:
        http["tls"] = {"certificate": str(tls.cert_file), "key": str(tls.key_file)}
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
        "storage": {
            **({"filesystem": {"rootdirectory": str(storage_dir)}} if storage_dir else {"inmemory": {}}),
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": http,
    }
    if notify_url is not None:
        config["notifications"] = notifications(notify_url)
    if mode == "htpasswd":
        assert username is not None
        assert password is not None
        htpasswd = workdir / "htpasswd"
        htpasswd.write_text(_htpasswd_line(username, password))
        config["auth"] = {"htpasswd": {"realm": "aimsource-test-basic", "path": str(htpasswd)}}
    elif mode == "token":
        assert token_server is not None
        assert root_bundle is not None
        config["auth"] = {
            "token": {
                "realm": token_server.realm,
                "service": token_server.service,
                "issuer": token_server.issuer,
                "rootcertbundle": str(root_bundle),
            }
        }
    return config


def notifications(url: str) -> dict[str, Any]:
    """distribution's `notifications` section: one endpoint, pushes of manifests only (pulls and
    blob uploads are not sent), retried quickly, as docs/webhooks.md recommends."""
    return {
        "endpoints": [
            {
                "name": "aimsource",
                "url": url,
                "timeout": "2s",
                "threshold": 3,
                "backoff": "500ms",
                "ignore": {
                    "actions": ["pull"],
                    "mediatypes": [
                        "application/octet-stream",
                        "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        "application/vnd.docker.container.image.v1+json",
                        "application/vnd.oci.image.layer.v1.tar+gzip",
                        "application/vnd.oci.image.config.v1+json",
                    ],
                },
            }
        ]
    }


def _wait_ready(
    base_url: str, verify: ssl.SSLContext | bool, process: subprocess.Popen[bytes], log_path: Path
) -> None:
    deadline = time.monotonic() + 15
    with httpx.Client(verify=verify, timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RegistryUnavailable(
                    f"docker-registry exited with {process.returncode}:\n{log_path.read_text()[-2000:]}"
                )
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{base_url}/v2/").status_code in (200, 401):
                    return
            time.sleep(0.05)
    raise RegistryUnavailable(
        f"docker-registry did not answer /v2/ within 15 s:\n{log_path.read_text()[-2000:]}"
    )


def _die_with_parent() -> list[str]:
    """A command prefix that makes the registry get SIGTERM if the process (strictly: the thread)
    that started it dies without cleaning up (a test run killed with SIGKILL), so no registry
    outlives its test session. util-linux's `setpriv`; nothing when it is missing."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM"] if setpriv else []


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def start_registry(
    mode: Mode = "anonymous",
    *,
    tls: bool | CertificateAuthority = False,
    workdir: Path | None = None,
    username: str = DEFAULT_USERNAME,
    password: str | None = None,
    token_policy: TokenPolicy | None = None,
    token_hostname: str = LOOPBACK,
    storage_dir: Path | None = None,
    notify_url: str | None = None,
    port: int | None = None,
) -> Iterator[RunningRegistry]:
    """Run a registry (and, in token mode, its token server) until the `with` block ends.

    `tls=True` makes a fresh CA; pass a `CertificateAuthority` to share one between servers.
    `password` defaults to a random secret (so tests can grep logs for it). `token_policy` replaces
    the token server's policy; its `users` get `username`/`password` added. `token_hostname="localhost"`
    puts the realm on another host name than the registry's `127.0.0.1`. `storage_dir` keeps the
    images on disk there (reused by the next registry given the same directory) instead of in memory.
    `notify_url` makes the registry send its push notifications (distribution's `notifications`
    endpoints) to that URL. `port` listens there (a registry restarted where it was: pass the
    `port` of `host` and the same `storage_dir`) instead of on a free port.
    """
    binary = registry_binary()
    if binary is None:
        raise RegistryUnavailable(
            "docker-registry is not installed: `apt-get install docker-registry` (CNCF distribution 2.8)"
        )
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aimsource-registry-")))
        workdir.mkdir(parents=True, exist_ok=True)
        authority: CertificateAuthority | None
        if isinstance(tls, CertificateAuthority):
            authority = tls
        else:
            authority = make_certificate_authority(workdir / "tls") if tls else None
        user = username if mode != "anonymous" else None
        secret = (password or secrets.token_urlsafe(18)) if mode != "anonymous" else None

        token_server: TokenServer | None = None
        root_bundle: Path | None = None
        if mode == "token":
            assert user is not None
            assert secret is not None
            signing_key = make_signing_key(workdir / "token")
            root_bundle = signing_key.cert_file
            policy = token_policy or TokenPolicy()
            policy.users.setdefault(user, secret)
            token_server = TokenServer(
                signing_key=signing_key,
                service=SERVICE,
                policy=policy,
                tls=authority,
                hostname=token_hostname,
            )
            token_server.start()
            stack.callback(token_server.stop)

        for attempt in range(3):
            port_now = port if port is not None else free_port()
            config_path = workdir / "config.yml"
            config = _config(
                port=port_now,
                workdir=workdir,
                mode=mode,
                tls=authority,
                username=user,
                password=secret,
                token_server=token_server,
                root_bundle=root_bundle,
                storage_dir=storage_dir,
                notify_url=notify_url,
            )
            config_path.write_text(json.dumps(config, indent=2))  # JSON is YAML
            log_path = workdir / f"registry-{attempt}.log"
            log = stack.enter_context(log_path.open("wb"))
            env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
            process = subprocess.Popen(
                [*_die_with_parent(), binary, "serve", str(config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
            stack.callback(_stop_process, process)
            scheme = "https" if authority else "http"
            try:
                _wait_ready(
                    f"{scheme}://{LOOPBACK}:{port_now}",
                    client_verify(authority.ca_file if authority else None),
                    process,
                    log_path,
                )
            except RegistryUnavailable:
                _stop_process(process)
                if attempt == 2 or "address already in use" not in log_path.read_text():
                    raise
                if port is not None:
                    time.sleep(1.0)  # the same port: wait for the old process's socket to go
                continue
            break
        yield RunningRegistry(
            mode=mode,
            host=f"{LOOPBACK}:{port_now}",
            scheme=scheme,
            ca_file=authority.ca_file if authority else None,
            username=user,
            password=secret,
            token_server=token_server,
            log_path=log_path,
            pid=process.pid,
        )
