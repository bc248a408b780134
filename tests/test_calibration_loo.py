"""`python -m welfare_sim.calibration.loo`: leave-one-out refits start from the prior, not from the
fit, and a refit stopped by its budget is reported as not converged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from welfare_sim.calibration.loo import main
from welfare_sim.sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_a_refit_starts_from_the_prior_and_a_budget_stop_is_not_converged(tmp_path: Path) -> None:
    out = tmp_path / "loo.json"
    code = main(
        [
            str(ROOT / "scenarios" / "hoa_binh.yaml"),
            "--targets",
            str(ROOT / "calibration" / "targets" / "hoa_binh.yaml"),
            "--seeds",
            "1",
            "--budget",
            "8",  # one iteration: one residual and one Jacobian of 7 columns
            "--workers",
            "1",
            "--only",
            "paid_amount_2024_01",
            "--sample-fraction",  # as the national refits run (a half of Hòa Bình: a quicker test)
            "0.5",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    start, refit, end = rows
    sc = load_scenario(ROOT / "scenarios" / "hoa_binh.yaml")
    priors = {p.path: p.prior for p in sc.calibration.free_parameters}
    assert start["prior"] == pytest.approx(priors, rel=1e-9)  # the refit starts at the declared prior
    assert start["prior_is_not_fit"]
    assert start["sample_fraction"] == 0.5  # the scenario the refits ran, not the option echoed
    assert refit["left_out"] == "paid_amount_2024_01"
    assert "paid_amount_2024_01" not in refit["rest_rel_errors"]
    assert refit["status"] == 0 and refit["converged"] is False
    assert end["kind"] == "end"
