"""Imports flow one way (DESIGN.md): orchestration may import ingestion, ml, data_quality; dashboards read only the
published warehouse; ml and ingestion never import orchestration or dashboards."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("orchestration", "ingestion", "ml", "dashboards", "data_quality")
FORBIDDEN = {
    "ingestion": {"orchestration", "dashboards", "ml", "data_quality"},
    "ml": {"orchestration", "dashboards", "ingestion", "data_quality"},
    "data_quality": {"orchestration", "dashboards"},
    "dashboards": {"orchestration", "ml", "data_quality", "ingestion"},
    "orchestration": {"dashboards"},
}
# The one shared setting (where the data home is) is resolved once, in ingestion/settings.py; the dashboards
# read it to find the published snapshot, and nothing else of the pipeline. The review desk judges an edited
# weighting with ml.whatif, pure functions over the published tables (no warehouse, no pipeline state): one rule
# for every decision path, so an edit is tested by exactly the functions that tested the recommendation.
ALLOWED = {("dashboards", "ingestion.settings"), ("dashboards", "ml.whatif")}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_imports_flow_one_way(layer):
    bad = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for name in imports_of(path):
            top = name.split(".")[0]
            if top in FORBIDDEN[layer] and (layer, name) not in ALLOWED:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)
