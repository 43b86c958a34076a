"""The import rule: each layer imports only the layers below it (see the README's diagram)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LAYERS = ("archive", "index", "web", "app")
#: Project packages each layer may import, itself included.
ALLOWED = {
    "archive": {"archive"},
    "index": {"index"},
    "web": {"web", "index"},
    "app": {"app", "archive", "index", "web"},
}
#: Third-party packages that belong to one layer only.
OWNED = {"whoosh": "index", "flask": "web", "werkzeug": "web", "sumy": "archive", "nltk": "archive"}
#: The one module of the application that may start the web app.
WEB_BRIDGE = "app/cli.py"


def imported_packages(path: Path) -> set[str]:
    """Top-level names of every module that ``path`` imports, at any depth of the code."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules() -> list[tuple[str, Path]]:
    return [(layer, path) for layer in LAYERS for path in sorted((REPO / layer).rglob("*.py"))]


@pytest.mark.parametrize(
    ("layer", "path"),
    modules(),
    ids=lambda v: str(v.relative_to(REPO)) if isinstance(v, Path) else v,
)
def test_no_upward_or_foreign_imports(layer: str, path: Path) -> None:
    imported = imported_packages(path)
    upward = {name for name in imported if name in LAYERS} - ALLOWED[layer]
    assert not upward, f"{path.relative_to(REPO)} imports {sorted(upward)} from a layer above it"
    foreign = {name for name in imported if OWNED.get(name, layer) != layer}
    assert not foreign, (
        f"{path.relative_to(REPO)} imports {sorted(foreign)}, owned by another layer"
    )
    if "web" in imported and layer == "app":
        assert path.relative_to(REPO).as_posix() == WEB_BRIDGE


def test_the_rule_sees_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from web import create_app\n    import whoosh.query\n")
    assert imported_packages(bad) == {"web", "whoosh"}
