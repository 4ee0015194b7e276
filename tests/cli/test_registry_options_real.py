"""`aimsource preview` and `sync` against real registries, with --docker-config for credentials.

The CLI runs as its own process, as a user runs it, so what reaches the registry, stdout and stderr
is exactly what a person would see.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.registry_server import RunningRegistry


def source_file(tmp_path: Path, registry: RunningRegistry, *images: str, name: str = "cli") -> Path:
    path = tmp_path / "source.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "aim.eai.amd.com/v1alpha1",
                "kind": "AIMClusterModelSource",
                "metadata": {"name": name, "uid": "0b7c9a51-0000-4000-8000-000000000001"},
                "spec": {"registry": registry.host, "images": list(images), "versions": [">=0.8.4"]},
            }
        )
    )
    return path


def aimsource(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    # HOME points at an empty directory so that no personal docker config is picked up.
    return subprocess.run(
        [sys.executable, "-m", "aimsource", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
    )


def test_sync_with_docker_config_creates_models_from_a_basic_auth_registry(tmp_path, htpasswd_registry):
    registry = htpasswd_registry
    config = tmp_path / "config.json"
    config.write_text(json.dumps(registry.docker_config()))
    src = source_file(tmp_path, registry, "amdenterpriseai/aim-qwen-qwen3-32b")
    out = tmp_path / "models"
    proc = aimsource(
        "sync", str(src), "--out", str(out), "--docker-config", str(config), "-o", "json", home=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)["cli"]
    assert status["status"] == "Ready"
    images = sorted(yaml.safe_load(p.read_text())["spec"]["image"] for p in out.iterdir())
    assert images == [
        f"{registry.host}/amdenterpriseai/aim-qwen-qwen3-32b:{t}" for t in ("0.8.4", "0.8.5", "0.9.0-rc1")
    ]
    digests = {
        yaml.safe_load(p.read_text())["metadata"]["annotations"]["aim.eai.amd.com/source-digest"]
        for p in out.iterdir()
    }
    assert all(d.startswith("sha256:") for d in digests)
    for secret in registry.secret_strings():
        assert secret not in proc.stdout + proc.stderr
        assert all(secret not in p.read_text() for p in out.iterdir())


def test_without_credentials_the_source_fails_with_authentication_failed(tmp_path, htpasswd_registry):
    src = source_file(tmp_path, htpasswd_registry, "amdenterpriseai/aim-qwen-qwen3-32b")
    proc = aimsource("preview", str(src), "-o", "json", home=tmp_path)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["status"]["status"] == "Failed"
    assert doc["status"]["selectors"][0]["error"]["reason"] == "AuthenticationFailed"
    assert doc["models"] == []


def test_token_registry_private_repository_needs_the_docker_config(tmp_path, token_registry):
    registry = token_registry
    src = source_file(
        tmp_path, registry, "private/aim-secret-model:1.0.0", "amdenterpriseai/aim-deepseek-deepseek-r1"
    )
    anonymous = aimsource("preview", str(src), "-o", "json", home=tmp_path)
    doc = json.loads(anonymous.stdout)
    assert doc["status"]["status"] == "Degraded", anonymous.stderr
    assert doc["status"]["selectors"][0]["error"]["reason"] in {"AuthenticationFailed", "RepositoryNotFound"}
    config = tmp_path / "config.json"
    config.write_text(json.dumps(registry.docker_config()))
    authed = aimsource("preview", str(src), "-o", "json", "--docker-config", str(config), home=tmp_path)
    doc = json.loads(authed.stdout)
    assert doc["status"]["status"] == "Ready", authed.stderr
    assert f"{registry.host}/private/aim-secret-model:1.0.0" in [m["image"] for m in doc["models"]]


def test_a_missing_docker_config_given_explicitly_is_one_line(tmp_path, anonymous_registry):
    src = source_file(tmp_path, anonymous_registry, "amdenterpriseai/aim-qwen-qwen3-32b")
    proc = aimsource("preview", str(src), "--docker-config", str(tmp_path / "nope.json"), home=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "nope.json" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_pinned_tag_pushed_again_is_reported_moved_and_its_model_kept(tmp_path, anonymous_registry):
    """The real registry serves a new manifest under the same tag: the next sync's HEAD sees the
    new digest, the status lists the move, and the model file stays exactly as written."""
    registry = anonymous_registry
    repository = "moved/aim-model"
    with registry.pusher() as pusher:
        first = pusher.push_image(repository, "1.0.0", labels={"build": "one"})
    src = source_file(tmp_path, registry, f"{repository}:1.0.0")
    out = tmp_path / "models"
    proc = aimsource("sync", str(src), "--out", str(out), "-o", "json", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "moved" not in json.loads(proc.stdout)["cli"]["selectors"][0]
    (model_file,) = out.iterdir()
    written = model_file.read_text()
    assert yaml.safe_load(written)["metadata"]["annotations"]["aim.eai.amd.com/source-digest"] == first.digest

    with registry.pusher() as pusher:
        second = pusher.push_image(repository, "1.0.0", labels={"build": "two"})
    assert second.digest != first.digest
    proc = aimsource("sync", str(src), "--out", str(out), "-o", "json", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)["cli"]
    assert status["status"] == "Ready"
    assert status["selectors"][0]["moved"] == [
        {
            "model": model_file.stem,
            "image": f"{registry.host}/{repository}:1.0.0",
            "recordedDigest": first.digest,
            "currentDigest": second.digest,
        }
    ]
    assert [p.name for p in out.iterdir()] == [model_file.name]
    assert model_file.read_text() == written  # append-only: the model is never changed


def test_preview_shows_the_rate_limits_a_registry_announces(tmp_path, big_registry, make_paginating_front):
    """Docker Hub's `ratelimit-limit` / `ratelimit-remaining`, sent here by a front before a real
    registry, appear in the JSON (`registries`) and in the table's footer, under the registry's name."""
    front = make_paginating_front(big_registry, page_size=100, ratelimit_limit=100)
    src = tmp_path / "source.yaml"
    src.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "aim.eai.amd.com/v1alpha1",
                "kind": "AIMClusterModelSource",
                "metadata": {"name": "cli"},
                "spec": {
                    "registry": front.host,
                    "images": ["amdenterpriseai/aim-many-tags"],
                    "versions": [">=0.9.98"],
                },
            }
        )
    )
    proc = aimsource("preview", str(src), "-o", "json", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    requests = len(front.log.requests)
    assert doc["registries"] == [
        {"registry": front.host, "ratelimitLimit": 100, "ratelimitRemaining": 100 - requests}
    ]
    table = aimsource("preview", str(src), home=tmp_path)
    assert table.returncode == 0, table.stderr
    made = len(front.log.requests) - requests  # the cost line counts this preview's requests
    assert f"Registry requests: {made}. A first sync makes the listings plus " in table.stdout
    footer = table.stdout.split("Registry rate limits:\n", 1)[1]
    left = 100 - len(front.log.requests)
    assert footer.strip() == f"{front.host}: {left} of 100 requests left in the registry's rate-limit window"


def test_preview_and_sync_read_docker_io_at_the_mirror_of_a_registries_file(tmp_path, htpasswd_registry):
    """`--registries` (and `$AIMSOURCE_REGISTRIES`): a source naming docker.io, listed at a local
    mirror with the mirror's own credentials from --docker-config; models keep docker.io names."""
    registry = htpasswd_registry
    config = tmp_path / "config.json"
    config.write_text(json.dumps(registry.docker_config()))  # keyed by the mirror's host
    registries = tmp_path / "registries.yaml"
    registries.write_text(
        f"registries:\n  docker.io:\n    mirrors: [http://{registry.host}]\n    fallback: false\n"
    )
    src = tmp_path / "source.yaml"
    src.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "aim.eai.amd.com/v1alpha1",
                "kind": "AIMClusterModelSource",
                "metadata": {"name": "hub", "uid": "0b7c9a51-0000-4000-8000-000000000002"},
                "spec": {"images": ["amdenterpriseai/aim-qwen-qwen3-32b"], "versions": [">=0.8.5"]},
            }
        )
    )
    preview = aimsource(
        "preview", str(src), "--registries", str(registries), "--docker-config", str(config), home=tmp_path
    )
    assert preview.returncode == 0, preview.stderr
    assert "SERVED BY" in preview.stdout
    assert f"http://{registry.host}" in preview.stdout
    out = tmp_path / "models"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "aimsource",
            "sync",
            str(src),
            "--out",
            str(out),
            "--docker-config",
            str(config),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "AIMSOURCE_REGISTRIES": str(registries)},
    )
    assert proc.returncode == 0, proc.stderr
    [selector] = json.loads(proc.stdout)["hub"]["selectors"]
    assert selector["endpoint"] == f"http://{registry.host}"
    images = sorted(yaml.safe_load(p.read_text())["spec"]["image"] for p in out.iterdir())
    assert images == [
        "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
        "amdenterpriseai/aim-qwen-qwen3-32b:0.9.0-rc1",
    ]


def test_a_bad_registries_file_is_one_line_before_any_request(tmp_path, anonymous_registry):
    registries = tmp_path / "registries.yaml"
    registries.write_text("registries:\n  docker.io:\n    mirrors: [ftp://nope]\n")
    src = source_file(tmp_path, anonymous_registry, "amdenterpriseai/aim-qwen-qwen3-32b")
    proc = aimsource("preview", str(src), "--registries", str(registries), home=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f'aimsource preview: {registries}:3: registries.docker.io.mirrors[0]: "ftp://nope" must start with '
        "https:// (or http:// for plain HTTP)"
    ]
