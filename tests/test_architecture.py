"""The module map of DESIGN.md, checked by reading every import with ast.

Each layer imports only from its own layer or the layers below it; only bot/slack/ touches Slack's SDK;
the leaf and core layers do no network or database I/O.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"

LAYERS: dict[str, int] = {
    # leaf
    "bot": 0, "bot.model": 0, "bot.config": 0, "bot.redact": 0, "bot.text": 0, "bot.yamlsrc": 0, "bot.prefilter": 0, "bot.checker": 0,
    # core: pure functions over the knowledge
    "bot.knowledge": 1, "bot.classify": 1, "bot.diagnose": 1, "bot.reply": 1, "bot.providers": 1,
    # infra: network, files, database
    "bot.probe": 2, "bot.discover": 2, "bot.ocr": 2, "bot.store": 2,
    # use case: one entry per job
    "bot.triage": 3, "bot.summary": 3, "bot.scheduler": 3,
    # presentation
    "bot.render": 4, "bot.chart": 4, "bot.settings_text": 4,
    # edge
    "bot.slack": 5, "bot.console": 5, "bot.cli": 5, "bot.__main__": 5,
}  # fmt: skip
IO_MODULES = (
    "socket",
    "ssl",
    "sqlite3",
    "sqlite_utils",
    "dns",
    "imapclient",
    "urllib.request",
    "http",
    "requests",
)
SLACK_MODULES = ("slack_bolt", "slack_sdk")


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(name: str) -> int | None:
    while name:
        if name in LAYERS:
            return LAYERS[name]
        name = name.rpartition(".")[0]
    return None


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, node.module)]
            found += [
                (node.lineno, f"{node.module}.{alias.name}") for alias in node.names if node.module == "bot"
            ]
    return found


MODULES = sorted(BOT.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[module_name(p) for p in MODULES])
def test_module_has_a_layer(path: Path) -> None:
    """Every module is placed in the table (a new module needs a decision, not a default)."""
    assert layer_of(module_name(path)) is not None, f"{module_name(path)} is not in the layer table"


@pytest.mark.parametrize("path", MODULES, ids=[module_name(p) for p in MODULES])
def test_imports_follow_the_layers(path: Path) -> None:
    """No import points up the table; Slack's SDK only under bot/slack; no I/O in leaf and core."""
    name = module_name(path)
    own = layer_of(name)
    assert own is not None
    wrong = []
    for line, imported in imports_of(path):
        if imported.startswith("bot"):
            target = layer_of(imported)
            if target is not None and target > own:
                wrong.append(f"{path.name}:{line}: {name} (layer {own}) imports {imported} (layer {target})")
        if imported.split(".")[0] in SLACK_MODULES and not name.startswith("bot.slack"):
            wrong.append(f"{path.name}:{line}: only bot/slack may import {imported}")
        if own <= 1 and (imported in IO_MODULES or imported.split(".")[0] in IO_MODULES):
            wrong.append(f"{path.name}:{line}: {name} is pure but imports {imported}")
    assert not wrong, "\n".join(wrong)
