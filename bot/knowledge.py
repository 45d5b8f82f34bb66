"""Load and validate the ``knowledge/`` folder.

Support staff edit these files, so every mistake is collected (not just the first) and reported as
``file:line: what is wrong``. A folder with any mistake does not load: the bot must not answer from a
half-broken tree.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from bot.checker import Checker
from bot.model import SYMPTOM_IDS, Escalation, EscalationTarget, Evidence, Node, Symptom, Text
from bot.prefilter import required_literals
from bot.text import normalise
from bot.yamlsrc import Located, LocatedList, Problem, load_file

DEFAULT_WEIGHTS = {"codes": 3.0, "phrases": 1.0, "patterns": 2.0}
ESCALATION_TARGETS = ("carrier", "isp", "rental_server", "in_house_admin", "provider", "none")
PROBE_CHECKS = ("dns", "tcp", "tls", "greeting", "auth")
AUTO_KEYS = ("protocol", "client", "ssl", "port", "has_host", "has_address", "text")
MAX_STEPS = 5
CACHE_VERSION = 2  # bump when the model classes change shape

SYMPTOM_FIELDS = {"id", "title", "summary", "recognise", "probe_checks", "start", "nodes", "sources"}
QUESTION_FIELDS = {"question", "yes", "no", "default", "auto_yes", "auto_no"}
LEAF_FIELDS = {"title", "checklist", "donts", "escalation"}


class KnowledgeError(Exception):
    """The folder has mistakes; ``problems`` lists each with file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Client:
    id: str
    name: Text
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Knowledge:
    root: Path
    symptoms: dict[str, Symptom]
    clients: tuple[Client, ...]
    targets: dict[str, tuple[Text, Text]]  # target -> (name, how)
    prepare: tuple[Text, ...]
    questions: dict[str, Text]
    providers: tuple[Any, ...] = field(default=())


# --- symptoms --------------------------------------------------------------------------------------


def _evidence(c: Checker, recognise: Any, line: int, symptom_id: str) -> tuple[Evidence, ...]:
    if recognise is None:
        if symptom_id != "unknown":
            c.add(line, "recognise: missing (codes, phrases or patterns)")
        return ()
    rec = c.mapping(recognise, line, "recognise")
    if rec is None:
        return ()
    c.unknown_fields(rec, DEFAULT_WEIGHTS, "recognise")
    found: list[Evidence] = []
    for key, weight in DEFAULT_WEIGHTS.items():
        items = rec.get(key) or LocatedList()
        if not isinstance(items, LocatedList):
            c.add(rec.line_of(key), f"recognise.{key}: must be a list")
            continue
        for i, item in enumerate(items):
            ev = _one_evidence(c, key, item, items.line_at(i), weight)
            if ev is not None:
                found.append(ev)
    return tuple(found)


def _one_evidence(c: Checker, key: str, item: Any, line: int, weight: float) -> Evidence | None:
    if isinstance(item, Located):
        c.unknown_fields(item, {"text", "weight"}, f"recognise.{key}")
        weight = item.get("weight", weight)
        item = item.get("text")
    if not isinstance(item, str) or not item.strip():
        c.add(line, f"recognise.{key}: each entry needs text")
        return None
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 10:
        c.add(line, f"recognise.{key}: weight must be a number above 0 and at most 10")
        return None
    kind = cast("Any", {"codes": "code", "phrases": "phrase", "patterns": "pattern"}[key])
    if kind == "pattern":
        compiled = c.regex(item, line, f"recognise.{key}")
        if compiled is None:
            return None
        return Evidence(kind, item, float(weight), required_literals(compiled))
    value = item.strip().upper() if kind == "code" else normalise(item)
    return Evidence(kind, value, float(weight))


def _auto(c: Checker, node: Located, key: str, where: str) -> tuple[tuple[str, str], ...]:
    value = node.get(key)
    if value is None:
        return ()
    auto = c.mapping(value, node.line_of(key), f"{where}.{key}")
    if auto is None:
        return ()
    pairs = []
    for name, expected in auto.items():
        line = auto.line_of(name)
        if name not in AUTO_KEYS:
            c.add(line, f"{where}.{key}: unknown entity {name!r} (one of {', '.join(AUTO_KEYS)})")
            continue
        if name == "text" and c.regex(str(expected), line, f"{where}.{key}.text") is None:
            continue
        pairs.append((name, str(expected).lower()))
    return tuple(pairs)


