"""`check` and `preview` on version lists: exact-version lists, lists never satisfied, near-versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aimsource.cli import main

HEAD = "apiVersion: aim.eai.amd.com/v1alpha1\nkind: AIMClusterModelSource\nmetadata:\n  name: vers\nspec:\n"
QWEN = "ghcr.io/amdenterpriseai/aim-qwen-qwen3-32b"
TAGS = {QWEN: ["0.8.4", "0.8.5", "v0.9.0", "1.0", "2026.08.0-preview", "latest"]}


def write(tmp_path: Path, spec: str) -> str:
    path = tmp_path / "source.yaml"
    path.write_text(HEAD + spec)
    return str(path)


def check(capsys: pytest.CaptureFixture[str], path: str) -> tuple[int, list[str]]:
    code = main(["check", path])
    return code, capsys.readouterr().out.splitlines()


def test_check_accepts_an_exact_version_list(tmp_path, capsys):
    path = write(tmp_path, '  images: [org/model]\n  versions: ["1.0.0", "=1.1.0", "v2.0.0"]\n')
    code, out = check(capsys, path)
    assert code == 0
    assert ": ok (" in out[0]


def test_check_reports_a_global_list_that_can_never_be_satisfied_at_its_path(tmp_path, capsys):
    path = write(tmp_path, '  images: [org/model]\n  versions: [">=2.0.0", "<1.0.0"]\n')
    assert check(capsys, path) == (
        1,
        [
            f"{path}: document 1 (vers): spec.versions: can never be satisfied: "
            'no version satisfies both ">=2.0.0" and "<1.0.0"'
        ],
    )


def test_check_reports_a_filters_list_at_the_filters_path_and_bad_entries_at_theirs(tmp_path, capsys):
    path = write(
        tmp_path,
        "  filters:\n"
        '    - {image: org/a, versions: ["^1.2.3", "~2.0"]}\n'
        '    - {image: org/b, versions: [">=1.0.0", "~>1.2"]}\n'
        '    - {image: org/c, versions: ["1.0.0", "1.1.0"]}\n',
    )
    code, out = check(capsys, path)
    assert code == 1
    assert [line.split(": ", 3)[2] for line in out] == [
        "spec.filters[0].versions",
        "spec.filters[1].versions[1]",
    ]
    assert 'no version satisfies both "^1.2.3" and "~2.0"' in out[0]


@pytest.fixture
def tags_file(tmp_path: Path) -> str:
    path = tmp_path / "tags.json"
    path.write_text(json.dumps(TAGS))
    return str(path)


def test_preview_of_an_exact_list_with_a_tags_file_selects_the_named_and_shows_the_missing(
    tmp_path, capsys, tags_file
):
    path = write(
        tmp_path,
        "  registry: ghcr.io\n  images: [amdenterpriseai/aim-qwen-qwen3-32b]\n"
        '  versions: ["0.8.5", "v0.9.0", "3.0.0"]\n',
    )
    assert main(["preview", path, "--tags-file", tags_file, "-o", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [m["image"] for m in doc["models"]] == [f"{QWEN}:v0.9.0", f"{QWEN}:0.8.5"]
    rows = [(t["image"].rsplit(":", 1)[1], t["decision"], t["reason"]) for t in doc["tags"]]
    named = "named in versions 0.8.5, v0.9.0, 3.0.0"
    assert rows == [
        ("v0.9.0", "selected", f"{named} (a list of exact versions selects each one that exists)"),
        ("0.8.5", "selected", f"{named} (a list of exact versions selects each one that exists)"),
        ("3.0.0", "not-found", f"{named}, but the registry has no such tag"),
    ]  # only the named versions: nothing was listed
    [selector] = doc["status"]["selectors"]
    assert selector["notFound"] == ["3.0.0"]
    assert doc["status"]["status"] == "Ready"


def test_preview_table_names_the_defect_of_each_near_version(tmp_path, capsys, tags_file):
    path = write(
        tmp_path,
        '  registry: ghcr.io\n  images: [amdenterpriseai/aim-qwen-qwen3-32b]\n  versions: [">=0.8.5"]\n',
    )
    assert main(["preview", path, "--tags-file", tags_file]) == 0
    lines = capsys.readouterr().out.splitlines()

    def row(tag: str) -> str:
        return next(line for line in lines if f"{QWEN}:{tag} " in line)

    assert row("2026.08.0-preview").split(None, 2)[1:] == [
        "not-a-version", 'not a SemVer version: leading zero in minor "08"'
    ]  # fmt: skip
    assert row("1.0").split(None, 2)[1:] == [
        "not-a-version", "not a SemVer version: missing patch (a version is MAJOR.MINOR.PATCH)"
    ]  # fmt: skip
    assert row("latest").split(None, 2)[1:] == ["not-a-version", "not a SemVer version"]


def test_preview_of_a_never_satisfied_list_fails_without_reading_the_tags(tmp_path, capsys, tags_file):
    path = write(tmp_path, '  images: [org/model]\n  versions: [">=2.0.0", "<1.0.0"]\n')
    # org/model is not in the tags file: a listing would say RepositoryNotFound.
    assert main(["preview", path, "--tags-file", tags_file, "-o", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    error = doc["status"]["selectors"][0]["error"]
    assert error["reason"] == "InvalidVersionConstraint"
    assert error["message"].startswith("versions can never be satisfied:")
