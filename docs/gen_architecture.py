"""The Architecture page, drawn from the code when the site is built.

Run by the ``gen-files`` plugin of ``mkdocs.yml``: it reads ``docs/architecture.md`` (the
hand-written part) and replaces the line ``<!-- architecture:generated -->`` with what the
code says now. Every module of ``extractor/`` is read with :mod:`ast` (nothing is
imported or run): the first paragraph of its docstring is its purpose, and its imports of
other modules of the package (at any depth: lazy imports and ``TYPE_CHECKING`` ones count)
are its arrows. Modules are grouped into *units*: a subpackage, or a top-level module.
A unit's *floor* is one above the highest unit it imports (floor 1 imports nothing of the
package), so every arrow points down.

``render()`` returns the generated Markdown; ``tests/test_docs.py`` checks that every module
appears in it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "extractor"
MARKER = "<!-- architecture:generated -->"


@dataclass
class Module:
    name: str  # dotted: extractor.evidence.text
    path: Path
    is_package: bool
    lines: int
    purpose: str
    imports: set[str] = field(default_factory=set)  # dotted names of modules of the package

    @property
    def unit(self) -> str:
        """The subpackage holding this module, or the module itself when it is top-level."""
        parts = self.name.split(".")
        in_subpackage = len(parts) >= 3 or (self.is_package and len(parts) == 2)
        return ".".join(parts[:2]) if in_subpackage else self.name


def _name_of(path: Path, root: Path) -> tuple[str, bool]:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


_ROLE = re.compile(r":(?:mod|func|class|meth|attr|data|exc):`~?([^`]+)`")


def first_paragraph(doc: str | None) -> str:
    """A docstring's first paragraph on one line, its reST markup made Markdown (empty when
    there is no docstring)."""
    if not doc:
        return ""
    text = " ".join(doc.strip().split("\n\n")[0].split())
    text = re.sub(r"``(.+?)``", r"`\1`", text)
    return _ROLE.sub(lambda m: f"`{m.group(1)}`", text)


def _resolve(module: Module, node: ast.ImportFrom | ast.Import, known: set[str]) -> set[str]:
    """The modules of the package that one import statement names."""

    def nearest(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    found: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                found.add(nearest(alias.name) or PACKAGE)
        return found
    if node.level:
        base = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    elif node.module and (node.module == PACKAGE or node.module.startswith(PACKAGE + ".")):
        prefix = node.module
    else:
        return found
    for alias in node.names:
        full = f"{prefix}.{alias.name}"
        target = full if full in known else nearest(prefix)
        if target:
            found.add(target)
    return found


def read_modules(root: Path = ROOT) -> dict[str, Module]:
    """Every module of the package, with its purpose and its imports of the package."""
    modules: dict[str, Module] = {}
    trees: dict[str, ast.Module] = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        name, is_package = _name_of(path, root)
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        trees[name] = tree
        modules[name] = Module(name, path, is_package, len(text.splitlines()), first_paragraph(ast.get_docstring(tree)))
    known = set(modules)
    for name, tree in trees.items():
        module = modules[name]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                module.imports |= _resolve(module, node, known)
        module.imports.discard(name)
    return modules


def unit_graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    """unit -> the other units it imports."""
    graph: dict[str, set[str]] = {m.unit: set() for m in modules.values()}
    for m in modules.values():
        for target in m.imports:
            other = modules[target].unit
            if other != m.unit:
                graph[m.unit].add(other)
    return graph


def floors(graph: dict[str, set[str]]) -> tuple[dict[str, int], list[list[str]]]:
    """Each unit's floor (1 + the highest floor it imports), and the circles found (units
    that import each other; their floor is computed as if the arrow closing the loop were
    not there)."""
    floor: dict[str, int] = {}
    circles: list[list[str]] = []
    visiting: list[str] = []

    def visit(unit: str) -> int:
        if unit in floor:
            return floor[unit]
        if unit in visiting:
            circles.append(visiting[visiting.index(unit) :] + [unit])
            return 0
        visiting.append(unit)
        level = 1 + max((visit(u) for u in sorted(graph[unit])), default=0)
        visiting.pop()
        floor[unit] = level
        return level

    for unit in sorted(graph):
        visit(unit)
    return floor, circles


def reduced(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The arrows left when one implied by a longer way down is not drawn."""

    def reach(start: str, skip: str) -> set[str]:
        seen: set[str] = set()
        todo = [u for u in graph[start] if u != skip]
        while todo:
            u = todo.pop()
            if u not in seen:
                seen.add(u)
                todo.extend(graph[u])
        return seen

    return {a: {b for b in targets if b not in reach(a, b)} for a, targets in graph.items()}


def _short(unit: str, modules: dict[str, Module]) -> str:
    """How a unit is named in the diagram: ``evidence/``, ``api.py``, ``__init__.py``."""
    if unit == PACKAGE:
        return f"{PACKAGE} (facade)"
    tail = unit.split(".", 1)[1]
    return f"{tail}/" if modules[unit].is_package else f"{tail}.py"


