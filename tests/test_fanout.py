"""`assistant index --ray`: what a user sees without a cluster or without the extra.

The runs against a real two-node cluster are in ``tests/test_scale.py``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from assistant.app import cli
from assistant.kernel.settings import Settings
from index import fanout
from index.pipeline import Indexer
from index.writes import BATCH_CHUNKS, RAY_BATCH_CHUNKS


def _without_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ray" else real(name, *a))


def test_without_the_extra_ray_fails_in_one_line_naming_the_install(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seeds_copy: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _without_ray(monkeypatch)
    code = cli.main(["--store-dir", str(tmp_path / "s"), "index", str(seeds_copy), "--ray", "auto"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert 'pip install -e ".[scale]"' in err
    assert not (tmp_path / "s").exists(), "nothing is read or written before the check"


def test_a_plain_run_needs_no_ray(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _without_ray(monkeypatch)
    indexer = Indexer(Settings(store_dir=tmp_path), embedder=lambda: None)  # type: ignore[arg-type, return-value]
    assert indexer.batch_chunks == BATCH_CHUNKS


def test_the_ray_setting_fans_out_embedding_in_larger_batches(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_RAY_ADDRESS", "127.0.0.1:6379")
    settings = Settings(store_dir=tmp_path)
    assert settings.ray_address == "127.0.0.1:6379"
    built: list[Settings] = []
    monkeypatch.setattr(fanout, "RayEmbedder", lambda s: built.append(s) or "ray embedder")
    indexer = Indexer(settings, embedder=lambda: "in-process")  # type: ignore[arg-type, return-value]
    assert indexer.batch_chunks == RAY_BATCH_CHUNKS > BATCH_CHUNKS
    assert indexer.embedder == "ray embedder" and built == [settings]  # type: ignore[comparison-overlap]


def test_the_ray_flag_and_workers_are_validated() -> None:
    with pytest.raises(ValueError, match="ray_workers"):
        Settings(ray_workers=-1)
    assert cli._parser().parse_args(["index", "x", "--ray", "10.0.0.5:6379"]).ray == "10.0.0.5:6379"