def _escalation(c: Checker, value: Any, line: int, where: str) -> Escalation | None:
    esc = c.mapping(value, line, f"{where}.escalation")
    if esc is None:
        return None
    c.unknown_fields(esc, {"to", "when", "prepare"}, f"{where}.escalation")
    to = esc.get("to")
    if to not in ESCALATION_TARGETS:
        c.add(
            esc.line_of("to"), f"{where}.escalation.to: {to!r} is not one of {', '.join(ESCALATION_TARGETS)}"
        )
        return None
    when = c.text(esc, "when", f"{where}.escalation.when")
    prepare = c.texts(esc, "prepare", f"{where}.escalation.prepare", required=False)
    return Escalation(cast(EscalationTarget, to), when, prepare) if when else None


def _question_node(c: Checker, node_id: str, raw: Located, where: str) -> Node:
    c.unknown_fields(raw, QUESTION_FIELDS, where)
    for branch in ("yes", "no"):
        if not isinstance(raw.get(branch), str):
            c.add(
                raw.line_of(branch) if branch in raw else raw.line,
                f"{where}: {branch!r} must name the next node",
            )
    default = raw.get("default", "yes")
    if default not in ("yes", "no"):
        c.add(raw.line_of("default"), f"{where}.default: must be yes or no")
        default = "yes"
    return Node(
        id=node_id,
        question=c.text(raw, "question", f"{where}.question"),
        yes=raw.get("yes") if isinstance(raw.get("yes"), str) else None,
        no=raw.get("no") if isinstance(raw.get("no"), str) else None,
        default=default,
        auto_yes=_auto(c, raw, "auto_yes", where),
        auto_no=_auto(c, raw, "auto_no", where),
    )


def _leaf_node(c: Checker, node_id: str, raw: Located, where: str) -> Node:
    c.unknown_fields(raw, LEAF_FIELDS, where)
    checklist = c.texts(raw, "checklist", f"{where}.checklist")
    if "checklist" in raw and not checklist and not isinstance(raw.get("checklist"), LocatedList):
        pass  # already reported as a wrong type
    elif "checklist" in raw and not raw["checklist"]:
        c.add(raw.line_of("checklist"), f"{where}.checklist: needs at least one step")
    if len(raw.get("checklist") or ()) > MAX_STEPS:
        c.add(raw.line_of("checklist"), f"{where}.checklist: {len(raw['checklist'])} steps; at most {MAX_STEPS} "
              "fit on a phone screen")  # fmt: skip
    donts = c.texts(raw, "donts", f"{where}.donts")
    if "donts" in raw and not raw["donts"]:
        c.add(raw.line_of("donts"), f"{where}.donts: needs at least one 'do not'")
    escalation = None
    if "escalation" in raw:
        escalation = _escalation(c, raw["escalation"], raw.line_of("escalation"), where)
    else:
        c.add(raw.line, f"{where}: escalation missing (to, when)")
    return Node(
        id=node_id,
        title=c.text(raw, "title", f"{where}.title", required=False),
        checklist=checklist,
        donts=donts,
        escalation=escalation,
    )


def _nodes(c: Checker, raw_nodes: Any, line: int) -> tuple[dict[str, Node], dict[str, int]]:
    """Nodes by id, and the line of each node and of each ``node.yes`` / ``node.no`` link."""
    nodes: dict[str, Node] = {}
    lines: dict[str, int] = {}
    table = c.mapping(raw_nodes, line, "nodes")
    if table is None:
        return nodes, lines
    for node_id, raw in table.items():
        where = f"node {node_id!r}"
        node_line = table.line_of(node_id)
        lines[node_id] = node_line
        body = c.mapping(raw, node_line, where)
        if body is None:
            continue
        for branch in ("yes", "no"):
            if branch in body:
                lines[f"{node_id}.{branch}"] = body.line_of(branch)
        is_question = "question" in body or "yes" in body or "no" in body
        nodes[node_id] = (
            _question_node(c, node_id, body, where) if is_question else _leaf_node(c, node_id, body, where)
        )
    return nodes, lines


def _check_graph(
    c: Checker, start: str, nodes: dict[str, Node], lines: dict[str, int], start_line: int
) -> None:
    """Every link names a node; every node is reachable from ``start``; no path loops back."""
    for node in nodes.values():
        for branch, target in (("yes", node.yes), ("no", node.no)):
            if target is not None and target not in nodes:
                c.add(
                    lines.get(f"{node.id}.{branch}", lines[node.id]),
                    f"node {node.id!r}: {branch} goes to unknown node {target!r}",
                )
    if start not in nodes:
        c.add(start_line, f"start: unknown node {start!r}")
        return
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node_id: str, path: list[str]) -> None:
        state[node_id] = 1
        node = nodes[node_id]
        for target in (node.yes, node.no):
            if target is None or target not in nodes:
                continue
            if state.get(target) == 1:
                loop = " -> ".join([*path[path.index(target) :], target])
                c.add(lines[node_id], f"node {node_id!r}: cycle {loop}")
            elif target not in state:
                visit(target, [*path, target])
        state[node_id] = 2

    visit(start, [start])
    for node_id in nodes:  # lines also holds "node.branch" keys; only nodes are checked here
        if node_id not in state:
            c.add(lines[node_id], f"node {node_id!r}: unreachable (no question leads to it from {start!r})")


