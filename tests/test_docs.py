"""The README's facts that code can check: schema version, set-up commands, CLI flags."""

from __future__ import annotations

import re
from pathlib import Path

from fakelens.cli import build_parser
from fakelens.types import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_names_the_current_result_schema():
    named = set(re.findall(r"schema(?:_version`)?(?: is| version)? (\d+\.\d+)", README))
    assert named == {SCHEMA_VERSION}, named


def test_readme_use_block_activates_the_environment_first():
    use = README.split("## Use")[1].split("\n## ")[0]
    first_command = next(line.strip() for line in use.splitlines()
                         if line.startswith("    "))
    assert first_command == ". .venv/bin/activate"


def test_readme_commands_and_flags_exist():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    for line in README.splitlines():
        m = re.match(r"\s{4}(?:\S+=\S+ )*fakelens (\w[\w-]*)(.*)", line)
        if not m:
            continue
        command, rest = m.group(1), m.group(2).split("#")[0]
        assert command in sub, line
        options = {o for a in sub[command]._actions for o in a.option_strings}
        for nested in sub[command]._actions:
            for p in getattr(nested, "choices", None) or {}:
                if isinstance(p, str) and hasattr(nested.choices[p], "_actions"):
                    options |= {o for a in nested.choices[p]._actions for o in a.option_strings}
        for flag in re.findall(r"(?<!\S)(--[\w-]+)", rest):
            assert flag in options, f"{flag} in: {line.strip()}"


def test_scripts_the_readme_names_exist():
    for script in set(re.findall(r"bash (scripts/[\w.]+\.sh)", README)):
        assert (ROOT / script).is_file(), script
