"""The size rule of the codebase: no module under bot/ over 500 lines, no function over 60.

A long file or function is where the next change gets hard to review; this names each
one that grows past the limit, so the split happens when it is still small.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "bot"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60

Function = ast.FunctionDef | ast.AsyncFunctionDef


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, Function]]:
    """Every function and method with its qualified name (Class.method, outer.inner)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.ClassDef):
            yield from functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, Function):
            yield f"{prefix}{node.name}", node
            yield from functions(node, f"{prefix}{node.name}.")


def function_lines(node: Function) -> int:
    """Lines from the first decorator (or the def) to the last line of the body."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    assert node.end_lineno is not None
    return node.end_lineno - first + 1


def oversized(path: Path, package: Path = PACKAGE) -> list[str]:
    """One line per module or function of `path` over its limit, naming it."""
    source = path.read_text(encoding="utf-8")
    name = path.relative_to(package.parent).as_posix()
    found = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES:
        found.append(f"{name}: {lines} lines (limit {MAX_MODULE_LINES})")
    for qualname, node in functions(ast.parse(source, filename=name)):
        length = function_lines(node)
        if length > MAX_FUNCTION_LINES:
            found.append(
                f"{name}:{node.lineno} {qualname}: {length} lines (limit {MAX_FUNCTION_LINES})"
            )
    return found


def test_the_package_is_found() -> None:
    # an empty walk would pass the size check whatever the code looks like
    assert len(modules()) > 50


def test_no_module_or_function_over_the_limit() -> None:
    found = [problem for path in modules() for problem in oversized(path)]
    assert not found, "split these into cohesive pieces:\n" + "\n".join(found)


def test_the_check_names_what_is_too_long(tmp_path: Path) -> None:
    package = tmp_path / "bot"
    package.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    long_method = f"class Big:\n    def grow(self) -> None:\n{body.replace('    ', '        ')}\n"
    (package / "big.py").write_text(long_method + "\n" * MAX_MODULE_LINES, encoding="utf-8")
    (package / "small.py").write_text("def short() -> None:\n    pass\n", encoding="utf-8")
    assert oversized(package / "small.py", package) == []
    found = oversized(package / "big.py", package)
    assert [line.split(":")[0] for line in found] == ["bot/big.py", "bot/big.py"]
    assert "Big.grow: 61 lines" in found[1]
