"""What the built image holds: the image from the Dockerfile, built by scripts/build-image on the
mmdebstrap base, pushed to a real docker-registry with skopeo and read back as the registry serves it.

It runs as 65532 with the operator as its entrypoint; it holds this tree's package and its
dependencies in a virtual environment, with bytecode for all of it and for the standard library; it
holds no packaging tool (pip, setuptools, wheel, or a wheel to install pip from), no compiler, no
secret-looking file in any layer, and none of the machine's CA bundle that the build mounted; and it
is no more than 20 % larger than the size recorded in image_size.json. Running it: test_image_run.py.
"""

from __future__ import annotations

import json
import re
import struct
import tarfile
import tomllib
from pathlib import Path

import pytest

from tests.deploy import containers
from tests.deploy.conftest import Pushed
from tests.deploy.manifests import REPO, one, render
from tests.deploy.oci_layout import Entry, OciImage, normal

pytestmark = pytest.mark.registry  # a real docker-registry, which the image is pushed to
SIZE_RECORD = Path(__file__).with_name("image_size.json")
GROWTH_ALLOWED = 1.20
VENV = "/opt/aimsource"
PACKAGING = ("pip", "setuptools", "wheel", "pkg_resources", "_distutils_hack", "easy_install")
COMPILER = re.compile(
    r"^([\w.]+-)?(gcc|g\+\+|cc|c\+\+|cpp|clang|clang\+\+|tcc|ld|ld\.(bfd|gold|lld)|as|make|cc1\w*)(-[\d.]+)?$"
)
BIN_DIRS = {"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", f"{VENV}/bin"}
SECRET_NAMES = {
    "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".netrc", "_netrc", ".pypirc", ".git-credentials",
    ".dockerconfigjson", ".dockercfg", ".npmrc", ".pgpass", "credentials.json", "service-account.json",
}  # fmt: skip
SECRET_PATHS = re.compile(r"(/\.docker/config\.json|/\.kube/config|/\.aws/credentials|/\.ssh/[^/]+)$")
SECRET_SUFFIXES = (".p12", ".pfx", ".jks", ".keystore", ".key")
# A PEM private key with its base64 body: the bare marker is also a string constant in TLS libraries.
PRIVATE_KEY = re.compile(rb"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----\r?\n([A-Za-z0-9+/=]{40,}\r?\n)+")
SCAN_LIMIT = 4 << 20  # larger files are binaries and data, not key or credential files


@pytest.fixture(scope="module")
def image(pushed_image: Pushed) -> OciImage:
    return pushed_image.image


@pytest.fixture(scope="module")
def files(image: OciImage) -> dict[str, Entry]:
    return image.files()


@pytest.fixture(scope="module")
def base_layers(image_build: containers.Build, image: OciImage) -> int:
    """How many of the image's layers are the base's: the rest are the Dockerfile's."""
    base_ids = containers.image_config(image_build.base)["rootfs"]["diff_ids"]
    assert [layer.diff_id for layer in image.layers[: len(base_ids)]] == base_ids, (
        "the image is not on its base"
    )
    return len(base_ids)


@pytest.fixture(scope="module")
def site_packages(image_rootfs: Path) -> Path:
    (found,) = (image_rootfs / VENV.lstrip("/") / "lib").glob("python3.*/site-packages")
    return found


def test_the_registry_serves_the_image_that_was_built(image_build: containers.Build, image: OciImage) -> None:
    # The config digest covers every layer's uncompressed digest: the same ID is the same image.
    assert image.image_id == image_build.image_id
    assert image.manifest["mediaType"].endswith(("oci.image.manifest.v1+json", "manifest.v2+json"))


def test_it_runs_the_operator_as_the_non_root_user_of_the_deployment(image: OciImage) -> None:
    config = image.config["config"]
    assert config["User"] == f"{containers.NON_ROOT}:{containers.NON_ROOT}"
    assert config["Entrypoint"] == ["aimsource"]
    assert config["Cmd"] == ["run"]
    assert config["WorkingDir"] == "/tmp"  # the Deployment's one writable mount
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["PATH"].split(":")[0] == f"{VENV}/bin"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"


def test_it_exposes_the_ports_the_deployment_names(image: OciImage) -> None:
    deployment = one(render(), "Deployment", "aimsource")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    declared = {f"{p['containerPort']}/tcp" for p in container["ports"]}
    assert set(image.config["config"]["ExposedPorts"]) == declared


def _packaging(path: str, entry: Entry) -> bool:
    directory, _, name = path.rpartition("/")
    if name.endswith(".whl"):  # ensurepip's, or python3-pip-whl's: pip, one command away
        return True
    if "/site-packages" in directory or "/dist-packages" in directory:
        return bool(re.fullmatch(rf"({'|'.join(PACKAGING)})(-[^/]*\.(dist|egg)-info)?", name))
    return directory in BIN_DIRS and bool(re.fullmatch(r"pip(3(\.\d+)?)?|easy_install(-[\d.]+)?|wheel", name))


def test_no_packaging_tool_is_left(files: dict[str, Entry]) -> None:
    found = sorted(path for path, entry in files.items() if _packaging(path, entry))
    assert not found, "packaging tools in the image:\n" + "\n".join(found)


def test_no_compiler_is_in_the_image(files: dict[str, Entry]) -> None:
    found = sorted(
        path
        for path, entry in files.items()
        if entry.type != tarfile.DIRTYPE
        and COMPILER.fullmatch(path.rpartition("/")[2])
        and (path.rpartition("/")[0] in BIN_DIRS or "/gcc/" in path)
    )
    assert not found, "compilers or build tools in the image:\n" + "\n".join(found)


