"""The scripts of scripts/ and benchmarks/ loaded as modules, for the tests of their
functions (they are run as files, not installed)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def loaded_script(relative: str) -> Iterator[ModuleType]:
    """The script at ``relative`` (to the repository root) as a module, registered in
    ``sys.modules`` while it is used (a dataclass looks its module up while defined)."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(path.stem, None)
