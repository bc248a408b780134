"""Exact seeded regression baselines: any change in results shows here.

When a change of results is intended, run `python tests/update_baselines.py` and commit the new
baselines with the reason.
"""

from __future__ import annotations

import json

import pytest
from update_baselines import BASELINES, CASES, compute


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_match_the_baseline(name: str) -> None:
    expected = json.loads((BASELINES / f"{name}.json").read_text())
    actual = json.loads(json.dumps(compute(CASES[name]), sort_keys=True))
    assert actual["ledger"] == expected["ledger"]
    assert actual["monthly_totals"] == expected["monthly_totals"]
    assert actual["summary"] == expected["summary"]
    assert actual.get("per_month") == expected.get("per_month")
