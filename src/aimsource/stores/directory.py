"""The model store of `aimsource sync --out DIR`: one YAML manifest per model in a directory.

Manifests already in the directory are existing models, whoever wrote them; the store only ever adds
files (opened with O_EXCL), so nothing in the directory is deleted or rewritten. A manifest whose
model has the name of a new model but another image is a name conflict, reported for that model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from aimsource.domain.models import existing_model
from aimsource.domain.resources import MODEL_KIND
from aimsource.domain.selection.planning import ExistingModel
from aimsource.domain.writes import CreateRefusedError, NameTakenError
from aimsource.stores.files import MAX_MANIFEST_BYTES, UnreadableFile, read_regular

# libyaml's emitter writes the same text as PyYAML's for a model body, in a seventh of the time
# (a sync of a thousand models writes a thousand files); PyYAML's when libyaml is not built in.
_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class StoreError(Exception):
    """The directory cannot serve as a model store; the message names the path and why."""


class DirectoryModelStore:
    """Implements the sync's `ModelStore` port over a directory of manifests."""

    def __init__(self, directory: Path, models: Mapping[str, ExistingModel]) -> None:
        self.directory = directory
        self._by_image: dict[str, ExistingModel] = dict(models)
        self._names = {m.name: m.image for m in models.values()}
        """Canonical image by model name."""
        self.written: list[Path] = []

    @classmethod
    def open(cls, directory: Path) -> DirectoryModelStore:
        """Reads every `*.yaml`/`*.yml` in the directory (creating it when missing)."""
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {directory}: {exc.strerror}") from exc
        if not os.access(directory, os.W_OK | os.X_OK):
            raise StoreError(f"{directory} is not writable")
        models: dict[str, ExistingModel] = {}
        named: dict[str, ExistingModel] = {}
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            for model in _read_models(path):
                models.setdefault(model.image, model)
                named.setdefault(model.name, model)
        store = cls(directory, models)
        # Two manifests of one name (a cluster would keep one): the name is taken either way.
        for name, model in named.items():
            store._names.setdefault(name, model.image)
        return store

    def existing(self) -> Mapping[str, ExistingModel]:
        return self._by_image

    def owned_count(self, source_name: str) -> int:
        return sum(1 for m in self._by_image.values() if m.source == source_name)

    async def create(self, body: dict[str, Any]) -> bool:
        """As the API would: False for a model of this name and image already there, a conflict
        for a name held by another image; a file in the way that holds no such model is refused
        for this model (a cluster has no such case, a directory does)."""
        model = existing_model(body)
        if model is None:  # not a body `model_body` makes
            raise CreateRefusedError("Invalid", "a model without metadata.name or spec.image")
        name, image = model.name, model.image
        held = self._names.get(name)
        if held is not None:
            if held != image:
                raise NameTakenError(name, held)
            return False
        path = self.directory / f"{name}.yaml"
        text = yaml.dump(body, Dumper=_DUMPER, sort_keys=False)
        try:
            with path.open("x", encoding="utf-8") as fh:
                fh.write(text)
        except FileExistsError:
            # Written since the store was opened, or a file that holds another name.
            return _in_the_way(path, name, image)
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc.strerror}") from exc
        self.written.append(path)
        self._names[name] = image
        self._by_image[image] = model
        return True


def _in_the_way(path: Path, name: str, image: str) -> bool:
    """What a file already at `path` means for the model `name` of `image`."""
    try:
        models = _read_models(path)
    except StoreError as exc:
        raise CreateRefusedError("FileExists", f"{path} already exists: {exc}") from exc
    if any(m.image == image for m in models):
        return False
    if models:
        raise NameTakenError(name, models[0].image)
    raise CreateRefusedError("FileExists", f"{path} already exists and holds no AIMClusterModel")


def _read_models(path: Path) -> list[ExistingModel]:
    try:
        docs = list(yaml.safe_load_all(read_regular(path, limit=MAX_MANIFEST_BYTES).decode("utf-8")))
    except UnreadableFile as exc:
        raise StoreError(f"cannot read {path}: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"cannot read {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise StoreError(f"{path} is not valid YAML: {_yaml_where(exc)}") from exc
    except RecursionError as exc:  # the parser builds nested collections recursively
        raise StoreError(f"{path} is not readable YAML: nested too deeply") from exc
    found = []
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != MODEL_KIND:
            continue
        model = existing_model(doc)
        if model is None:
            raise StoreError(f"{path}: an AIMClusterModel without metadata.name or spec.image")
        found.append(model)
    return found


def _yaml_where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "syntax error"
    return f"{problem} at line {mark.line + 1}" if mark is not None else str(problem)
