"""`aimsource check`: what a person (or CI) sees for valid manifests, bad ones and unreadable files."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from aimsource.cli import main
from tests.crds import seed_examples

HEAD = "apiVersion: aim.eai.amd.com/v1alpha1\nkind: AIMClusterModelSource\n"
VALID = HEAD + "metadata:\n  name: good\nspec:\n  images:\n    - org/model:1.0.0\n"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], list[str]]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


@pytest.mark.parametrize("name", seed_examples.MANIFESTS, ids=str)
def test_every_documented_manifest_is_ok(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, f"{name}.yaml", seed_examples.MANIFESTS[name])
    code, out, err = check(capsys, path)
    (source,) = seed_examples.sources(name, seed_examples.MANIFESTS[name])
    assert (code, err) == (0, [])
    (line,) = out  # the Secret of the private-registry examples is skipped, not reported
    assert line.startswith(f"{path}: document ")
    assert f"({source['metadata']['name']}): ok (" in line


def test_ok_line_summarises_the_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "s.yaml", VALID + "  syncInterval: 2h30m\n  maxModels: 5\n")
    assert check(capsys, path) == (
        0,
        [f"{path}: document 1 (good): ok (1 image, registry docker.io, sync every 2h30m, maxModels 5)"],
        [],
    )


BAD: dict[str, tuple[str, str]] = {
    "both-images-and-filters": (
        "  filters:\n    - image: org/other\n",
        "spec: exactly one of spec.images or spec.filters must be set (both are set)",
    ),
    "max-models-out-of-range": ("  maxModels: 0\n", "spec.maxModels: must be between 1 and 10000 (is 0)"),
    "bad-sync-interval": (
        "  syncInterval: 1d\n",
        'spec.syncInterval: "1d" is not a duration: write a number and a unit (ns, us, ms, s, m, h), '
        "like 15m, 1h or 2h30m",
    ),
    "bad-global-constraint": (
        '  versions: ["~>1.2"]\n',
        'spec.versions[0]: invalid version constraint "~>1.2"',
    ),
    "misspelt-field": ("  syncinterval: 30m\n", "spec.syncinterval: unknown field"),
    "pull-secret-path": (
        "  imagePullSecrets:\n    - name: ../../kube-system/secrets/regcred\n",
        "spec.imagePullSecrets[0].name: '../../kube-system/secrets/regcred' is not a valid Secret name "
        "(a DNS-1123 subdomain",
    ),
}


@pytest.mark.parametrize(("extra", "expected"), BAD.values(), ids=BAD.keys())
def test_problem_line_names_file_document_field_and_reason(
    extra: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "s.yaml", VALID + extra)
    code, out, err = check(capsys, path)
    assert (code, err) == (1, [])
    (line,) = out
    assert line.startswith(f"{path}: document 1 (good): {expected}")


def test_a_wildcard_filter_is_checked_by_the_pattern_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = HEAD + "metadata:\n  name: wild\nspec:\n  filters:\n    - image: org/ok\n    - image: org/aim-*\n"
    code, out, _ = check(capsys, write(tmp_path, "good.yaml", good))
    assert code == 0, out
    bad = HEAD + "metadata:\n  name: wild\nspec:\n  filters:\n    - image: org/aim-*:0.8.5\n"
    path = write(tmp_path, "bad.yaml", bad)
    code, out, _ = check(capsys, path)
    assert code == 1
    assert out == [
        f'{path}: document 1 (wild): spec.filters[0].image: invalid image pattern "org/aim-*:0.8.5": '
        'a pattern cannot carry a tag; drop ":0.8.5" and write versions: ["0.8.5"] to select that version in '
        "every matched repository"
    ]


def test_a_wildcard_in_images_is_reported_with_the_documented_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = HEAD + "metadata:\n  name: wild\nspec:\n  images:\n    - org/aim-*\n"
    path = write(tmp_path, "s.yaml", text)
    code, out, _ = check(capsys, path)
    assert code == 1
    assert out == [
        f'{path}: document 1 (wild): spec.images[0]: image reference "org/aim-*": '
        "Wildcard syntax (*) is supported only in filters[].image; list images explicitly, or write a filter"
    ]


def test_each_document_is_reported_on_its_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = HEAD + "metadata:\n  name: bad\nspec:\n  images: []\n  filters:\n    - versions: ['>=1']\n"
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n"
    path = write(tmp_path, "multi.yaml", "\n---\n".join([VALID, secret, bad]) + "\n---\n")
    code, out, _ = check(capsys, path)
    assert code == 1
    assert out == [
        f"{path}: document 1 (good): ok (1 image, registry docker.io, sync every 1h, maxModels 100)",
        f"{path}: document 3 (bad): spec.images: must have at least 1 item",
        f"{path}: document 3 (bad): spec.filters[0].image: required",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n",
            "{path}: no AIMClusterModelSource documents",
        ),
        (
            "- just\n- a list\n",
            "{path}: document 1: not a Kubernetes object (a mapping with apiVersion and kind)",
        ),
        ("metadata:\n  name: x\nspec: {}\n", "{path}: document 1 (x): kind: required"),
        (
            "apiVersion: aim.eai.amd.com/v1\nkind: AIMClusterModelSource\nmetadata:\n  name: v\n"
            "spec:\n  images: [org/m:1]\n",
            "{path}: document 1 (v): apiVersion: must be aim.eai.amd.com/v1alpha1, not 'aim.eai.amd.com/v1'",
        ),
        (HEAD + "spec:\n  images: [org/m:1]\n", "{path}: document 1: metadata.name: required"),
    ],
    ids=["only-a-secret", "not-an-object", "no-kind", "wrong-api-version", "no-name"],
)
def test_files_that_hold_no_valid_source(
    text: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "s.yaml", text)
    assert check(capsys, path) == (1, [expected.format(path=path)], [])


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: str(tmp / "missing.yaml"), "cannot read: No such file or directory"),
        (lambda tmp: str(tmp), "cannot read: not a regular file (a directory)"),
        (lambda tmp: write(tmp, "bad.yaml", "spec:\n  images: [a\n"), "not valid YAML at line 3, column 1: "),
        (
            lambda tmp: write(tmp, "tabs.yaml", "spec:\n\timages: []\n"),
            "not valid YAML at line 2, column 1: ",
        ),
        (lambda tmp: write(tmp, "tag.yaml", "a: !!python/object:os.system {}\n"), "not valid YAML at line 1"),
        # What is wrong is named (libyaml's own messages leave out the alias and the character)
        (
            lambda tmp: write(tmp, "alias.yaml", "spec:\n  registry: *nope\n"),
            "not valid YAML at line 2, column 13: found undefined alias 'nope'",
        ),
        (
            lambda tmp: write(tmp, "escape.yaml", 'spec:\n  registry: "a\\q"\n'),
            "not valid YAML at line 2, column 16: found unknown escape character 'q'",
        ),
        (
            lambda tmp: write(tmp, "deep.yaml", "spec: " + "[" * 50_000 + "]" * 50_000 + "\n"),
            "not readable YAML: nested too deeply",
        ),
    ],
    ids=[
        "missing",
        "directory",
        "unclosed-list",
        "tab-indent",
        "unsafe-tag",
        "undefined-alias",
        "bad-escape",
        "nested-too-deeply",
    ],
)
def test_unreadable_file_is_one_line_on_stderr_and_exit_2(
    make: Callable[[Path], str], reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make(tmp_path)
    code, out, err = check(capsys, path)
    assert (code, out) == (2, [])
    (line,) = err
    assert line.startswith(f"aimsource check: {path}: {reason}")


def test_non_utf8_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"metadata:\n  name: caf\xe9\n")
    assert check(capsys, str(path)) == (2, [], [f"aimsource check: {path}: cannot read: not UTF-8 text"])


def test_other_files_are_still_checked_after_an_unreadable_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path, "good.yaml", VALID)
    bad = write(tmp_path, "bad.yaml", VALID + "  maxModels: 0\n")
    code, out, err = check(capsys, str(tmp_path / "missing.yaml"), good, bad)
    assert code == 2
    assert [line.split(": ")[0] for line in out] == [good, bad]
    assert len(err) == 1


def test_reads_stdin_for_dash(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(VALID + "  maxModels: 10001\n"))
    assert check(capsys, "-") == (
        1,
        ["<stdin>: document 1 (good): spec.maxModels: must be between 1 and 10000 (is 10001)"],
        [],
    )


def test_quiet_prints_problems_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "good.yaml", VALID)
    assert check(capsys, "--quiet", good) == (0, [], [])
    bad = write(tmp_path, "bad.yaml", VALID + "  maxModels: 0\n")
    code, out, _ = check(capsys, "-q", good, bad)
    assert (code, len(out)) == (1, 1)


def test_no_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # FILE... became optional when `--registries FILE` alone became something to check.
    assert main(["check"]) == 2
    assert "FILE" in capsys.readouterr().err


def test_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "aimsource"
    good = write(tmp_path, "good.yaml", VALID)
    bad = write(tmp_path, "bad.yaml", VALID + "  filters:\n    - image: org/x\n")
    ok = subprocess.run([script, "check", good], capture_output=True, text=True, timeout=30, check=False)
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout.startswith(f"{good}: document 1 (good): ok")
    failed = subprocess.run(
        [script, "check", bad, str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert failed.returncode == 2
    assert "exactly one of spec.images or spec.filters must be set" in failed.stdout
    assert failed.stderr.strip().splitlines() == [
        f"aimsource check: {tmp_path / 'nope.yaml'}: cannot read: No such file or directory"
    ]
    assert "Traceback" not in failed.stderr


def test_registries_file_is_checked_with_or_without_manifests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(
        tmp_path, "registries.yaml", "registries:\n  docker.io:\n    mirrors: [http://10.0.0.7:5000]\n"
    )
    code, out, err = check(capsys, "--registries", good)
    assert (code, err) == (0, [])
    assert out == [f"{good}: ok (registries file: docker.io (1 mirror, discovery dockerhub))"]
    manifest = write(tmp_path, "good.yaml", VALID)
    code, out, _ = check(capsys, "-q", "--registries", good, manifest)
    assert (code, out) == (0, [])
    bad = write(
        tmp_path,
        "bad.yaml",
        "registries:\n  docker.io:\n    mirrors:\n      - url: https://m\n        cafile: x\n",
    )
    code, out, _ = check(capsys, "--registries", bad, manifest)
    assert code == 1
    assert out[0] == f"{bad}:5: registries.docker.io.mirrors[0].cafile: unknown key (known: url, caFile)"
    missing = write(tmp_path, "ca.yaml", "registries:\n  x.io:\n    caFile: /nowhere/ca.pem\n")
    assert check(capsys, "--registries", missing)[:2] == (
        1,
        [f"{missing}:3: registries.x.io.caFile: /nowhere/ca.pem: no such file"],
    )


PAUSED = "metadata:\n  name: good\n  annotations:\n    aim.eai.amd.com/reconciliation-paused: {}\n"


def test_a_paused_source_is_ok_and_the_line_says_it_is_paused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "s.yaml", VALID.replace("metadata:\n  name: good\n", PAUSED.format('"true"')))
    assert check(capsys, path) == (
        0,
        [
            f"{path}: document 1 (good): ok (1 image, registry docker.io, sync every 1h, maxModels 100; "
            "paused by aim.eai.amd.com/reconciliation-paused: not synced until it is removed)"
        ],
        [],
    )


def test_a_pause_value_that_does_not_pause_is_a_warning_not_a_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "s.yaml", VALID.replace("metadata:\n  name: good\n", PAUSED.format('"True"')))
    code, out, err = check(capsys, path)
    assert (code, err) == (0, [])
    assert out == [
        f'{path}: document 1 (good): warning: annotation aim.eai.amd.com/reconciliation-paused: "True" does '
        'not pause the source: only the exact string "true" does (as in AMD\'s operator)',
        f"{path}: document 1 (good): ok (1 image, registry docker.io, sync every 1h, maxModels 100)",
    ]


def test_an_unquoted_true_is_the_api_servers_refusal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "s.yaml", VALID.replace("metadata:\n  name: good\n", PAUSED.format("true")))
    code, out, _ = check(capsys, path)
    assert code == 1
    assert out == [
        f"{path}: document 1 (good): metadata.annotations.aim.eai.amd.com/reconciliation-paused: "
        "must be a string, not boolean"
    ]
