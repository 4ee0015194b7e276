"""Read an image as a registry serves it: an OCI layout that `skopeo copy` wrote (manifest, config,
gzipped layer tarballs), layer by layer and as the merged filesystem a container sees.

The merged view applies the layers in order with their whiteouts (`.wh.NAME` deletes NAME from the
layers below, `.wh..wh..opq` empties the directory), as the OCI image spec defines them, so a file
that a later layer deleted is absent from `files()` but still in `layer_members()`, which is what a
scan for leaked secrets must read: deleting a file in a later layer does not take it out of the image.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True)
class Layer:
    digest: str  # of the compressed blob, as the registry stores it
    size: int  # compressed bytes
    media_type: str
    diff_id: str  # digest of the uncompressed tarball (the config's rootfs.diff_ids)
    created_by: str  # the build step that made it (the config's history)


@dataclass(frozen=True)
class Entry:
    """One path of the merged filesystem, from the topmost layer that has it."""

    path: str  # absolute, e.g. /usr/bin/python3
    type: bytes  # tarfile's type: REGTYPE, DIRTYPE, SYMTYPE, LNKTYPE...
    mode: int
    uid: int
    gid: int
    size: int
    linkname: str
    layer: int  # index into OciImage.layers

    @property
    def is_file(self) -> bool:
        return self.type in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)


def _blob(directory: Path, digest: str) -> Path:
    algorithm, _, value = digest.partition(":")
    return directory / "blobs" / algorithm / value


def normal(name: str) -> str:
    """A tar member's name as an absolute path: `./usr/bin` and `usr/bin/` are `/usr/bin`."""
    return posixpath.normpath("/" + name.removeprefix("./").lstrip("/"))


class OciImage:
    """The one image of an OCI layout directory (`skopeo copy ... oci:DIR:TAG`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        index = json.loads((directory / "index.json").read_text())
        (descriptor,) = index["manifests"]
        self.manifest_digest: str = descriptor["digest"]
        self.manifest: dict[str, Any] = json.loads(_blob(directory, self.manifest_digest).read_bytes())
        self.config_digest: str = self.manifest["config"]["digest"]
        self.config: dict[str, Any] = json.loads(_blob(directory, self.config_digest).read_bytes())
        diff_ids = self.config["rootfs"]["diff_ids"]
        steps = [h.get("created_by", "") for h in self.config.get("history", []) if not h.get("empty_layer")]
        if len(steps) != len(diff_ids):  # history is optional in the spec; keep the layers readable
            steps = [""] * len(diff_ids)
        self.layers = [
            Layer(d["digest"], d["size"], d["mediaType"], diff_id, step)
            for d, diff_id, step in zip(self.manifest["layers"], diff_ids, steps, strict=True)
        ]
        self._files: dict[str, Entry] | None = None

    @property
    def image_id(self) -> str:
        """The config's digest without `sha256:`: what buildah calls the image ID."""
        return self.config_digest.removeprefix("sha256:")

    @property
    def compressed_size(self) -> int:
        """Bytes a pull downloads: the layers as stored, plus the config."""
        return sum(layer.size for layer in self.layers) + self.manifest["config"]["size"]

    @contextlib.contextmanager
    def open_layer(self, index: int) -> Iterator[IO[bytes]]:
        """The uncompressed tarball of one layer, as a stream."""
        layer = self.layers[index]
        with _blob(self.directory, layer.digest).open("rb") as raw:
            if layer.media_type.endswith("gzip"):
                with gzip.GzipFile(fileobj=raw) as unpacked:
                    yield unpacked  # type: ignore[misc]  # GzipFile is an IO[bytes] in all but name
            else:
                assert layer.media_type.endswith("tar"), f"a layer compressed as {layer.media_type}"
                yield raw

    def layer_members(self, index: int) -> Iterator[tuple[tarfile.TarInfo, tarfile.TarFile]]:
        """The members of one layer, streamed, with the open tarball to read a member's content from
        (`tar.extractfile(member)`, only while iterating)."""
        with self.open_layer(index) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                yield member, tar

    def uncompressed_sizes(self) -> list[int]:
        """Bytes of file content in each layer (what `buildah images` adds up, near enough)."""
        return [sum(m.size for m, _ in self.layer_members(i) if m.isfile()) for i in range(len(self.layers))]

    def files(self) -> dict[str, Entry]:
        """The merged filesystem: absolute path -> entry of the topmost layer that has it."""
        if self._files is None:
            merged: dict[str, Entry] = {}
            for index in range(len(self.layers)):
                for member, _ in self.layer_members(index):
                    path = normal(member.name)
                    parent, base = posixpath.split(path)
                    if base == OPAQUE:
                        prefix = parent.rstrip("/") + "/"
                        for gone in [p for p in merged if p.startswith(prefix)]:
                            del merged[gone]
                    elif base.startswith(WHITEOUT):
                        gone_path = posixpath.join(parent, base[len(WHITEOUT) :])
                        gone_entry = merged.pop(gone_path, None)
                        if gone_entry is not None and gone_entry.type == tarfile.DIRTYPE:
                            prefix = gone_path + "/"
                            for gone in [p for p in merged if p.startswith(prefix)]:
                                del merged[gone]
                    else:
                        merged[path] = Entry(
                            path,
                            member.type,
                            member.mode,
                            member.uid,
                            member.gid,
                            member.size,
                            member.linkname,
                            index,
                        )
            self._files = merged
        return self._files
