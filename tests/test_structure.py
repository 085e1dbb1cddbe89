"""The shape of the package: layers, import circles, sizes, private names, public names.

Read from the source with ``ast`` (nothing is imported to find these), so each test
names the file and line that breaks the rule.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import wxframe
from wxframe import errors

PACKAGE = Path(wxframe.__file__).parent

#: Each module's layer: a module may import its own layer and those below, never above.
LAYERS: dict[str, int] = {
    "wxframe.errors": 0,
    "wxframe.dates": 1,
    "wxframe.endpoints": 2,
    "wxframe.pages": 2,
    "wxframe.nesting": 2,
    "wxframe.codes": 2,
    "wxframe.client": 3,
    "wxframe.frames": 4,
    "wxframe.fetch": 5,
    "wxframe.loaders": 6,
    "wxframe.store": 6,
    "wxframe.analysis": 7,
    "wxframe._axes": 7,
    "wxframe.plots": 7,
    "wxframe.accessor": 7,
    "wxframe.report": 7,
    "wxframe.deliver": 7,
    "wxframe.accounts": 7,
    "wxframe.doctor": 7,
    "wxframe.simulator": 7,
    "wxframe.datasets": 7,
    "wxframe.job": 8,
    "wxframe.cli": 8,
    "wxframe.demo": 8,
    "wxframe.__main__": 8,
    "wxframe": 9,
}
MAX_MODULE_LINES = 800
MAX_CLASS_LINES = 400
#: Underscored attributes that are public API of their types (namedtuple's).
PUBLIC_UNDERSCORED = frozenset({"_replace", "_asdict", "_fields", "_make"})


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _layer(module: str) -> int:
    while module not in LAYERS:
        module = module.rpartition(".")[0]
    return LAYERS[module]


def _type_only(tree: ast.AST) -> set[int]:
    """The ids of the import nodes under ``if TYPE_CHECKING:`` (for annotations only)."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            ids |= {id(n) for part in node.body for n in ast.walk(part)}
    return ids


def _imports(name: str, path: Path, *, runtime: bool = False) -> list[tuple[int, str]]:
    """Every wxframe module ``name`` imports (at any depth of its code), with the line;
    with ``runtime``, not those only type checkers see."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_only(tree) if runtime else set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("wxframe")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))  # fmt: skip
            if not base.startswith("wxframe"):
                continue
            for alias in node.names:  # ``from wxframe import plots`` imports the module
                sub = f"{base}.{alias.name}"
                found.append((node.lineno, sub if sub in MODULES else base))
    return found


def test_no_module_imports_a_layer_above_it() -> None:
    wrong = [
        f"{MODULES[name].relative_to(PACKAGE.parent)}:{line}: {name} imports {target}"
        for name in MODULES
        for line, target in _imports(name, MODULES[name])
        if _layer(target) > _layer(name)
    ]
    assert not wrong, "\n".join(wrong)


def test_there_is_no_import_circle() -> None:
    # Imports for annotations only (under TYPE_CHECKING) are not a dependency at run time.
    graph = {
        name: {t for _, t in _imports(name, path, runtime=True) if t != name}
        for name, path in MODULES.items()
    }
    # A package's __init__ importing its own modules is how a package is made; the
    # modules importing each other in a circle is not.
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt == "wxframe" or nxt == node:
                continue
            if state.get(nxt) == 1:
                circles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not circles, circles


def test_the_client_imports_neither_pandas_nor_frames_nor_the_store() -> None:
    banned = re.compile(r"^(pandas|numpy|pyarrow|wxframe\.(frames|store|fetch|loaders))\b")
    for name, path in MODULES.items():
        if not name.startswith("wxframe.client"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for imported in names:
                assert not banned.match(imported), f"{path}:{node.lineno} imports {imported}"


def test_no_module_and_no_class_is_too_long() -> None:
    too_long = []
    for name, path in MODULES.items():
        text = path.read_text()
        if (lines := len(text.splitlines())) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {lines} lines (at most {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                span = (node.end_lineno or node.lineno) - node.lineno + 1
                if span > MAX_CLASS_LINES:
                    too_long.append(f"{name}.{node.name}: {span} lines (at most {MAX_CLASS_LINES})")
    assert not too_long, "\n".join(too_long)


def _defined_private_names(tree: ast.Module) -> set[str]:
    """The private names this module owns: its module-level and class-level definitions
    (a class nested in a function too) and the attributes its code sets on ``self``;
    not a local variable that happens to share a name."""
    names: set[str] = set()

    def body(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            for target in getattr(node, "targets", [getattr(node, "target", None)]):
                if isinstance(target, ast.Name):
                    names.add(target.id)
            if isinstance(node, ast.ClassDef):
                body(node.body)

    body(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            body(node.body)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            names.add(node.attr)
    return {n for n in names if n.startswith("_")}


def test_no_module_reaches_a_private_name_of_another() -> None:
    """``from wxframe.x import _y`` or ``obj._y`` where ``_y`` is not this module's own."""
    wrong = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        own = _defined_private_names(tree) | PUBLIC_UNDERSCORED
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("wxframe"):
                hidden = [p for p in (node.module or "").split(".") if p.startswith("_")]
                package = (node.module or "").partition("._")[0]
                if hidden and not name.startswith(package):
                    wrong.append(f"{path}:{node.lineno}: imports from {node.module}")
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    private = alias.name.startswith("_") and not alias.name.startswith("__")
                    # a package's private module, from inside that package, is its own
                    if private and not (sub in MODULES and name.startswith(node.module or "")):
                        wrong.append(f"{path}:{node.lineno}: imports {alias.name}")
            if (  # getattr(obj, "_name") is the same reach
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr", "setattr")
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
                and str(node.args[1].value).startswith("_")
                and not str(node.args[1].value).startswith("__")
                and node.args[1].value not in own
            ):
                wrong.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
            if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
                if node.attr.startswith("__") or node.attr in own:
                    continue
                if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                    continue
                wrong.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
    assert not wrong, "\n".join(wrong)


