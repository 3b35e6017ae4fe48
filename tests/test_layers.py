"""The import direction of the layers: the job code never loads the web layer, the database
layer never loads the forum (checked in a fresh interpreter, nothing imported before)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def loaded_after(*modules: str) -> set[str]:
    code = ("import importlib, json, sys\n"
            f"for name in {list(modules)!r}:\n"
            "    importlib.import_module(name)\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('fakelens'))))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize("modules, forbidden", [
    (("fakelens.jobs.queue", "fakelens.jobs.tasks", "fakelens.jobs.files", "fakelens.jobs.retry"),
     "fakelens.web"),
    (("fakelens.db.tables", "fakelens.db.engine"), "fakelens.forum"),
    (("fakelens.db.tables", "fakelens.db.engine"), "fakelens.web"),
])
def test_lower_layers_never_import_upper_ones(modules, forbidden):
    loaded = loaded_after(*modules)
    assert set(modules) <= loaded
    assert not {m for m in loaded if m == forbidden or m.startswith(forbidden + ".")}
