"""The package layout is the study path: one folder per step, data flowing one way.

Every ``import`` in ``radnb/`` is read from the source (imports inside functions
included, since a lazy import still ties two modules together), then two rules
are checked, in the spirit of import-linter's *layers* contract:

1. no import cycle between modules;
2. a step may import only steps in its own layer or below (``LAYERS``), and the
   steps of one layer must not import each other in a circle.

A new step package must be given a layer here, so the decision is made once and
reviewed.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "radnb"

#: Top to bottom. A package may import packages in its own layer or in lower ones.
LAYERS = [
    ("__main__", "_notebooks"),        # command line and notebook runner
    ("study",),                        # reads every step's record; nothing imports it
    ("datasets",),                     # builds the demo study with the steps below
    ("deep", "genomics"),              # new analyses built on the classic steps
    ("report",),
    ("evaluate",),
    ("stats",),
    ("reproducibility", "harmonize"),
    ("extract",),
    ("preprocess", "segment"),        # may use the viewers below them
    ("view",),
    ("cohort",),
    ("io",),
    ("_utils",),                       # shared helpers: import no other radnb package
]
RANK = {pkg: len(LAYERS) - i for i, layer in enumerate(LAYERS) for pkg in layer}
MAX_TOP_LEVEL_FILES = 4


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(name: str, modules) -> str | None:
    """The radnb module an imported dotted name refers to (a module or its package)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {m: set() for m in modules}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                # ``from pkg import x`` runs ``pkg/__init__`` first, whatever x is
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for target in targets:
                if target == "radnb" or not target.startswith("radnb."):
                    continue
                resolved = _resolve(target, modules)
                if resolved and resolved != mod:
                    graph[mod].add(resolved)
    return graph


def _step(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "radnb"


def find_cycle(graph) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes, or None (iterative depth-first search)."""
    colour = dict.fromkeys(graph, 0)  # 0 new, 1 on the stack, 2 done
    for start in graph:
        if colour[start]:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        colour[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour.get(child) == 1:
                return path[path.index(child):] + [child]
            elif colour.get(child, 2) == 0:
                colour[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_find_cycle_finds_lazy_and_indirect_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_import_graph_sees_imports_inside_functions(tmp_path):
    graph = import_graph()
    # radnb.extract._extraction imports the data home lazily, inside a function
    assert "radnb._utils.data_home" in graph["radnb.extract._extraction"]


def test_one_folder_per_step_and_few_top_level_files():
    top = sorted(p.name for p in ROOT.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_FILES, f"too many files at the top of radnb/: {top}"
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    unplaced = packages - set(RANK)
    assert not unplaced, f"give these packages a layer in tests/test_layout.py: {sorted(unplaced)}"


def test_no_module_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_steps_import_only_their_layer_or_below():
    graph = import_graph()
    upward = sorted(
        f"{m} imports {t}"
        for m, targets in graph.items() for t in targets
        if _step(m) != "radnb" and RANK.get(_step(t), 0) > RANK.get(_step(m), 0)
    )
    assert not upward, "imports against the study path:\n" + "\n".join(upward)
    steps = {}
    for m, targets in graph.items():
        steps.setdefault(_step(m), set()).update(_step(t) for t in targets if _step(t) != _step(m))
    cycle = find_cycle(steps)
    assert cycle is None, "steps import each other in a circle: " + " -> ".join(cycle)


def test_utils_import_no_other_step():
    graph = import_graph()
    bad = sorted(f"{m} -> {t}" for m, ts in graph.items() if _step(m) == "_utils"
                 for t in ts if _step(t) != "_utils")
    assert not bad, bad


STEPS = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "_utils")


@pytest.mark.parametrize("step", STEPS)
def test_public_face_is_short_and_reexports_only(step):
    init = ROOT / step / "__init__.py"
    tree = ast.parse(init.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"radnb/{step}/__init__.py needs a docstring saying what the step does"
    kinds = {type(n).__name__ for n in tree.body[1:]}
    assert kinds <= {"ImportFrom", "Assign"}, f"radnb/{step}/__init__.py should only re-export: {kinds}"
    import importlib

    module = importlib.import_module(f"radnb.{step}")
    for name in module.__all__:
        assert hasattr(module, name), f"radnb.{step}.__all__ names {name!r}, which it does not export"
