"""Payment invariants, as hypothesis properties over generated small worlds.

The model checks its own ledger each month (ConservationError); these tests recompute the
same identities independently from the written tables, row by row.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from factory import scenarios, small_scenario
from hypothesis import HealthCheck, given, settings

from welfare_sim.sim.run import run_scenario
from welfare_sim.sim.scenario import Scenario

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run_tables(scenario: Scenario):  # noqa: ANN201
    with tempfile.TemporaryDirectory() as tmp:
        result = run_scenario(scenario, payments_dir=Path(tmp))
        payments = pl.read_parquet(sorted(Path(tmp).glob("part-*.parquet"))) if result.payments_rows else None
    return result, payments


def check_money(result, payments: pl.DataFrame) -> None:  # noqa: ANN001
    ledger = result.ledger
    # treasury, each month: what was due = what was paid + what is carried or forfeited
    due = ledger["owed_start_vnd"] + ledger["suspended_start_vnd"] + ledger["entitled_vnd"]
    out = (
        ledger["credited_vnd"]
        + ledger["paid_cash_commune_vnd"]
        + ledger["paid_cash_counter_vnd"]
        + ledger["paid_home_vnd"]
        + ledger["forfeited_vnd"]
        + ledger["owed_end_vnd"]
        + ledger["suspended_end_vnd"]
    )
    assert (due == out).all()
    # months chain, from the rows: what the beneficiaries are owed at the end of a month (their rows,
    # summed) is what the ledger holds at that month's end and carries into the next month's start
    owed_rows = (  # a month in which nobody is left on the list has no rows: it owes 0
        ledger.select("month")
        .join(payments.group_by("month").agg(pl.col("owed_end_vnd").sum()), on="month", how="left")
        .sort("month")["owed_end_vnd"]
        .fill_null(0)
    )
    assert (owed_rows == ledger["owed_end_vnd"] + ledger["suspended_end_vnd"]).all()
    assert (owed_rows[:-1] == ledger["owed_start_vnd"][1:] + ledger["suspended_start_vnd"][1:]).all()
    # the rows add up to the ledger, to the dong
    by_month = (
        payments.group_by("month")
        .agg(
            entitled=pl.col("entitled_vnd").sum(),
            credited=pl.col("paid_vnd").filter(pl.col("channel") == "account").sum(),
            home=pl.col("paid_vnd").filter(pl.col("channel") == "home").sum(),
            cash=pl.col("paid_vnd").filter(pl.col("channel").is_in(["cash_commune", "cash_counter"])).sum(),
            withdrawn=pl.col("withdrawn_vnd").sum(),
        )
        .sort("month")
    )
    assert by_month["entitled"].to_list() == ledger["entitled_vnd"].to_list()
    assert by_month["credited"].to_list() == ledger["credited_vnd"].to_list()
    assert by_month["home"].to_list() == ledger["paid_home_vnd"].to_list()
    assert by_month["cash"].to_list() == (ledger["paid_cash_commune_vnd"] + ledger["paid_cash_counter_vnd"]).to_list()
    assert by_month["withdrawn"].to_list() == ledger["withdrawn_vnd"].to_list()
    # accounts: credits in = withdrawals out + balances
    assert ledger["balance_start_vnd"][0] == 0
    assert (
        ledger["balance_start_vnd"] + ledger["credited_vnd"] == ledger["withdrawn_vnd"] + ledger["balance_end_vnd"]
    ).all()
    # cash floats: delivered = paid out + returned, and never negative
    assert (ledger["float_delivered_vnd"] == ledger["float_paid_vnd"] + ledger["float_returned_vnd"]).all()
    assert (ledger["float_returned_vnd"] >= 0).all()
    # over the run: entitled = delivered + still owed + forfeited
    total_entitled = int(payments["entitled_vnd"].sum())
    total_paid = int(payments["paid_vnd"].sum())
    last = payments.filter(pl.col("month") == payments["month"].max())
    assert total_entitled == total_paid + int(last["owed_end_vnd"].sum()) + int(ledger["forfeited_vnd"].sum())


def check_once_and_bounds(payments: pl.DataFrame) -> None:
    # each entitlement settled at most once: no month pays more than is due, and cumulatively
    # nobody receives more than they were entitled to
    assert (payments["paid_vnd"] <= payments["due_vnd"]).all()
    cumulative = payments.sort("beneficiary_id", "month").with_columns(
        paid=pl.col("paid_vnd").cum_sum().over("beneficiary_id"),
        entitled=pl.col("entitled_vnd").cum_sum().over("beneficiary_id"),
    )
    assert (cumulative["paid"] <= cumulative["entitled"]).all()
    assert payments.select(pl.col("beneficiary_id", "month")).is_duplicated().sum() == 0
    for column in (
        "paid_vnd",
        "due_vnd",
        "owed_end_vnd",
        "balance_vnd",
        "trips",
        "travel_min",
        "wait_min",
        "withdrawn_vnd",
        "entitled_vnd",
    ):
        assert payments[column].min() >= 0, column
    days = payments["days_to_money"].drop_nulls()
    assert days.is_empty() or (days.min() >= 0 and days.max() <= 30)
    # a paid row has a channel; an unpaid one has none and nothing paid
    paid = payments.filter(pl.col("status").is_in(["paid", "partial"]) & (pl.col("due_vnd") > 0))
    assert paid["channel"].is_in(["account", "cash_commune", "cash_counter", "home"]).all()
    unpaid = payments.filter(pl.col("status").is_in(["held", "uncollected", "suspended", "returned"]))
    assert (unpaid["paid_vnd"] == 0).all()
    full = payments.filter(pl.col("status") == "paid")
    assert (full["paid_vnd"] == full["due_vnd"]).all()
    assert (full["owed_end_vnd"] == 0).all()


def check_counts(result) -> None:  # noqa: ANN001
    m = result.monthly
    assert (m["with_account"] + m["without_account"] == m["beneficiaries"]).all()
    assert (m["paid_into_account"] + m["paid_in_cash"] + m["paid_at_home"] + m["unpaid"] == m["beneficiaries"]).all()
    assert (m["held"] + m["failed_credits"] + m["uncollected"] + m["suspended"] == m["unpaid"]).all()
    assert (m["paid_at_commune_point"] + m["paid_at_post_office"] == m["paid_in_cash"]).all()
    waits = result.waits
    if waits.height:
        assert (
            waits["served"] + waits["turned_away_no_cash"] + waits["not_reached"] + waits["found_closed"]
            == waits["visits"]
        ).all()
        assert waits["wait_min_p50"].min() >= 0


@SETTINGS
@given(scenarios())
def test_money_is_conserved_and_settled_at_most_once(scenario: Scenario) -> None:
    result, payments = run_tables(scenario)
    if payments is None:
        assert scenario.geography.n_beneficiaries == 0
        return
    check_money(result, payments)
    check_once_and_bounds(payments)
    check_counts(result)


def test_no_accounts_at_all_means_every_payment_is_cash() -> None:
    scenario = small_scenario(
        **{
            "assumptions.initial_accounts.account_share": {"urban": 0, "rural": 0, "mountain": 0},
            "assumptions.opening.monthly_apply_prob": 0.0,
            "interventions.drives": [],
        }
    )
    result, payments = run_tables(scenario)
    check_money(result, payments)
    assert (payments["account_status"] == "none").all()
    assert result.monthly["paid_into_account"].sum() == 0
    assert result.ledger["credited_vnd"].sum() == 0
    paid = payments.filter(pl.col("paid_vnd") > 0)
    assert paid.height > 0
    assert paid["channel"].is_in(["cash_commune", "cash_counter", "home"]).all()


def test_working_accounts_for_all_means_no_cash_channel() -> None:
    scenario = small_scenario(
        **{
            "assumptions.initial_accounts": {
                "account_share": {"urban": 1, "rural": 1, "mountain": 1},
                "registered_share": 1,
            },
            "assumptions.account_life.credit_mismatch_prob": 0.0,
            "assumptions.account_life.monthly_dormancy_prob": 0.0,
            "assumptions.verification.db_mismatch_share": 0.0,
        }
    )
    result, payments = run_tables(scenario)
    check_money(result, payments)
    assert (payments["channel"] == "account").all()
    assert (payments["status"] == "paid").all()
    assert result.ledger["paid_cash_commune_vnd"].sum() == 0
    assert result.ledger["paid_cash_counter_vnd"].sum() == 0
    assert result.ledger["paid_home_vnd"].sum() == 0
    assert result.ledger["credited_vnd"].sum() == result.ledger["entitled_vnd"].sum()


def test_uncollected_money_is_suspended_after_three_months() -> None:
    """Nobody comes to collect: after 3 months uncollected, everyone in the cash channel is suspended."""
    scenario = small_scenario(
        **{
            "months": 5,
            "assumptions.initial_accounts.account_share": {"urban": 0, "rural": 0, "mountain": 0},
            "assumptions.opening.monthly_apply_prob": 0.0,
            "assumptions.collection.monthly_absent_prob": 1.0,
            "assumptions.collection.home_delivery_takeup": 0.0,
            "assumptions.collection.resume_prob": 0.0,
            "assumptions.verification.db_mismatch_share": 0.0,
            "interventions.drives": [],
        }
    )
    result, payments = run_tables(scenario)
    check_money(result, payments)
    status = (
        payments.group_by("month")
        .agg(uncollected=(pl.col("status") == "uncollected").sum(), suspended=(pl.col("status") == "suspended").sum())
        .sort("month")
    )
    n = scenario.geography.n_beneficiaries
    assert status["uncollected"].to_list()[:3] == [n, n, n]
    assert status["suspended"].to_list()[3:] == [n, n]
    # suspended people accrue no new entitlement
    assert payments.filter(pl.col("month") >= 3)["entitled_vnd"].sum() == 0


def test_base_level_rises_on_its_date() -> None:
    scenario = small_scenario(
        **{"population.categories": {"social_assistance": {"share": 1.0, "coefficients": {"1.5": 1.0}}}}
    )
    _, payments = run_tables(scenario)
    per_month = (
        payments.filter(pl.col("status") != "suspended")
        .group_by("period")
        .agg(pl.col("entitled_vnd").unique())
        .sort("period")
    )
    amounts = dict(zip(per_month["period"].dt.strftime("%Y-%m"), per_month["entitled_vnd"].to_list(), strict=True))
    assert amounts["2023-01"] == [540000]  # 1.5 × 360,000 (Decree 20/2021)
    assert amounts["2023-03"] == [750000]  # 1.5 × 500,000 from the dated change


@pytest.mark.parametrize("seed", [1, 2])
def test_same_seed_same_tables(seed: int) -> None:
    scenario = small_scenario(seed=seed)
    a, pa = run_tables(scenario)
    b, pb = run_tables(scenario)
    assert pa.equals(pb)
    assert a.monthly.equals(b.monthly)
    assert a.summary == b.summary
    c, pc = run_tables(small_scenario(seed=seed + 100))
    assert not pa.equals(pc)


def test_queue_waits_are_consistent_with_opening_hours() -> None:
    """Waits are never negative and never longer than a point's opening hours plus early arrival."""
    result, payments = run_tables(small_scenario(months=2))
    waits = result.waits
    assert waits.height > 0
    longest = {"commune_point": 990 - 450 + 60, "post_office": 1020 - 420, "atm": 1440}
    for kind, limit in longest.items():
        sub = waits.filter(pl.col("kind") == kind)
        if sub.height:
            assert sub["wait_min_p95"].max() <= limit
    per_trip = payments.filter(pl.col("trips") > 0)
    assert (per_trip["wait_min"] <= per_trip["trips"].cast(pl.Float64) * 1440).all()
    assert np.isfinite(per_trip["wait_min"].to_numpy()).all()


