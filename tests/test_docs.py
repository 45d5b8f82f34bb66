"""The docs stay honest: every command is in the README with help, every knowledge field and every
environment variable is documented."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from bot import knowledge
from bot.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
KNOWLEDGE_README = (ROOT / "knowledge" / "README.md").read_text(encoding="utf-8")


def _commands(
    parser: argparse.ArgumentParser, prefix: str = "mailcheck"
) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((f"{prefix} {name}", sub))
                found += _commands(sub, f"{prefix} {name}")
    return found


COMMANDS = _commands(build_parser())


@pytest.mark.parametrize(("command", "parser"), COMMANDS, ids=[c for c, _ in COMMANDS])
def test_every_command_is_in_readme_with_help(command: str, parser: argparse.ArgumentParser) -> None:
    """Each command (and sub-command) appears in the README and has a description or help text."""
    assert f"`{command}" in README, f"{command} is not documented in README.md"
    assert parser.format_help().strip()


def test_readme_quick_start_has_exactly_two_lines() -> None:
    """Quick start: one line runs the bot, one installs everything and runs the tests."""
    block = README.split("## Quick start", 1)[1].split("```", 2)[1]
    lines = [line for line in block.strip().splitlines() if line.strip()]
    assert len(lines) == 2
    assert "mailcheck" in lines[0] and "pytest" in lines[1]


FIELDS = sorted(
    knowledge.SYMPTOM_FIELDS | knowledge.QUESTION_FIELDS | knowledge.LEAF_FIELDS | set(knowledge.AUTO_KEYS)
    | set(knowledge.DEFAULT_WEIGHTS) | set(knowledge.ESCALATION_TARGETS) | set(knowledge.PROBE_CHECKS)
    | {"to", "when", "prepare", "text", "weight", "ja", "en", "patterns", "clarifying", "password_warning",
       "sending_hint", "targets"}
)  # fmt: skip


@pytest.mark.parametrize("field", FIELDS)
def test_every_knowledge_field_is_documented(field: str) -> None:
    """knowledge/README.md names every field the loader accepts."""
    assert f"`{field}`" in KNOWLEDGE_README


def test_every_environment_variable_is_documented() -> None:
    """Each variable config.py reads is in the README's table."""
    source = (ROOT / "bot" / "config.py").read_text(encoding="utf-8")
    names = set(re.findall(r'"((?:SLACK|MAILCHECK)_[A-Z_]+|PORT)"', source))
    assert names
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert not missing