def test_no_secret_looking_file_is_in_any_layer(image: OciImage) -> None:
    # Every layer, not the merged view: a file deleted by a later layer is still in the image.
    found = []
    for index in range(len(image.layers)):
        for member, tar in image.layer_members(index):
            path = normal(member.name)
            name = path.rsplit("/", 1)[-1]
            if name in SECRET_NAMES or SECRET_PATHS.search(path) or name.endswith(SECRET_SUFFIXES):
                found.append(f"layer {index}: {path}")
            elif member.isfile() and 0 < member.size <= SCAN_LIMIT:
                content = tar.extractfile(member)
                assert content is not None
                data = content.read()
                # Not in programs and libraries: libgnutls carries its self-tests' keys as constants.
                if not data.startswith(b"\x7fELF") and PRIVATE_KEY.search(data):
                    found.append(f"layer {index}: {path} (a private key)")
    assert not found, "secret-looking files in the image:\n" + "\n".join(found)


def test_the_machines_ca_bundle_is_mounted_into_the_build_not_copied(
    image: OciImage, base_layers: int
) -> None:
    # scripts/build-image mounts /etc/ssl/certs into the RUN steps; nothing the Dockerfile adds may be there.
    touched = sorted(
        f"layer {index}: {normal(member.name)}"
        for index in range(base_layers, len(image.layers))
        for member, _ in image.layer_members(index)
        if normal(member.name).startswith(("/etc/ssl/", "/usr/local/share/ca-certificates/"))
    )
    assert not touched, "the build wrote certificates into the image:\n" + "\n".join(touched)


def test_the_venv_holds_this_tree_and_its_dependencies_only(site_packages: Path) -> None:
    installed = {_distribution(path.name.split("-")[0]) for path in site_packages.glob("*.dist-info")}
    with (REPO / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    declared = {_distribution(dep) for dep in project["dependencies"]}
    assert "aimsource" in installed
    assert declared <= installed, f"declared but not installed: {sorted(declared - installed)}"
    test_only = {_distribution(dep) for dep in project["optional-dependencies"]["test"]}
    assert not (installed & test_only), f"test dependencies in the image: {sorted(installed & test_only)}"
    assert not (installed & {"pip", "setuptools", "wheel"})


def _distribution(requirement: str) -> str:
    """The normalized distribution name of a requirement or a dist-info directory's first part."""
    name = re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_installed_package_is_this_tree(site_packages: Path) -> None:
    source = REPO / "src" / "aimsource"
    wanted = {
        p.relative_to(source).as_posix()
        for p in source.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in {".py", ".yaml", ".typed"}
    }
    installed_root = site_packages / "aimsource"
    installed = {
        p.relative_to(installed_root).as_posix()
        for p in installed_root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert installed == wanted, f"missing: {sorted(wanted - installed)}; extra: {sorted(installed - wanted)}"
    differ = sorted(n for n in wanted if (source / n).read_bytes() != (installed_root / n).read_bytes())
    assert not differ, f"the image's package differs from src/aimsource in: {differ}"


def _pyc_flags(pyc: Path) -> int:
    (flags,) = struct.unpack("<I", pyc.read_bytes()[4:8])
    return int(flags)


def test_every_module_has_bytecode_made_at_build_time(image_rootfs: Path, site_packages: Path) -> None:
    # The root filesystem is read-only and PYTHONDONTWRITEBYTECODE is set: a module without a .pyc
    # is compiled again at every start. The venv's are unchecked-hash pycs, valid whatever mtimes the
    # copy between stages gave the sources; the standard library's are the base's or compileall's.
    (stdlib,) = (image_rootfs / "usr").glob("*lib/python3.*/os.py")
    tag = f"cpython-{stdlib.parent.name.removeprefix('python').replace('.', '')}"
    skipped = {"test", "tests", "idlelib", "lib2to3", "site-packages", "dist-packages"}  # not compiled
    missing: list[str] = []
    checked: dict[str, int] = {}
    for tree, skip in ((site_packages, set()), (stdlib.parent, skipped)):
        sources = [py for py in tree.rglob("*.py") if py.relative_to(tree).parts[0] not in skip]
        checked[str(tree.relative_to(image_rootfs))] = len(sources)
        for py in sources:
            pyc = py.parent / "__pycache__" / f"{py.stem}.{tag}.pyc"
            if not pyc.is_file():
                missing.append(str(py.relative_to(image_rootfs)))
            elif tree == site_packages and _pyc_flags(pyc) != 0b01:
                missing.append(f"{py.relative_to(image_rootfs)} (not an unchecked-hash pyc)")
    assert min(checked.values()) > 300, f"too few modules found, the walk is wrong: {checked}"
    assert not missing, f"{len(missing)} modules without bytecode ({checked}), e.g.:\n" + "\n".join(
        missing[:20]
    )


def _sizes(image: OciImage, base_layers: int) -> dict[str, int]:
    content = image.uncompressed_sizes()
    return {"total_bytes": sum(content), "added_bytes": sum(content[base_layers:])}


def test_the_image_is_no_bigger_than_recorded(image: OciImage, base_layers: int) -> None:
    record = json.loads(SIZE_RECORD.read_text())
    now = _sizes(image, base_layers)
    grown = [
        f"{key}: {record[key] / 1e6:.1f} MB recorded, {now[key] / 1e6:.1f} MB now"
        f" (+{now[key] / record[key] - 1:.0%})"
        for key in ("total_bytes", "added_bytes")
        if now[key] > record[key] * GROWTH_ALLOWED
    ]
    assert not grown, (
        f"the image grew by more than {GROWTH_ALLOWED - 1:.0%}:\n"
        + "\n".join(grown)
        + f"\nIf that is intended, record the new sizes in {SIZE_RECORD.relative_to(REPO)}: {json.dumps(now)}"
    )