def test_recording_in_its_own_thread_gives_the_tables_of_recording_in_line(monkeypatch) -> None:
    """With a core to spare (workers > 1) a one-province run records in a second thread, overlapping
    the next month; otherwise (a fit's or a sweep's runs, a country's provinces) in line. The tables
    must be the same either way."""
    import threading

    import welfare_sim.sim.recorder as recorder_mod

    threads: list[str] = []
    record = recorder_mod.Recorder.__call__

    def noting_the_thread(self, rec, province) -> None:  # noqa: ANN001
        threads.append(threading.current_thread().name)
        record(self, rec, province)

    monkeypatch.setattr(recorder_mod.Recorder, "__call__", noting_the_thread)
    scenario = small_scenario(months=4)
    overlapped = run_scenario(scenario, workers=2)
    assert len(threads) == 4 and all(t.startswith("welfare-sim-recorder") for t in threads), threads
    threads.clear()
    in_line = run_scenario(scenario)
    assert threads == [threading.current_thread().name] * 4, threads
    for name in ("monthly", "points", "waits", "subgroups", "ledger", "funnel"):
        assert getattr(overlapped, name).equals(getattr(in_line, name)), name
    np.testing.assert_array_equal(overlapped.wait_hist, in_line.wait_hist)
    np.testing.assert_array_equal(overlapped.days_hist, in_line.days_hist)
    assert overlapped.summary == in_line.summary