def _node_id(unit: str, modules: dict[str, Module]) -> str:
    """A diagram node id that reads well in the diagram's source too (``cli``, ``api_py``)."""
    if unit == PACKAGE:
        return "facade"
    tail = unit.split(".", 1)[1].strip("_")
    return tail if modules[unit].is_package else f"{tail}_py"


def _code(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) if names else "nothing of the package"


def render(root: Path = ROOT) -> str:
    """The generated part of the Architecture page."""
    modules = read_modules(root)
    graph = unit_graph(modules)
    floor, circles = floors(graph)
    drawn = reduced(graph)
    units = sorted(graph, key=lambda u: (-floor[u], u))
    users: dict[str, set[str]] = {u: set() for u in graph}
    for a, targets in graph.items():
        for b in targets:
            users[b].add(a)
    ids = {u: _node_id(u, modules) for u in units}
    arrows = sum(len(t) for t in graph.values())
    out: list[str] = []
    add = out.append

    add("## The layers\n")
    add(
        f"{len(modules)} modules in {len(units)} units (a subpackage, or a module at the top of the "
        f"package) on {max(floor.values())} floors; {arrows} arrows between units, "
        + ("**0 circles**." if not circles else f"**{len(circles)} circle(s)**: "
           + "; ".join(" -> ".join(c) for c in circles) + ".")
        + " An arrow A → B means that a module of A imports a module of B; each unit stands one "
        "floor above the highest unit it imports. The diagram leaves out the "
        f"{arrows - sum(len(t) for t in drawn.values())} arrows that a longer way down already implies; "
        "the tables below list them all.\n"
    )
    add("```mermaid")
    add("graph TD")
    for u in units:
        add(f'  {ids[u]}["{_short(u, modules)}"]')
    for a in units:
        for b in sorted(drawn[a], key=lambda u: (-floor[u], u)):
            add(f"  {ids[a]} --> {ids[b]}")
    add("```\n")
    add("The same layers as text, top floor first:\n")
    add("| floor | units |")
    add("|---:|---|")
    for level in sorted(set(floor.values()), reverse=True):
        add(f"| {level} | " + ", ".join(f"`{u}`" for u in units if floor[u] == level) + " |")
    add("")

    add("## Subpackages\n")
    add("One section per subpackage, top floor first: what it holds (its docstring), what it "
        "imports from, who imports it, and each module with its purpose (the first paragraph of "
        "its docstring) and the modules of the package it imports.\n")
    for u in units:
        if not modules[u].is_package or u == PACKAGE:
            continue
        head = modules[u]
        members = sorted((m for m in modules.values() if m.unit == u and m.name != u), key=lambda m: m.name)
        add(f"### `{u}`\n")
        add(f"*Floor {floor[u]}; {len(members)} module{'s' if len(members) != 1 else ''}, "
            f"{sum(m.lines for m in members) + head.lines:,} lines.*\n")
        add((head.purpose or "(no docstring)") + "\n")
        add(f"- **Imports from:** {_code(sorted(graph[u], key=lambda v: (-floor[v], v)))}")
        add(f"- **Imported by:** {_code(sorted(users[u], key=lambda v: (-floor[v], v)))}")
        others = sorted(
            p.relative_to(head.path.parent).as_posix()
            for p in head.path.parent.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
        )
        if others:
            add(f"- **Other files:** {_code(others)}")
        add("")
        add("| module | lines | purpose | imports from the package |")
        add("|---|---:|---|---|")
        for m in members:
            add(f"| `{m.name}` | {m.lines} | {_cell(m.purpose)} | {_cell(_code(sorted(m.imports)))} |")
        add("")

    add("## Top-level modules\n")
    add("The facade (`extractor/__init__.py`, which imports its public names on first use), the "
        "entry point and the modules every floor shares.\n")
    add("| module | floor | lines | purpose | imports from the package |")
    add("|---|---:|---:|---|---|")
    for u in units:
        m = modules[u]
        if m.is_package and u != PACKAGE:
            continue
        add(f"| `{m.name}` | {floor[u]} | {m.lines} | {_cell(m.purpose)} | {_cell(_code(sorted(m.imports)))} |")
    add("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return (text or "(no docstring)").replace("|", "\\|")


def page(root: Path = ROOT) -> str:
    """``docs/architecture.md`` with its marker replaced by :func:`render`."""
    text = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    if MARKER not in text:
        raise SystemExit(f"docs/architecture.md has no line {MARKER!r} to replace")
    return text.replace(MARKER, render(root))


if __name__ == "<run_path>":  # run by mkdocs-gen-files (runpy.run_path) while the site is built
    import mkdocs_gen_files

    with mkdocs_gen_files.open("architecture.md", "w") as fh:
        fh.write(page())
elif __name__ == "__main__":  # by hand: print the page
    print(page())