def load_symptom(path: Path, label: str) -> tuple[Symptom | None, list[Problem]]:
    data, problems = load_file(path, label)
    if data is None:
        return None, problems or [Problem(label, 1, "empty file")]
    c = Checker(label)
    c.problems = problems
    raw = c.mapping(data, 1, "symptom file")
    if raw is None:
        return None, c.problems
    c.unknown_fields(raw, SYMPTOM_FIELDS, "symptom")
    symptom_id = raw.get("id")
    if not isinstance(symptom_id, str):
        c.add(raw.line_of("id"), "id: missing")
        return None, c.problems
    if symptom_id not in SYMPTOM_IDS:
        c.add(raw.line_of("id"), f"id: {symptom_id!r} is not a known symptom id ({', '.join(SYMPTOM_IDS)})")
    if path.stem != symptom_id:
        c.add(raw.line_of("id"), f"id: {symptom_id!r} does not match the file name {path.name!r}")
    checks = raw.get("probe_checks") or LocatedList()
    if not isinstance(checks, LocatedList):
        c.add(raw.line_of("probe_checks"), "probe_checks: must be a list, e.g. [dns, tcp, tls]")
        checks = LocatedList()
    for i, check in enumerate(checks):
        if check not in PROBE_CHECKS:
            c.add(
                checks.line_at(i), f"probe_checks: unknown check {check!r} (one of {', '.join(PROBE_CHECKS)})"
            )
    nodes, lines = _nodes(c, raw.get("nodes"), raw.line_of("nodes"))
    start = raw.get("start")
    if not isinstance(start, str):
        c.add(raw.line_of("start"), "start: must name the first node")
    elif nodes:
        _check_graph(c, start, nodes, lines, raw.line_of("start"))
    symptom = Symptom(
        id=symptom_id,
        title=c.text(raw, "title") or Text("", ""),
        summary=c.text(raw, "summary") or Text("", ""),
        evidence=_evidence(c, raw.get("recognise"), raw.line_of("recognise"), symptom_id),
        probe_checks=tuple(x for x in checks if x in PROBE_CHECKS),
        start=start if isinstance(start, str) else "",
        nodes=nodes,
        source_file=label,
    )
    return symptom, c.problems


# --- shared files ----------------------------------------------------------------------------------


def _load_clients(path: Path, label: str) -> tuple[tuple[Client, ...], list[Problem]]:
    data, problems = load_file(path, label)
    if data is None and problems:
        return (), problems
    c = Checker(label)
    c.problems = problems
    if not isinstance(data, LocatedList):
        c.add(getattr(data, "line", 1), "clients.yml must be a list of {id, name, patterns}")
        return (), c.problems
    clients: list[Client] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(data):
        entry = c.mapping(item, data.line_at(i), f"client #{i + 1}")
        if entry is None:
            continue
        c.unknown_fields(entry, {"id", "name", "patterns"}, "client")
        cid = entry.get("id")
        if not isinstance(cid, str):
            c.add(entry.line, "client: id missing")
            continue
        if cid in seen:
            c.add(entry.line_of("id"), f"client: duplicate id {cid!r} (first on line {seen[cid]})")
        seen[cid] = entry.line_of("id")
        raw_patterns = entry.get("patterns") or LocatedList()
        compiled = [
            c.regex(str(p), raw_patterns.line_at(j), f"client {cid!r}") for j, p in enumerate(raw_patterns)
        ]
        name = c.text(entry, "name", f"client {cid!r} name")
        if name and compiled and all(compiled):
            clients.append(Client(cid, name, tuple(p for p in compiled if p)))
        elif not raw_patterns:
            c.add(entry.line, f"client {cid!r}: patterns missing")
    return tuple(clients), c.problems


def _load_escalation(
    path: Path, label: str
) -> tuple[dict[str, tuple[Text, Text]], tuple[Text, ...], list[Problem]]:
    data, problems = load_file(path, label)
    if data is None and problems:
        return {}, (), problems
    c = Checker(label)
    c.problems = problems
    raw = c.mapping(data, 1, "escalation.yml")
    if raw is None:
        return {}, (), c.problems
    c.unknown_fields(raw, {"targets", "prepare"}, "escalation")
    targets: dict[str, tuple[Text, Text]] = {}
    table = c.mapping(raw.get("targets"), raw.line_of("targets"), "targets")
    for target in ESCALATION_TARGETS:
        entry = table.get(target) if table is not None else None
        if entry is None:
            c.add(table.line if table is not None else 1, f"targets: {target!r} missing")
            continue
        body = c.mapping(entry, table.line_of(target) if table else 1, f"targets.{target}")
        if body is None:
            continue
        name, how = (
            c.text(body, "name", f"targets.{target}.name"),
            c.text(body, "how", f"targets.{target}.how"),
        )
        if name and how:
            targets[target] = (name, how)
    return targets, c.texts(raw, "prepare", "prepare"), c.problems


