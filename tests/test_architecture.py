"""The house's structure: what the layers promise (docs/architecture.md), checked by
import-linter as ``make lint`` does, and the sandbox playing every method the catalog offers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def test_every_method_in_the_catalog_has_a_sandbox_behaviour(app: Flask) -> None:
    from checkout.gateway.sandbox import BEHAVIOURS
    from checkout.methods import CATALOG

    assert CATALOG, "the markets were not loaded"
    assert sorted(set(CATALOG) - set(BEHAVIOURS)) == []


def test_import_contracts_hold() -> None:
    """The layers, the gateway contract at the bottom, no circle: ``lint-imports`` (the same
    command ``make lint`` runs) keeps every contract in pyproject.toml."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--no-cache"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_no_import_circle() -> None:
    """Every module of a layer may import its siblings, but never round in a circle."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from import_cycles import cycles
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert cycles() == []
