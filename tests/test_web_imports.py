"""contest/web/: controllers share one module (contest.web) and never import one another (read with ast)."""

import ast
from pathlib import Path

import contest.web

WEB_DIR = Path(contest.web.__file__).parent
PACKAGE = "contest.web"
MODULES = {f"{PACKAGE}.{path.stem}": path for path in WEB_DIR.glob("*.py") if path.stem != "__init__"}
ROUTE_DECORATORS = {"get", "post", "put", "patch", "delete", "head", "route"}
# The API's typed bodies import Int from contest.web, so the shared module cannot re-export them.
OWN_HALVES = {"contest.web.api": {"contest.web.api_schemas"}}


def _name(node: ast.expr) -> str:
    """`Controller` for both `Controller` and `litestar.Controller`; `get` for `get(...)`."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def defines_controller(tree: ast.Module) -> bool:
    """A Controller subclass, or a route handler function, at the top of the module."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(_name(base) == "Controller" for base in node.bases):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                _name(decorator) in ROUTE_DECORATORS for decorator in node.decorator_list):
            return True
    return False


def web_imports(tree: ast.Module, module: str) -> set[str]:
    """The contest.web modules a module imports, anywhere in it (a function's late import included)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.rsplit(".", node.level)[0]
                base = f"{parent}.{base}" if base else parent
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {name for name in names if name in MODULES}
    return found - {module}


def _trees() -> dict[str, ast.Module]:
    return {module: ast.parse(path.read_text(encoding="utf-8")) for module, path in MODULES.items()}


def test_web_controllers_are_found():
    controllers = {module for module, tree in _trees().items() if defines_controller(tree)}

    assert {"contest.web.auth", "contest.web.contestant", "contest.web.results", "contest.web.pages"} <= controllers
    assert controllers.isdisjoint({"contest.web.context", "contest.web.sessions", "contest.web.errors",
                                   "contest.web.api_schemas"})


def test_web_controller_imports_no_other_controller():
    trees = _trees()
    controllers = {module for module, tree in trees.items() if defines_controller(tree)}

    imported = {module: sorted(web_imports(trees[module], module) & controllers) for module in controllers}

    assert imported == {module: [] for module in controllers}


def test_web_controller_reaches_other_web_modules_only_through_contest_web():
    trees = _trees()
    controllers = {module for module, tree in trees.items() if defines_controller(tree)}

    imported = {module: web_imports(trees[module], module) for module in controllers}

    assert {module: names for module, names in imported.items() if names} == OWN_HALVES


def test_web_imports_sees_every_import_form():
    source = """
import contest.web.results
from contest.web.staff_contests import get_contest
from contest.web import DB, contestant
from . import auth
from .stats import PublicStatsController
from contest.web import api  # noqa


def late():
    from contest.web.staff_units import UnitsController
"""
    found = web_imports(ast.parse(source), "contest.web.banks")

    assert found == {"contest.web.results", "contest.web.staff_contests", "contest.web.contestant",
                     "contest.web.auth", "contest.web.stats", "contest.web.api", "contest.web.staff_units"}
