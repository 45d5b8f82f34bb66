"""Checks shared by every loader of hand-edited YAML (knowledge, providers, advice): each mistake is
collected with its file and line, and the file is turned into model objects as far as it is valid."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from bot.model import LANGS, Text
from bot.yamlsrc import Located, LocatedList, Problem


class Checker:
    """Collects problems for one file while turning its YAML into model objects."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.problems: list[Problem] = []

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.label, line, message))

    def mapping(self, value: Any, line: int, what: str) -> Located | None:
        if isinstance(value, Located):
            return value
        self.add(getattr(value, "line", line), f"{what} must be a mapping (key: value)")
        return None

    def text(self, parent: Located, key: str, what: str | None = None, required: bool = True) -> Text | None:
        what = what or key
        if key not in parent:
            if required:
                self.add(parent.line, f"{what}: missing (needs ja and en)")
            return None
        return self.text_value(parent[key], parent.line_of(key), what)

    def text_value(self, value: Any, line: int, what: str) -> Text | None:
        if not isinstance(value, Located):
            self.add(line, f"{what}: must have ja and en texts, e.g. {{ja: …, en: …}}")
            return None
        ok = True
        for lang in LANGS:
            item = value.get(lang)
            if not isinstance(item, str) or not item.strip():
                self.add(value.line_of(lang) if lang in value else line, f"{what}: missing {'Japanese' if lang == 'ja' else 'English'} "
                         f"text ({lang})")  # fmt: skip
                ok = False
        for extra in set(value) - set(LANGS):
            self.add(value.line_of(extra), f"{what}: unknown language {extra!r} (use ja and en)")
        return Text(str(value["ja"]).strip(), str(value["en"]).strip()) if ok else None

    def texts(self, parent: Located, key: str, what: str, required: bool = True) -> tuple[Text, ...]:
        value = parent.get(key)
        if value is None:
            if required:
                self.add(parent.line, f"{what}: missing")
            return ()
        if not isinstance(value, LocatedList):
            self.add(parent.line_of(key), f"{what}: must be a list")
            return ()
        found = (self.text_value(item, value.line_at(i), f"{what} #{i + 1}") for i, item in enumerate(value))
        return tuple(t for t in found if t is not None)

    def unknown_fields(self, value: Located, allowed: Iterable[str], what: str) -> None:
        for key in value:
            if key not in allowed:
                self.add(
                    value.line_of(key),
                    f"{what}: unknown field {key!r} (allowed: {', '.join(sorted(allowed))})",
                )

    def regex(self, pattern: str, line: int, what: str) -> re.Pattern[str] | None:
        try:
            return re.compile(pattern)
        except re.error as exc:
            self.add(line, f"{what}: invalid regular expression {pattern!r}: {exc.msg}")
            return None

    def choice(self, raw: Located, key: str, allowed: Sequence[str], what: str) -> str | None:
        value = raw.get(key)
        if value is None:
            self.add(raw.line, f"{what}: missing {key} (one of {', '.join(allowed)})")
            return None
        if not isinstance(value, str) or value not in allowed:
            self.add(raw.line_of(key), f"{what}: {key} {value!r} is not one of {', '.join(allowed)}")
            return None
        return value

    def strings(self, raw: Located, key: str, what: str) -> list[tuple[str, int]]:
        value = raw.get(key)
        if value is None:
            return []
        if not isinstance(value, LocatedList):
            self.add(raw.line_of(key), f"{what}: must be a list")
            return []
        found: list[tuple[str, int]] = []
        for i, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                found.append((item.strip(), value.line_at(i)))
            else:
                self.add(value.line_at(i), f"{what} #{i + 1}: must be a non-empty text")
        return found
