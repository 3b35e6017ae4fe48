"""Training configs: validation and `base:` inheritance (no torch needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakelens.errors import ConfigError
from fakelens.training.config import load_config

BASE = """\
name: fakelens-faceswap
architecture: mobilenet_xray
data:
  kind: mixed
  face_caches: [a, b]
  cache_weights: [0.5, 0.5]
  reenact_prob: 0.2
  val_pair_caches: [v]
input_size: 160
seed: 1
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_a_config_overrides_only_what_it_sets_on_its_base(tmp_path):
    _write(tmp_path, "base.yaml", BASE)
    (tmp_path / "runs").mkdir()
    child = _write(tmp_path / "runs", "child.yaml",
                   "base: ../base.yaml\ninput_size: 192\ndata:\n  reenact_prob: 0.0\n"
                   "  face_caches: [c]\n")
    base, cfg = load_config(tmp_path / "base.yaml"), load_config(child)
    assert (cfg.input_size, cfg.data.reenact_prob) == (192, 0.0)
    assert cfg.data.face_caches == [Path("c")]  # lists replace, never append
    assert cfg.data.cache_weights == base.data.cache_weights  # nested keys merge
    assert cfg.data.val_pair_caches == base.data.val_pair_caches and cfg.seed == 1
    grandchild = _write(tmp_path / "runs", "grandchild.yaml", "base: child.yaml\nseed: 3\n")
    assert load_config(grandchild).model_dump() == cfg.model_copy(update={"seed": 3}).model_dump()


BROKEN = {
    "a.yaml": ("base: b.yaml\nseed: 1\n", "loops"),  # a -> b -> a
    "b.yaml": ("base: a.yaml\nseed: 2\n", "loops"),
    "orphan.yaml": ("base: missing.yaml\n", "missing.yaml"),
    "list.yaml": ("- 1\n- 2\n", "mapping"),
    "unclosed.yaml": ("name: [unclosed\n", "not valid YAML"),
    "two.yaml": ("base: [a.yaml, b.yaml]\n", "one config file"),
    "typo.yaml": (BASE + "lerning_rate: 0.1\n", "lerning_rate"),  # unknown keys never pass
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_configs_are_clear_errors(name, tmp_path):
    for file, (text, _) in BROKEN.items():
        _write(tmp_path, file, text)
    with pytest.raises(ConfigError, match=BROKEN[name][1]):
        load_config(tmp_path / name)