PUBLIC_MODULES = sorted(
    name
    for name in MODULES
    if not any(part.startswith("_") for part in name.split(".")[1:]) and name != "wxframe"
)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_module_says_what_it_exports(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == sorted(exported, key=lambda n: (not n.isupper(), n)), name
    assert len(set(exported)) == len(exported), name
    for public in exported:
        assert hasattr(module, public), f"{name}.__all__ names {public}, which it lacks"
    # what the module defines and does not hide is listed
    for attr, value in vars(module).items():
        if attr.startswith("_") or inspect.ismodule(value):
            continue
        if (inspect.isclass(value) or inspect.isfunction(value)) and getattr(
            value, "__module__", None
        ) == name:
            assert attr in exported, f"{name}.{attr} is public but not in __all__"


def test_the_front_door_exports_every_error_and_the_users_names() -> None:
    from wxframe import client, loaders, store

    names = set(wxframe.__all__)
    exceptions = {
        n for n, v in vars(errors).items() if inspect.isclass(v) and issubclass(v, Exception)
    }
    exceptions &= set(errors.__all__)
    assert exceptions <= names, exceptions - names
    for module in (loaders, store):
        assert set(module.__all__) <= names, (module.__name__, set(module.__all__) - names)
    assert {"Client", "RetryPolicy"} <= names and client.Client is wxframe.Client


def test_every_endpoint_has_its_named_loader() -> None:
    assert set(wxframe.LOADERS) == {spec.loader for spec in wxframe.ENDPOINTS.values()}
    for spec in wxframe.ENDPOINTS.values():
        loader = getattr(wxframe, spec.loader)
        assert loader is wxframe.LOADERS[spec.loader] and spec.loader in wxframe.__all__
        assert "Examples" in (loader.__doc__ or ""), spec.loader


def _tree_in_docstring() -> dict[str, str | None]:
    """``{class: parent}`` as the errors module's docstring draws it."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        found = re.match(r"^(\s*(?:[│ ]   )*(?:[├└]── )?)([A-Z]\w+)", line)
        if not found or not re.search(r"(Error|Warning|Incomplete)\b", found.group(2)):
            continue
        depth = len(found.group(1))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[found.group(2)] = stack[-1][1] if stack else None
        stack.append((depth, found.group(2)))
    return parents


def test_the_exception_tree_in_the_docstring_is_complete() -> None:
    drawn = _tree_in_docstring()
    real: dict[str, str | None] = {}
    for name in errors.__all__:
        cls = getattr(errors, name)
        if not (inspect.isclass(cls) and issubclass(cls, Exception)):
            continue
        ours = [b for b in cls.__bases__ if b.__module__ == errors.__name__]
        real[name] = ours[0].__name__ if ours else None
    assert drawn == real


@pytest.mark.slow
def test_mypy_sees_every_public_name(tmp_path: Path) -> None:
    use = tmp_path / "use_wxframe.py"
    names = [n for n in wxframe.__all__ if n != "__version__"]
    use.write_text(
        f"from wxframe import {', '.join(names)}\n"
        "import pandas as pd\n"
        "frame: pd.DataFrame = load_article_read(Client(access_token='t'), '2025-11-01', "
        "'2025-11-02')\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent", str(use)],
        capture_output=True,
        text=True,
        cwd=PACKAGE.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
