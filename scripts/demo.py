"""`make demo`: aimsource against a real registry on this machine, no cluster and no internet.

It starts Debian's `docker-registry` on 127.0.0.1 (anonymous, plain HTTP, in-memory storage),
pushes a handful of small AIM-like images, points examples/demo-source.yaml at that registry, runs
`aimsource sync` (models written as manifests into a temporary directory) and `aimsource preview`
(why each tag was or was not picked), prints what they said, and stops the registry.

Exit status: 0 when the sync went through, 2 when something the demo needs is missing (the
`docker-registry` binary, or a CLI that cannot query registries yet), otherwise the CLI's.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `tests.support` holds the registry harness shared with the tests

from tests.support.registry_server import (  # noqa: E402
    RegistryUnavailable,
    RunningRegistry,
    registry_binary,
    start_registry,
)

SOURCE_TEMPLATE = ROOT / "examples" / "demo-source.yaml"
IMAGES: dict[str, tuple[str, ...]] = {
    "amdenterpriseai/aim-qwen-qwen3-32b": ("0.8.3", "0.8.4", "0.8.5", "0.9.0-rc1", "latest"),
    "amdenterpriseai/aim-deepseek-deepseek-r1": ("0.8.4", "0.8.5", "1.0.0", "dev"),
}


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say()
    say(f"== {text}")


def aimsource(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a separate process, as a user would (`python -m aimsource ...`)."""
    return subprocess.run(
        [sys.executable, "-m", "aimsource", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )


def cli_can_query_registries() -> bool:
    """The registry mode of `sync` is there when its help offers `--docker-config`."""
    return "--docker-config" in aimsource("sync", "--help").stdout


def push_images(registry: RunningRegistry) -> None:
    with registry.pusher() as pusher:
        for repository, tags in IMAGES.items():
            image = pusher.push_image(repository, tags)
            say(f"  {registry.host}/{repository}: {', '.join(tags)}  ({image.digest[:19]}...)")


def write_source(registry: RunningRegistry, directory: Path) -> Path:
    text = SOURCE_TEMPLATE.read_text()
    marker = "\n  registry: docker.io\n"
    if marker not in text:
        raise SystemExit(f"demo: {SOURCE_TEMPLATE} no longer has a `registry: docker.io` line to replace")
    path = directory / "demo-source.yaml"
    path.write_text(text.replace(marker, f"\n  registry: {registry.host}\n"))
    return path


def show(result: subprocess.CompletedProcess[str]) -> None:
    for stream in (result.stdout, result.stderr):
        if stream.strip():
            say(stream.rstrip())


def main() -> int:
    if registry_binary() is None:
        say("demo: docker-registry is not installed. On Debian/Ubuntu: sudo apt-get install docker-registry")
        return 2
    if not cli_can_query_registries():
        say(
            "demo: this aimsource cannot query registries yet (`aimsource sync --help` offers no "
            "--docker-config); the demo needs the CLI's registry mode."
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="aimsource-demo-") as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        heading("Starting a local registry (docker-registry, in-memory, 127.0.0.1)")
        try:
            registry = stack.enter_context(start_registry("anonymous", workdir=work / "registry"))
        except RegistryUnavailable as exc:
            say(f"demo: {exc}")
            return 2
        stack.callback(heading, "Stopped the registry")  # runs after the registry stopped
        say(f"  listening on {registry.base_url}")
        heading("Pushing AIM-like images")
        push_images(registry)

        source = write_source(registry, work)
        out = work / "models"
        docker_config = work / "docker-config.json"
        docker_config.write_text('{"auths": {}}')  # the demo registry is anonymous
        heading(f"The source ({SOURCE_TEMPLATE.relative_to(ROOT)}, registry set to {registry.host})")
        text = source.read_text()
        say(text[text.index("apiVersion:") :].rstrip())

        heading(f"aimsource sync {source.name} --out models/")
        synced = aimsource("sync", str(source), "--out", str(out), "--docker-config", str(docker_config))
        show(synced)
        manifests = sorted(out.glob("*.yaml")) if out.is_dir() else []
        heading(f"Created {len(manifests)} model manifests")
        for manifest in manifests:
            say(f"  models/{manifest.name}")
        if manifests:
            heading(f"One of them: models/{manifests[0].name}")
            say(manifests[0].read_text().rstrip())

        heading(f"aimsource preview {source.name}")
        preview = aimsource("preview", str(source), "--docker-config", str(docker_config))
        show(preview)
    if synced.returncode != 0:
        say(f"demo: aimsource sync exited with {synced.returncode}")
        return synced.returncode
    return preview.returncode


if __name__ == "__main__":
    sys.exit(main())
