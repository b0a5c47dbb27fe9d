"""Same seed, same bytes (every format, documents and manifests included); another seed, another world."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ingestion.generator import generate

SMALL = {"candidates": 600, "days": 90, "dirty": 0.02}


def digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for name, seed in (("first", 3), ("again", 3), ("other", 4)):
        out[name] = tmp_path_factory.mktemp(name)
        generate(out[name], seed=seed, **SMALL)
    return out


def test_same_seed_gives_byte_identical_files(worlds):
    first, again = digests(worlds["first"]), digests(worlds["again"])
    assert first.keys() == again.keys()
    differing = [name for name in first if first[name] != again[name]]
    assert differing == []


def test_the_compared_world_holds_every_format(worlds):
    suffixes = {Path(name).suffix for name in digests(worlds["first"])}
    assert {".csv", ".jsonl", ".parquet", ".xlsx", ".pdf", ".docx", ".json"} <= suffixes


def test_another_seed_gives_another_world(worlds):
    first, other = digests(worlds["first"]), digests(worlds["other"])
    shared = first.keys() & other.keys()
    assert first["world/truth.json"] != other["world/truth.json"]
    assert sum(first[name] == other[name] for name in shared) < 0.05 * len(shared)


def test_no_spill_left_behind(worlds):
    assert sorted(p.name for p in worlds["first"].iterdir()) == ["landing", "world"]


def test_refuses_to_overwrite_landed_files_unless_asked(worlds, tmp_path):
    with pytest.raises(FileExistsError):
        generate(worlds["first"], seed=3, **SMALL)
    target = tmp_path / "home"
    (target / "landing" / "candidates").mkdir(parents=True)
    (target / "landing" / "candidates" / "stale.csv").write_text("x\n")
    generate(target, candidates=200, days=60, seed=1, overwrite=True)
    assert not (target / "landing" / "candidates" / "stale.csv").exists()
