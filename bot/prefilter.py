"""Required literals of a regular expression: a cheap test that skips most pattern searches.

Most knowledge patterns can only match where some plain word occurs ("ログイン", "socket", "993"). For each
pattern we derive a small set of literals, at least one of which every match must contain; a message
holding none of them cannot match, and a substring test is ~20x cheaper than a regex search. This is the
prefilter idea of RE2 and Hyperscan, kept deliberately conservative: whenever the analysis is unsure it
returns None and the pattern is always searched.
"""

from __future__ import annotations

import re
from typing import Any

try:  # the parser is private; without it every pattern is simply searched
    from re import _constants as sre_c  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - other Python implementations
    sre_parse = None
    sre_c = None

MAX_LITERALS = 12  # past this many alternatives, the substring tests cost more than the search saves
MIN_LENGTH = 2  # a single character says too little to be worth testing


def _best(candidates: list[frozenset[str]]) -> frozenset[str] | None:
    """The most selective set: longest shortest member, then fewest members."""
    usable = [c for c in candidates if c and len(c) <= MAX_LITERALS and min(map(len, c)) >= MIN_LENGTH]
    if not usable:
        return None
    return max(usable, key=lambda c: (min(map(len, c)), -len(c)))


def _factors(items: Any) -> frozenset[str] | None:
    """A set of strings one of which every match of this sequence contains, or None if unknown."""
    candidates: list[frozenset[str]] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            candidates.append(frozenset({"".join(run)}))
            run.clear()

    for op, av in items:
        if op is sre_c.LITERAL:
            run.append(chr(av))
            continue
        close_run()
        if op is sre_c.SUBPATTERN:
            found = None if av[1] & re.IGNORECASE else _factors(av[-1])  # (?i:...) changes what matches
        elif op is sre_c.BRANCH:
            branches = [_factors(branch) for branch in av[1]]
            found = None if any(b is None for b in branches) else frozenset().union(*branches)  # type: ignore[arg-type]
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT) and av[0] >= 1:
            found = _factors(av[2])
        else:  # classes, anchors, look-arounds, optional parts: no required literal here
            found = None
        if found is not None:
            candidates.append(found)
    close_run()
    return _best(candidates)


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Literals one of which any match must contain; None when no useful set can be proven."""
    if sre_parse is None or pattern.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except (re.error, RecursionError, ValueError):
        return None
    return _factors(list(parsed))
