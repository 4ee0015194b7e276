"""The runtime dependencies in pyproject.toml cover every third-party module that src/ imports.

The operator image installs the wheel of `.` and nothing else (Dockerfile), so a module that only
a test extra brings (certifi came with httpx) would pass every test and fail in the image."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "aimsource"


def _declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_canonical(re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]) for spec in project["dependencies"]}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_top_levels() -> dict[str, str]:
    """Top-level module -> a file of src/ that imports it (absolute imports only)."""
    found: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(REPO)))
    return found


def test_every_third_party_import_of_src_is_a_declared_dependency() -> None:
    declared = _declared()
    distributions = metadata.packages_distributions()
    missing = []
    for module, where in sorted(_imported_top_levels().items()):
        if module == "aimsource" or module in sys.stdlib_module_names:
            continue
        owners = {_canonical(d) for d in distributions.get(module, [])}
        assert owners, f"{where} imports {module}, which no installed distribution provides"
        if not owners & declared:
            missing.append(f"{module} ({where}; from {', '.join(sorted(owners))})")
    assert not missing, f"imported by src/ but not in [project] dependencies: {', '.join(missing)}"
