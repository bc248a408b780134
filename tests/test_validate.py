"""The cross-model checks of docs/validation.md (calibration/validate.py) on small instances: the
queue kernel against Erlang C and against the reference toy's Lindley design."""

from __future__ import annotations

import math

import pytest

from welfare_sim.calibration.validate import erlang_c_wait, mmc_check, toy_check


def test_erlang_c_is_the_textbook_formula() -> None:
    # M/M/1: Wq = rho / (1 - rho) x the service mean
    assert erlang_c_wait(0.125, 4.0, 1) == pytest.approx(4.0)
    # M/M/2 at a = 1 erlang: C = 1/3, Wq = C x S / (c - a) = 4/3
    assert erlang_c_wait(0.25, 4.0, 2) == pytest.approx(4.0 / 3.0)
    assert math.isinf(erlang_c_wait(0.5, 4.0, 2))  # saturated


@pytest.mark.parametrize("servers", [1, 3])
def test_the_kernel_waits_like_an_mmc_queue(servers: int) -> None:
    row = mmc_check(servers, 0.7, segments=120, customers=1500, warm_up=200)
    # within two 95 % half-widths (about four standard errors of the replications' mean)
    assert abs(row["kernel_mean_wait_min"] - row["erlang_c_mean_wait_min"]) < 2 * row["ci95_half_width_min"], row


def test_the_kernel_gives_the_reference_toys_waits() -> None:
    row = toy_check(beneficiaries=5_000, months=1)
    assert "skipped" not in row, row  # the toy is vendored under benchmarks/reference_toy
    assert row["visits"] > 2_000
    assert row["max_abs_difference_min"] < 1e-6
