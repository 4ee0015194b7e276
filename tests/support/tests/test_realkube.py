"""scripts/kube-testbed itself: stops every child on SIGTERM and when its parent dies; clear build errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cuttable import cuttable_path
from tests.support.realkube import SCRIPT, RealKube


def processes_mentioning(text: str) -> list[int]:
    """Pids of the live processes whose command line contains `text` (the testbed's directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def start(directory: Path, *, via_shell: bool = False) -> subprocess.Popen[str]:
    command = [sys.executable, str(SCRIPT), str(directory)]
    if via_shell:  # a parent (sh) that we can kill while the testbed runs under it
        command = ["sh", "-c", f'"{sys.executable}" "{SCRIPT}" "{directory}"; exit 0']
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def wait_for_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "ready":
            return
    raise AssertionError(f"the testbed exited with {proc.wait()} before printing ready")


def wait_gone(directory: Path, limit: float = 30) -> list[int]:
    deadline = time.monotonic() + limit
    while (left := processes_mentioning(str(directory))) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.mark.timeout(300)
def test_sigterm_stops_every_process(real_kube: RealKube, tmp_path: Path) -> None:
    """A second control plane (binaries already built by the session's), stopped with SIGTERM."""
    directory = tmp_path / "tb"
    proc = start(directory)
    try:
        wait_for_ready(proc)
        assert (directory / "kubeconfig").is_file()
        children = processes_mentioning(str(directory))
        assert len(children) >= 3, children  # etcd, kube-apiserver, kube-controller-manager (+ itself)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert wait_gone(directory) == []
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


@pytest.mark.timeout(300)
def test_dying_parent_takes_the_control_plane_with_it(real_kube: RealKube, tmp_path: Path) -> None:
    directory = tmp_path / "tb"
    shell = start(directory, via_shell=True)
    try:
        wait_for_ready(shell)
        assert len(processes_mentioning(str(directory))) >= 4
        os.kill(shell.pid, signal.SIGKILL)  # the testbed's parent dies without a word
        shell.wait()
        assert wait_gone(directory) == []
    finally:
        for pid in processes_mentioning(str(directory)):
            os.kill(pid, signal.SIGKILL)
        assert shell.stdout is not None
        shell.stdout.close()


def test_missing_go_is_one_clear_line(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "KUBE_TESTBED_GO": str(tmp_path / "no-go" / "go"),
    }
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--build"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    missing = tmp_path / "no-go" / "go"
    assert result.stderr.strip().splitlines() == [
        f"kube-testbed: Go is not installed ({missing} not found; the testbed is built with Go 1.26)"
    ]


def _readyz(connection: socket.socket) -> bytes:
    """The first bytes of the answer to GET /readyz on `connection`; b"" when it is closed or reset."""
    try:
        connection.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
        return connection.recv(4096)
    except OSError:
        return b""


def test_a_cut_path_resets_and_refuses_then_serves_again_on_its_port(real_kube: RealKube) -> None:
    host, port = real_kube.server.removeprefix("https://").rsplit(":", 1)
    with cuttable_path(host, int(port)) as path:

        def connect() -> socket.socket:
            plain = socket.create_connection((host, path.port), timeout=5)
            return real_kube._context.wrap_socket(plain, server_hostname=host)

        with connect() as before:
            assert _readyz(before).startswith(b"HTTP/1.1 200")
            path.cut()
            assert _readyz(before) == b""  # the open connection is reset
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((host, path.port), timeout=5)
        path.restore()
        with connect() as after:
            assert _readyz(after).startswith(b"HTTP/1.1 200")
