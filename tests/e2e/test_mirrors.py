"""An air-gapped cluster end to end: `aimsource run` started with deploy/'s arguments and deploy/'s
registries file, a source naming Docker Hub served by local mirrors (real docker-registry processes
behind recording fronts), `fallback: false` so that nothing ever leaves for docker.io, and a change
of the file picked up without a restart.

The registries file is the one of deploy/'s ConfigMap `aimsource-registries`, with entries added
as a user would, written where deploy/'s `--registries` argument points (remapped to a scratch
directory: the pod's mount exists only in a pod).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from tests.deploy.manifests import DEPLOY, one, render
from tests.e2e.cluster import Cluster
from tests.e2e.operator_process import running_operator
from tests.e2e.scenario import REQUEST_ANNOTATION, SOURCES, models_of, source, wait_synced, webhook
from tests.support.faults import FaultFront
from tests.support.registry_server import RunningRegistry
from tests.support.serving import free_port

FrontMaker = Callable[[RunningRegistry], FaultFront]


def deploy_arguments(registries_dir: Path) -> tuple[list[str], Path]:
    """deploy/'s container arguments after `run`, with its registries path moved into
    `registries_dir`; and that path, holding the ConfigMap's file as deploy/ ships it."""
    objects = render(DEPLOY)
    (container,) = one(objects, "Deployment", "aimsource")["spec"]["template"]["spec"]["containers"]
    args = list(container["args"])
    assert args[0] == "run"
    shipped = Path(args[args.index("--registries") + 1])
    path = registries_dir / shipped.name
    path.write_text(one(objects, "ConfigMap", "aimsource-registries")["data"][shipped.name])
    return [str(path) if a == str(shipped) else a for a in args[1:]], path


def mirrored(path: Path, *urls: str) -> None:
    """Add an entry as a user edits the ConfigMap: docker.io at these mirrors, never docker.io."""
    document = yaml.safe_load(path.read_text())
    document["registries"] = {"docker.io": {"mirrors": list(urls), "fallback": False}}
    path.write_text(yaml.safe_dump(document))


def test_a_docker_hub_source_is_served_by_the_mirrors_of_the_registries_file(
    cluster: Cluster,
    kubeconfig: Path,
    tmp_path: Path,
    unique: str,
    anonymous_registry: RunningRegistry,
    make_fault_front: FrontMaker,
) -> None:
    repository = f"e2e/{unique}"
    with anonymous_registry.pusher() as pusher:
        pusher.push_image(repository, ["1.0.0", "1.1.0"])
    first, second = make_fault_front(anonymous_registry), make_fault_front(anonymous_registry)
    dead = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "registries").mkdir()
    args, path = deploy_arguments(tmp_path / "registries")
    assert yaml.safe_load(path.read_text()) == {"registries": {}}  # deploy/ ships it empty
    mirrored(path, dead, first.base_url)

    with running_operator(kubeconfig, tmp_path, extra=args) as op:
        cluster.create(SOURCES, source(unique, images=[repository], interval="24h", max_models=10))
        st = wait_synced(cluster, op, unique, state="Ready", timeout=60)
        [selector] = st["selectors"]
        assert selector["endpoint"] == first.base_url  # the first mirror is down: the second served
        # Models keep Docker Hub's names: nodes pull them through their own mirror configuration.
        assert sorted(models_of(cluster, unique).values()) == [f"{repository}:1.0.0", f"{repository}:1.1.0"]
        assert first.log.count(path=f"/v2/{repository}/tags/list") == 1
        assert (
            op.metric(
                "aimsource_registry_mirror_calls_total", registry="docker.io", endpoint=dead, outcome="failed"
            )
            >= 1
        )
        assert op.metric("aimsource_registry_requests_total", host="registry-1.docker.io") == 0

        # The file changes (a ConfigMap edit): the next sync goes to the new mirror, no restart.
        mirrored(path, second.base_url)
        op.wait(
            lambda: op.metric("aimsource_registries_reloads_total", result="applied") >= 2,
            timeout=20,
            message="the changed registries file applied",
        )
        cluster.patch(SOURCES, unique, {"metadata": {"annotations": {REQUEST_ANNOTATION: "mirror-changed"}}})
        st = wait_synced(cluster, op, unique, state="Ready", after=st["lastSyncTime"], timeout=60)
        assert st["selectors"][0]["endpoint"] == second.base_url
        assert second.log.count(path=f"/v2/{repository}/tags/list") == 1

        # A bad change keeps the last good file, logged once, and shows in the metrics.
        path.write_text(path.read_text() + "    mirors: []\n")
        op.wait(
            lambda: op.metric("aimsource_registries_file_valid") == 0,
            timeout=20,
            message="the bad registries file rejected",
        )
        rejected = [
            r for r in op.log_records() if "registries file change not applied" in str(r.get("message"))
        ]
        assert len(rejected) == 1
        assert "mirors: unknown key" in str(rejected[0]["message"])
        assert op.running


def test_a_push_notified_by_a_mirror_counts_for_docker_hub(
    cluster: Cluster, kubeconfig: Path, tmp_path: Path, unique: str
) -> None:
    """The company registry that receives the mirrored images notifies its pushes (distribution's
    notifications naming its own host): sources naming docker.io react at once, with one HEAD at the
    mirror and no listing."""
    import time

    from tests.support.registry_server import start_registry

    token, port = webhook(cluster)
    (tmp_path / "registries").mkdir()
    args, path = deploy_arguments(tmp_path / "registries")
    repository = f"e2e/{unique}"
    with start_registry(notify_url=f"http://127.0.0.1:{port}/hooks/distribution/{token}") as mirror:
        mirrored(path, f"http://{mirror.host}")
        with mirror.pusher() as pusher:
            pusher.push_image(repository, ["1.0.0"])
        with running_operator(kubeconfig, tmp_path, extra=(*args, "--webhook-port", str(port))) as op:
            cluster.create(SOURCES, source(unique, images=[repository], interval="24h", max_models=10))
            first = wait_synced(cluster, op, unique, state="Ready", timeout=60)
            assert first["selectors"][0]["endpoint"] == f"http://{mirror.host}"
            listings = op.metric("aimsource_registry_requests_total", host=mirror.host, code="200")

            pushed_at = time.monotonic()
            with mirror.pusher() as pusher:
                pusher.push_image(repository, ["1.1.0"])
            op.wait(
                lambda: len(models_of(cluster, unique)) == 2, timeout=30, message="the pushed tag's model"
            )
            assert time.monotonic() - pushed_at < 30  # seconds in practice; room for a loaded machine
            assert sorted(models_of(cluster, unique).values()) == [
                f"{repository}:1.0.0",
                f"{repository}:1.1.0",
            ]
            assert op.metric("aimsource_push_syncs_total", result="created") == 1
            # One HEAD at the mirror for the pushed tag, no listing.
            assert (
                op.metric("aimsource_registry_requests_total", host=mirror.host, code="200") - listings == 1
            )
            assert cluster.get(SOURCES, unique)["status"]["lastSyncTime"] == first["lastSyncTime"]