@pytest.mark.parametrize("workers", [1, 2], ids=["in line", "in its thread"])
def test_an_error_while_recording_stops_the_run(monkeypatch, workers: int) -> None:
    import welfare_sim.sim.recorder as recorder_mod

    calls = []

    def fail_on_second(self, rec, province) -> None:  # noqa: ANN001
        calls.append(rec.month)
        if rec.month == 1:
            raise OSError("disk full (test)")

    monkeypatch.setattr(recorder_mod.Recorder, "__call__", fail_on_second)
    with pytest.raises(OSError, match="disk full"):
        run_scenario(small_scenario(months=4), workers=workers)
    assert calls[:2] == [0, 1]
    assert len(calls) <= 3  # the run stopped at the next month's hand-over, not at the end


def test_compiled_day_and_recorder_kernels_give_the_numpy_tables(monkeypatch) -> None:
    """The trips' additions of the cash-out day (models/month/stages.py) and the recorder's grouped
    quantiles (sim/recorder.py, here from any size) are compiled with numba; their numpy twins (no
    numba, or WELFARE_SIM_NO_NUMBA=1) must give the same tables, to the bit, with fares kept per trip."""
    import welfare_sim.models.month.stages as stages_mod
    import welfare_sim.sim.recorder as recorder_mod
    from welfare_sim.sim.scenario import load_scenario

    if stages_mod._trips_compiled is None or recorder_mod._picks_compiled is None:
        pytest.skip("numba is not installed")
    scenario = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "hoa_binh.yaml")
    monkeypatch.setattr(recorder_mod, "PICKS_COMPILED_MIN", 0)
    compiled, compiled_payments = run_tables(scenario.model_copy(update={"months": 3}))
    monkeypatch.setattr(stages_mod, "_trips_compiled", None)
    monkeypatch.setattr(recorder_mod, "_picks_compiled", None)
    plain, plain_payments = run_tables(scenario.model_copy(update={"months": 3}))
    for name in ("monthly", "communes", "points", "waits", "subgroups", "ledger", "funnel"):
        assert getattr(compiled, name).equals(getattr(plain, name)), name
    assert compiled_payments.equals(plain_payments)
    assert compiled_payments["trips"].sum() > 0 and compiled_payments["wait_min"].sum() > 0
