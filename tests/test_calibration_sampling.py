"""Calibrating on a sample is allowed only if sampled and full runs agree on the quantities the
targets fit. Stated tolerances:

* Hòa Bình at sample_fraction 0.1 (≈23 people per commune) against the full run, mean over two
  seeds: shares within 0.04 (absolute), counts and amounts within 3 % (relative);
* the national scenario shrunk 10-fold (≈150 beneficiaries per commune) against the same at
  sample_fraction 0.5, which leaves ≈76 people per commune, as the national fit at
  --sample-fraction 0.05 does, one seed each: the fitted shares within 0.02 (absolute), the fitted
  counts (scaled to full size as the fit scales them) within 3 % (relative), with new approvals at
  their full rate (10 times their share of the list), which the scaling must leave out.

The national fit fits counts where a count is published (calibration/targets/vietnam.yaml); at
0.02 of the country (≈30 a commune) the smaller counts ran 4-6 % low (docs/validation.md, section 3).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest

from welfare_sim.calibration.targets import first_month_entries, load_targets, model_values, sample_scale
from welfare_sim.models.params import month_offset
from welfare_sim.sim.run import run_scenario
from welfare_sim.sim.scenario import apply_overrides, read_yaml, resolve_extends, validate_scenario

ROOT = Path(__file__).resolve().parents[1]


def target_values(data: dict, fraction: float, targets: list, seeds: tuple[int, ...]) -> np.ndarray:
    sc = validate_scenario(apply_overrides(data, [f"geography.sample_fraction={fraction}"]), "test")
    months = max(month_offset(sc.start, t.month) for t in targets) + 1
    runs = []
    for seed in seeds:
        result = run_scenario(sc, seed=seed, months=months)
        runs.append(model_values(result.monthly, sc, targets, months, result.funnel)[0])
    return np.mean(runs, axis=0)


def scenario_data(name: str, shrink: int = 1, shrink_approvals: bool = True) -> dict:
    path = ROOT / "scenarios" / f"{name}.yaml"
    data = resolve_extends(path.resolve(), read_yaml(path))
    # a country's provinces, or a province's districts
    for group in data["geography"].get("provinces") or data["geography"]["districts"]:
        group["beneficiaries"] //= shrink
    # new approvals are a rate per commune: shrunk alike, they stay the same share of the list;
    # unshrunk, a 10-fold shrink makes them 10 times the share (5 % of the first month's list)
    demography = (data.get("population") or {}).get("demography") or {}
    if shrink > 1 and shrink_approvals and demography.get("entries_per_commune_month"):
        demography["entries_per_commune_month"] /= shrink
    return data


def test_hoa_binh_sampled_and_full_runs_agree_on_the_targets() -> None:
    tf = load_targets(ROOT / "calibration" / "targets" / "hoa_binh.yaml")
    # the figures the fit uses: a check (fit: false, e.g. the pilot communes' count, which moves with
    # which communes a sample makes the largest) is reported, not fitted
    targets = [t for t in tf.targets if t.fitted]
    data = scenario_data("hoa_binh")
    # six seeds: a tenth of Hòa Bình is about 3,400 people, and one seed's sample alone differs from
    # the full run by up to 4% in a month's money or the pilot communes' count (before the
    # programmes and the living population, too); the mean over six is the test's estimate
    seeds = (1, 2, 3, 4, 5, 6)
    full = target_values(data, 1.0, targets, seeds)
    sample = target_values(data, 0.1, targets, seeds)
    for t, f, s in zip(targets, full, sample, strict=True):
        if t.kind == "share":
            assert abs(s - f) <= 0.04, (t.name, f, s)
        else:
            assert abs(s - f) <= 0.03 * abs(f), (t.name, f, s)


def test_national_sampled_and_full_runs_agree_on_the_fitted_targets() -> None:
    tf = load_targets(ROOT / "calibration" / "targets" / "vietnam.yaml")
    targets = [t for t in tf.targets if t.fitted]
    assert {t.kind for t in targets} == {"share", "count"}  # both kinds are fitted, so both are checked
    # the approvals left at their full rate: 10 times their share of the list, so a scaling of the
    # sample's counts that counted the first month's approvals among the listed people would put
    # every count about 5 % low (it did, before the scaling left them out)
    data = scenario_data("vietnam", shrink=10, shrink_approvals=False)
    full = target_values(data, 1.0, targets, (1,))
    sample = target_values(data, 0.5, targets, (1,))
    for t, f, s in zip(targets, full, sample, strict=True):
        if t.kind == "share":
            assert abs(s - f) <= 0.02, (t.name, f, s)
        else:
            assert abs(s - f) <= 0.03 * abs(f), (t.name, f, s)


def test_sample_scale_leaves_out_the_first_month_approvals() -> None:
    """Full-size listed people over the sample's listed people: the first month's beneficiaries less
    its new approvals, a part of the districts taking its share of the communes."""
    monthly = pl.DataFrame({
        "month": [0, 0, 0, 1],
        "district": [0, 0, 1, 0],
        "commune": [0, 1, 2, 0],
        "beneficiaries": [10, 12, 8, 99],
    })
    groups = [SimpleNamespace(beneficiaries=200), SimpleNamespace(beneficiaries=80)]
    scenario = SimpleNamespace(geography=SimpleNamespace(groups=groups, sample_fraction=0.1))
    assert sample_scale(monthly, scenario, [0, 1], 3) == pytest.approx(280 / 27, rel=1e-12)
    assert sample_scale(monthly, scenario, [0], 3) == pytest.approx(200 / (22 - 2), rel=1e-12)
    assert sample_scale(monthly, scenario, [1], 3) == pytest.approx(80 / (8 - 1), rel=1e-12)
    assert sample_scale(monthly, scenario, [0, 1], 0) == pytest.approx(280 / 30, rel=1e-12)
    # the approvals come from the funnel table's first month
    funnel = pl.DataFrame({"month": [0, 1], "entries": [3, 7]})
    assert first_month_entries(funnel) == 3
    assert first_month_entries(None) == 0