def _load_questions(path: Path, label: str) -> tuple[dict[str, Text], list[Problem]]:
    data, problems = load_file(path, label)
    if data is None and problems:
        return {}, problems
    c = Checker(label)
    c.problems = problems
    raw = c.mapping(data, 1, "questions.yml")
    questions: dict[str, Text] = {}
    if raw is None:
        return questions, c.problems
    for key in ("clarifying", "password_warning", "sending_hint"):
        value = c.text(raw, key)
        if value:
            questions[key] = value
    for key in set(raw) - {"clarifying", "password_warning", "sending_hint"}:
        value = c.text(raw, key)
        if value:
            questions[key] = value
    return questions, c.problems


# --- the folder ------------------------------------------------------------------------------------

ProviderLoader = Callable[[Path], tuple[list[Any], list[Problem]]]


def _provider_loader() -> ProviderLoader | None:
    try:
        from bot.providers import load_providers
    except ImportError:  # provider files arrive with the settings feature
        return None
    return cast(ProviderLoader, load_providers)


def inspect(root: Path) -> tuple[Knowledge | None, list[Problem]]:
    """Load the folder; returns (knowledge or None, every problem found)."""
    root = Path(root)
    if not root.is_dir():
        return None, [Problem(str(root), 0, "not a folder")]

    def rel(path: Path) -> str:
        try:
            return str(path.relative_to(root.parent))
        except ValueError:
            return str(path)

    problems: list[Problem] = []
    symptoms: dict[str, Symptom] = {}
    symptom_dir = root / "symptoms"
    for path in sorted(symptom_dir.glob("*.y*ml")):
        symptom, found = load_symptom(path, rel(path))
        problems += found
        if symptom is None:
            continue
        if symptom.id in symptoms:
            problems.append(Problem(rel(path), 1, f"duplicate symptom id {symptom.id!r} "
                                    f"(also in {symptoms[symptom.id].source_file})"))  # fmt: skip
        symptoms[symptom.id] = symptom
    for missing in sorted(set(SYMPTOM_IDS) - set(symptoms)):
        if not (symptom_dir / f"{missing}.yml").exists():
            problems.append(Problem(rel(symptom_dir), 0, f"symptom {missing!r} missing: add {missing}.yml"))

    shared = root / "shared"
    clients, found = _load_clients(shared / "clients.yml", rel(shared / "clients.yml"))
    problems += found
    targets, prepare, found = _load_escalation(shared / "escalation.yml", rel(shared / "escalation.yml"))
    problems += found
    questions, found = _load_questions(shared / "questions.yml", rel(shared / "questions.yml"))
    problems += found

    providers: list[Any] = []
    loader = _provider_loader()
    if loader is not None and (root / "providers").is_dir():
        providers, found = loader(root / "providers")
        problems += found
    knowledge = Knowledge(root, symptoms, clients, targets, prepare, questions, tuple(providers))
    return knowledge, problems


def _fingerprint(root: Path) -> str:
    """Changes whenever any file in the folder (or this loader) changes: name, size or modification time."""
    digest = hashlib.sha256(f"{CACHE_VERSION}:{root.resolve()}:{Path(__file__).stat().st_mtime_ns}".encode())
    for path in sorted(root.rglob("*")):
        if path.is_file():
            st = path.stat()
            digest.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return digest.hexdigest()[:32]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mailcheck"


def _read_cache(path: Path) -> Knowledge | None:
    try:
        with path.open("rb") as handle:
            cached = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None
    return cached if isinstance(cached, Knowledge) else None


def _write_cache(path: Path, knowledge: Knowledge) -> None:
    """Best effort: a read-only home or a full disk only costs the next start its speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            pickle.dump(knowledge, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError:
        pass


def load(root: Path, *, cache: bool = True) -> Knowledge:
    """The validated knowledge, or KnowledgeError listing every problem.

    Parsing ~40 YAML files costs ~150 ms, most of a CLI start; a folder that validated before is read
    back from a pickle keyed on every file's size and mtime (like .pyc files), so only a change re-parses.
    """
    root = Path(root)
    cached_at = _cache_dir() / f"knowledge-{_fingerprint(root)}.pickle" if cache and root.is_dir() else None
    if cached_at is not None and (cached := _read_cache(cached_at)) is not None:
        return cached
    knowledge, problems = inspect(root)
    if problems or knowledge is None:
        raise KnowledgeError(problems)
    if cached_at is not None:
        _write_cache(cached_at, knowledge)
    return knowledge
