"""The domain imports the standard library and itself, nothing else (ARCHITECTURE.md).

import-linter forbids the project's known dependencies; this test also catches a package
added later, by comparing every import in the domain's source with the standard library's
module names.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "orchestrator" / "domain"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_the_domain_imports_only_the_standard_library_and_itself():
    modules = sorted(DOMAIN.glob("*.py"))
    assert len(modules) > 10
    outside = {
        f"{path.name}: {name}"
        for path in modules for name in _imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names and name.split(".")[0] != "__future__"
        and not (name == "gikai.orchestrator.domain" or name.startswith("gikai.orchestrator.domain."))
    }
    assert not outside, sorted(outside)
    assert all(node.level == 0 for path in modules for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.ImportFrom)), "the house imports absolutely (gikai.…)"
