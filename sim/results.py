"""Headline figures, computed afterwards from the recorded tables (never inside the model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from welfare_sim.models.params import CATEGORIES, POINT_KINDS
from welfare_sim.sim.recorder import DAY_BINS, PLACE_COLUMNS, WAIT_BIN_MIN, Recorder

PROVINCE_COLUMNS = ("province_code", "province_name")  # a many-province run's tables of places (sim/parts.py)


@dataclass
class RunResult:
    monthly: pl.DataFrame
    subgroups: pl.DataFrame
    points: pl.DataFrame
    waits: pl.DataFrame
    ledger: pl.DataFrame
    funnel: pl.DataFrame
    days_hist: np.ndarray  # (months, DAY_BINS) counts of payments by days to money
    wait_hist: np.ndarray  # (months, kinds, WAIT_BINS) counts of visits by wait
    summary: dict[str, Any] = field(default_factory=dict)
    roster_filled: dict[str, int] | None = None  # a roster run: per attribute, people filled from the shares
    payments_rows: int = 0
    places: pl.DataFrame | None = None  # districts and communes: index, name, code
    communes: pl.DataFrame | None = None  # month × commune: the figures a planner maps
    strategies: dict[str, int] = field(default_factory=dict)  # strategy counts and costs over the run
    strategy_spending: pl.DataFrame | None = None  # month, strategies_vnd: the strategies' cost to the state
    payment_parts: list = field(default_factory=list)  # the per-month payment files (Paths), in order
    n_points: int = 0  # cash-out points the province had (the point numbers of `points`)


def hist_quantile(counts: np.ndarray, q: float, bin_width: float = 1.0) -> float | None:
    """The q-quantile (nearest rank) of values binned from 0 by `bin_width`."""
    total = int(counts.sum())
    if total == 0:
        return None
    rank = max(1, int(np.ceil(q * total)))
    return float(np.searchsorted(np.cumsum(counts), rank) * bin_width)


def _share(num: float, den: float) -> float | None:
    return round(num / den, 6) if den else None


def collect(rec: Recorder) -> RunResult:
    tables = rec.tables()
    return RunResult(
        monthly=tables["monthly"],
        subgroups=tables["subgroups"],
        points=tables["points"],
        waits=tables["waits"],
        ledger=pl.DataFrame(rec.ledger),
        funnel=pl.DataFrame(rec.funnel),
        days_hist=np.stack(rec.days_hist),
        wait_hist=np.stack(rec.wait_hist),
        payments_rows=rec.rows_recorded,
        places=rec.places(),
        communes=tables["communes"],
        strategies=dict(rec.strategies),
        strategy_spending=pl.DataFrame(rec.strategy_spending, schema={"month": pl.Int64, "strategies_vnd": pl.Int64}),
        payment_parts=list(rec.payment_parts),
        n_points=int(rec.p.points.site.size),
    )


def state_cost_by_month(result: RunResult) -> pl.DataFrame:
    """month, state_cost_vnd: the state's cost month by month, the same parts as `cost_figures`
    (payment fees, the points' staff and cash transport, strategy spending); sums to its total."""
    fees = result.monthly.group_by("month").agg(pl.col("state_fees_vnd").sum().alias("fees"))
    points = result.points.group_by("month").agg(
        (pl.col("staff_cost_vnd") + pl.col("cash_transport_cost_vnd")).sum().alias("points")
    )
    spine = result.ledger.select("month")
    spending = result.strategy_spending
    if spending is None:
        spending = spine.with_columns(strategies_vnd=pl.lit(0, pl.Int64))
    frame = spine.join(fees, on="month", how="left").join(points, on="month", how="left")
    frame = frame.join(spending, on="month", how="left").fill_null(0)
    total = pl.col("fees") + pl.col("points") + pl.col("strategies_vnd")
    return frame.select("month", total.cast(pl.Int64).alias("state_cost_vnd")).sort("month")


def cost_figures(result: RunResult) -> dict[str, Any]:
    """What the run cost the state and the beneficiaries (VND), for `run` and `compare` alike.

    The state: payment fees (under the scenario's cost model, `assumptions.costs.model`), the
    bottom-up staff and cash transport of the points table (zero in the fee model), and the
    strategies' spending (waived fees included). The beneficiaries: travel, time and the fees
    actually charged."""
    from welfare_sim.models.interventions import STRATEGY_COST_KEYS

    m, pts = result.monthly, result.points
    totals = m.select(
        pl.col("state_fees_vnd", "travel_cost_vnd", "time_cost_vnd", "beneficiary_fees_vnd").sum()
    ).row(0, named=True)
    payments = int(m.select(pl.col("paid_into_account", "paid_in_cash", "paid_at_home").sum()).sum_horizontal()[0])
    staff = int(pts["staff_cost_vnd"].sum())
    transport = int(pts["cash_transport_cost_vnd"].sum())
    strategies = sum(int(result.strategies.get(k, 0)) for k in STRATEGY_COST_KEYS)
    state_total = int(totals["state_fees_vnd"]) + staff + transport + strategies
    travel, time = int(totals["travel_cost_vnd"]), int(totals["time_cost_vnd"])
    fees = int(totals["beneficiary_fees_vnd"])
    beneficiary_total = travel + time + fees
    return {
        "state_total": state_total,
        "state_per_payment": round(state_total / payments) if payments else None,
        "state_fees": int(totals["state_fees_vnd"]),
        "state_staff": staff,
        "state_cash_transport": transport,
        "state_strategies": strategies,
        "beneficiary_total": beneficiary_total,
        "beneficiary_per_payment": round(beneficiary_total / payments) if payments else None,
        "beneficiary_travel": travel,
        "beneficiary_time": time,
        "beneficiary_fees": fees,
    }


def headline(result: RunResult) -> dict[str, Any]:
    m = result.monthly
    by_month = _every_month(
        result, m.group_by("month", "period").agg(pl.exclude(*PROVINCE_COLUMNS, *PLACE_COLUMNS, "category").sum())
    )
    first, last = by_month.row(0, named=True), by_month.row(-1, named=True)
    keys = ("month", "period", *PROVINCE_COLUMNS, *PLACE_COLUMNS, "category", "days_to_money_mean")
    totals = m.select(pl.exclude(*keys).sum()).row(0, named=True)

    payments = totals["paid_into_account"] + totals["paid_in_cash"] + totals["paid_at_home"]
    days = result.days_hist.sum(axis=0)
    n_days = int(days.sum())

    waits = {}
    for k, kind in enumerate(POINT_KINDS):
        counts = result.wait_hist[:, k, :].sum(axis=0)
        waits[kind] = {
            "visits": int(counts.sum()),
            "p50_min": hist_quantile(counts, 0.5, WAIT_BIN_MIN),
            "p95_min": hist_quantile(counts, 0.95, WAIT_BIN_MIN),
        }

    sub = result.subgroups.group_by("subgroup", maintain_order=True).agg(
        beneficiary_months=pl.col("beneficiaries").sum(),
        unpaid_months=pl.col("unpaid").sum(),
        unpaid_last_month=pl.col("unpaid").last(),
        beneficiaries_last_month=pl.col("beneficiaries").last(),
        suspended_last_month=pl.col("suspended").last(),
    )
    months = by_month.height
    unpaid = {
        row["subgroup"]: {
            "unpaid_per_month": round(row["unpaid_months"] / months, 1),
            "unpaid_share": _share(row["unpaid_months"], row["beneficiary_months"]),
            "unpaid_last_month": row["unpaid_last_month"],
            "suspended_last_month": row["suspended_last_month"],
        }
        for row in sub.iter_rows(named=True)
    }
    ledger = result.ledger
    return {
        "months": months,
        "period": [f"{first['period']:%Y-%m}", f"{last['period']:%Y-%m}"],
        "beneficiaries": {"first_month": first["beneficiaries"], "last_month": last["beneficiaries"]},
        "account_coverage": {
            "first_month": _share(first["with_account"], first["beneficiaries"]),
            "last_month": _share(last["with_account"], last["beneficiaries"]),
        },
        "cashless_share": {
            "run_payments": _share(totals["paid_into_account"], payments),
            "last_month_payments": _share(
                last["paid_into_account"],
                last["paid_into_account"] + last["paid_in_cash"] + last["paid_at_home"],
            ),
            "run_amount": _share(totals["paid_into_account_vnd"], totals["paid_vnd"]),
        },
        "days_to_money": {
            "mean_days": round(float((np.arange(DAY_BINS) * days).sum() / n_days), 3) if n_days else None,
            "p95_days": hist_quantile(days, 0.95),
            "payments_counted": n_days,
        },
        "queue_wait": waits,
        "unpaid_by_subgroup": unpaid,
        "failed_credits": {
            "count": int(totals["failed_credits"]),
            "vnd": int(totals["failed_credit_vnd"]),
            "data_mismatch": int(totals["failed_credits_mismatch"]),
            "dormant_account": int(totals["failed_credits_dormant"]),
            "other": int(totals["failed_credits_other"]),
        },
        "payments": {
            "into_account": int(totals["paid_into_account"]),
            "cash_at_commune_point": int(totals["paid_at_commune_point"]),
            "cash_at_post_office": int(totals["paid_at_post_office"]),
            "at_home": int(totals["paid_at_home"]),
            "total": int(payments),
        },
        "money_vnd": {
            "entitled": int(ledger["entitled_vnd"].sum()),
            "credited_to_accounts": int(ledger["credited_vnd"].sum()),
            "paid_in_cash": int(ledger["paid_cash_commune_vnd"].sum() + ledger["paid_cash_counter_vnd"].sum()),
            "paid_at_home": int(ledger["paid_home_vnd"].sum()),
            "forfeited": int(ledger["forfeited_vnd"].sum()),
            "owed_at_end": int(ledger["owed_end_vnd"][-1] + ledger["suspended_end_vnd"][-1]),
        },
        "cost_vnd": cost_figures(result),
        "programmes": _programmes(first, last, totals),
    }


def _programmes(first: dict[str, Any], last: dict[str, Any], totals: dict[str, Any]) -> dict[str, Any]:
    """Each programme apart (a person counts in each programme they receive) and all together
    (each person once; the money is the same sum either way)."""
    out = {
        name: {
            "recipients_first_month": int(first[f"recipients_{name}"]),
            "recipients_last_month": int(last[f"recipients_{name}"]),
            "entitled_vnd": int(totals[f"entitled_{name}_vnd"]),
        }
        for name in CATEGORIES
    }
    out["all"] = {
        "recipients_first_month": int(first["beneficiaries"]),
        "recipients_last_month": int(last["beneficiaries"]),
        "entitled_vnd": int(totals["entitled_vnd"]),
    }
    return out


def _every_month(result: RunResult, by_month: pl.DataFrame) -> pl.DataFrame:
    """Per-month sums with a row for every month of the run: a month in which nobody is left
    (everyone stopped) has no monthly rows, and counts zero."""
    spine = result.ledger.select("month", "period")
    sums = [c for c in by_month.columns if c not in ("month", "period")]
    frame = spine.join(by_month, on=["month", "period"], how="left").sort("month")
    return frame.with_columns(
        pl.col(c).fill_null(0) for c in sums if frame[c].dtype.is_integer() or c.endswith("_total")
    )


def coverage_by_month(result: RunResult) -> pl.DataFrame:
    by_month = result.monthly.group_by("month", "period").agg(
        pl.col("beneficiaries").sum(),
        pl.col("with_account").sum(),
        pl.col("paid_into_account").sum(),
        (pl.col("paid_in_cash") + pl.col("paid_at_home")).sum().alias("paid_cash_or_home"),
        pl.col("unpaid").sum(),
    )
    return _every_month(result, by_month).with_columns(
        (pl.col("with_account") / pl.col("beneficiaries")).alias("account_coverage"),
        (pl.col("paid_into_account") / (pl.col("paid_into_account") + pl.col("paid_cash_or_home"))).alias(
            "cashless_share"
        ),
    )
