"""Record each month as it closes, with memory bounded by one month of beneficiaries.

Per month the recorder turns the domain's raw record into polars tables:
* beneficiary-month rows (`payments`), streamed to a month part file when requested;
* month × commune × category aggregates (`monthly`);
* per point (`points`) and per day × kind of point (`waits`);
* the money ledger and the account funnel;
* histograms of days to money and of waits, for exact run-wide quantiles without keeping rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from models.accounts import STATUS_NAMES
from models.cashout import VISIT_OUTCOMES
from models.params import ACCOUNT_TYPES, AGE_GROUPS, CATEGORIES, POINT_KINDS, TERRAINS, month_label
from models.payment_run import CHANNELS, STATUSES, MonthRecord, Province

CATEGORY = pl.Enum(list(CATEGORIES))
CHANNEL = pl.Enum(list(CHANNELS))
STATUS = pl.Enum(list(STATUSES))
ACCOUNT_STATUS = pl.Enum(list(STATUS_NAMES))
ACCOUNT_TYPE = pl.Enum(["none", *ACCOUNT_TYPES])
TERRAIN = pl.Enum(list(TERRAINS))
AGE = pl.Enum(list(AGE_GROUPS))
KIND = pl.Enum(list(POINT_KINDS))
OUTCOME = pl.Enum(list(VISIT_OUTCOMES))

WAIT_BIN_MIN = 0.1
WAIT_BINS = int(24 * 60 / WAIT_BIN_MIN) + 1
DAY_BINS = 64

UNPAID = ("held", "returned", "uncollected", "suspended")


def _enum(codes: np.ndarray, dtype: pl.Enum, offset: int = 0) -> pl.Series:
    """Integer codes (plus `offset`) as an Enum column, without building strings."""
    levels = pl.Series(dtype.categories.to_list(), dtype=dtype)
    return levels.gather((codes.astype(np.int64) + offset).astype(np.uint32))


class Recorder:
    def __init__(self, province: Province, payments_dir: Path | None = None) -> None:
        self.p = province
        self.payments_dir = payments_dir
        self.payment_parts: list[Path] = []
        self.monthly: list[pl.DataFrame] = []
        self.points: list[pl.DataFrame] = []
        self.waits: list[pl.DataFrame] = []
        self.subgroups: list[pl.DataFrame] = []
        self.ledger: list[dict[str, int]] = []
        self.funnel: list[dict[str, int]] = []
        self.days_hist: list[np.ndarray] = []
        self.wait_hist: list[np.ndarray] = []
        self.rows_recorded = 0
        costs = province.assume.costs
        self.costs = costs
        people = province.people
        self.static = pl.DataFrame(
            {
                "beneficiary_id": people.id,
                "district": people.district,
                "commune": people.commune,
                "category": _enum(people.category, CATEGORY),
                "terrain": _enum(people.terrain, TERRAIN),
                "age_group": _enum(people.age_group, AGE),
                "disabled": people.disabled,
                "ethnic_minority": people.ethnic_minority,
            }
        )

    def __call__(self, rec: MonthRecord, province: Province) -> None:
        frame = self._payments_frame(rec)
        self.rows_recorded += frame.height
        if self.payments_dir is not None:
            part = self.payments_dir / f"part-{rec.month:04d}.parquet"
            frame.write_parquet(part, statistics=True)
            self.payment_parts.append(part)
        self.monthly.append(self._monthly(frame))
        self.days_hist.append(self._days_hist(frame))
        self.subgroups.append(self._subgroups(frame))
        self.ledger.append({"month": rec.month, "period": self.period(rec.month), **rec.ledger})
        self.funnel.append({"month": rec.month, "period": self.period(rec.month), **rec.funnel})
        self.points.append(self._points(rec))
        waits, hist = self._waits(rec)
        self.waits.append(waits)
        self.wait_hist.append(hist)

    def period(self, month: int) -> str:
        return month_label(self.p.start, month)

    # ---------------------------------------------------------------- tables

    def _payments_frame(self, rec: MonthRecord) -> pl.DataFrame:
        c = rec.columns
        costs = self.costs
        run_start = self.p.run.run_start_day
        day = c["day_in_hand"].astype(np.int64)
        has_day = day >= 0
        days_to_money = np.where(has_day, day - run_start, -1)
        travel = c["travel_min"]
        time_min = travel + c["wait_min"] + c["service_min"]
        channel = c["channel"]
        state_fee = (
            (channel == CHANNELS.index("account")) * costs.fee_per_account_credit_vnd
            + c["cash_transactions"].astype(np.int64) * costs.fee_per_cash_payment_vnd
            + (channel == CHANNELS.index("home")) * costs.fee_per_home_delivery_vnd
        ).astype(np.int64)
        frame = pl.DataFrame(
            {
                "month": np.full(rec.rows.size, rec.month, np.int16),
                "row": rec.rows.astype(np.int64),
                "channel": _enum(channel, CHANNEL),
                "status": _enum(c["status"], STATUS),
                "entitled_vnd": c["entitled_vnd"],
                "due_vnd": c["due_vnd"],
                "paid_vnd": c["paid_vnd"],
                "owed_end_vnd": c["owed_end_vnd"],
                "day_in_hand": pl.Series(np.where(has_day, day, 0), dtype=pl.Int16),
                "days_to_money": pl.Series(days_to_money, dtype=pl.Int16),
                "trips": c["trips"],
                "travel_min": travel.round(2),
                "wait_min": c["wait_min"].round(2),
                "withdrawals": c["withdrawals"],
                "withdrawn_vnd": c["withdrawn_vnd"],
                "account_status": _enum(c["account_status"], ACCOUNT_STATUS),
                "account_type": _enum(c["account_type"], ACCOUNT_TYPE, offset=1),
                "registered": c["registered"],
                "balance_vnd": c["balance_vnd"],
                "drive_reached": c["drive_reached"],
                "travel_cost_vnd": np.rint(travel * costs.travel_cost_vnd_per_min).astype(np.int64),
                "time_cost_vnd": np.rint(time_min / 60.0 * costs.value_of_time_vnd_per_hour).astype(np.int64),
                "fee_vnd": c["withdrawals"].astype(np.int64) * costs.withdrawal_fee_vnd,
                "state_fee_vnd": state_fee,
            }
        )
        frame = frame.with_columns(
            pl.when(pl.col("days_to_money") >= 0).then(pl.col("day_in_hand")).otherwise(None).alias("day_in_hand"),
            pl.when(pl.col("days_to_money") >= 0).then(pl.col("days_to_money")).otherwise(None).alias("days_to_money"),
        )
        static = self.static[rec.rows]
        return pl.concat(
            [
                frame.select("month", pl.lit(self.period(rec.month)).alias("period")),
                static,
                frame.drop("month", "row"),
            ],
            how="horizontal",
        )

    def _monthly(self, frame: pl.DataFrame) -> pl.DataFrame:
        ch, st = pl.col("channel"), pl.col("status")
        has_account = pl.col("account_status").is_in(["open", "dormant"])
        paid_cash = ch.is_in(["cash_commune", "cash_counter"])
        return (
            frame.group_by("month", "period", "district", "commune", "category", maintain_order=False)
            .agg(
                beneficiaries=pl.len(),
                with_account=has_account.sum(),
                without_account=(~has_account).sum(),
                on_account_list=pl.col("registered").sum(),
                paid_into_account=((ch == "account") & (st == "paid")).sum(),
                paid_in_cash=paid_cash.sum(),
                paid_at_commune_point=(ch == "cash_commune").sum(),
                paid_at_post_office=(ch == "cash_counter").sum(),
                paid_at_home=(ch == "home").sum(),
                paid_partly=(st == "partial").sum(),
                unpaid=st.is_in(list(UNPAID)).sum(),
                held=(st == "held").sum(),
                failed_credits=(st == "returned").sum(),
                uncollected=(st == "uncollected").sum(),
                suspended=(st == "suspended").sum(),
                drive_reached=pl.col("drive_reached").sum(),
                entitled_vnd=pl.col("entitled_vnd").sum(),
                paid_vnd=pl.col("paid_vnd").sum(),
                paid_into_account_vnd=pl.col("paid_vnd").filter(ch == "account").sum(),
                paid_in_cash_vnd=pl.col("paid_vnd").filter(paid_cash | (st == "partial")).sum(),
                paid_at_home_vnd=pl.col("paid_vnd").filter(ch == "home").sum(),
                failed_credit_vnd=pl.col("due_vnd").filter(st == "returned").sum(),
                owed_end_vnd=pl.col("owed_end_vnd").sum(),
                withdrawn_vnd=pl.col("withdrawn_vnd").sum(),
                trips=pl.col("trips").cast(pl.Int64).sum(),
                days_to_money_mean=pl.col("days_to_money").cast(pl.Float64).mean(),
                wait_min_total=pl.col("wait_min").sum(),
                travel_min_total=pl.col("travel_min").sum(),
                travel_cost_vnd=pl.col("travel_cost_vnd").sum(),
                time_cost_vnd=pl.col("time_cost_vnd").sum(),
                beneficiary_fees_vnd=pl.col("fee_vnd").sum(),
                state_fees_vnd=pl.col("state_fee_vnd").sum(),
            )
            .sort("district", "commune", "category")
        )

    def _subgroups(self, frame: pl.DataFrame) -> pl.DataFrame:
        unpaid = pl.col("status").is_in(list(UNPAID))
        masks = {
            "all": pl.col("beneficiary_id") >= 0,
            "elderly_60_plus": pl.col("age_group").is_in(["age_60_79", "age_80_plus"]),
            "aged_80_plus": pl.col("age_group") == "age_80_plus",
            "disabled": pl.col("disabled"),
            "ethnic_minority": pl.col("ethnic_minority"),
            "mountain_communes": pl.col("terrain") == "mountain",
        }
        return frame.select(
            [
                pl.struct(
                    beneficiaries=mask.sum().cast(pl.Int64),
                    unpaid=(mask & unpaid).sum().cast(pl.Int64),
                    suspended=(mask & (pl.col("status") == "suspended")).sum().cast(pl.Int64),
                    with_account=(mask & pl.col("account_status").is_in(["open", "dormant"])).sum().cast(pl.Int64),
                ).alias(name)
                for name, mask in masks.items()
            ]
        ).unpivot(variable_name="subgroup").unnest("value").select(
            pl.lit(frame["month"][0] if frame.height else -1, pl.Int16).alias("month"),
            pl.lit(frame["period"][0] if frame.height else "").alias("period"),
            pl.all(),
        )

    def _days_hist(self, frame: pl.DataFrame) -> np.ndarray:
        days = frame["days_to_money"].drop_nulls().to_numpy().astype(np.int64)
        return np.bincount(np.clip(days, 0, DAY_BINS - 1), minlength=DAY_BINS)

    def _points(self, rec: MonthRecord) -> pl.DataFrame:
        pts = rec.points
        costs = self.costs
        kind = pts["kind"]
        commune_point = kind == POINT_KINDS.index("commune_point")
        frame = pl.DataFrame(
            {
                "month": np.full(kind.size, rec.month, np.int16),
                "period": [self.period(rec.month)] * kind.size,
                "point": pts["point"],
                "kind": _enum(kind, KIND),
                "district": pts["district"],
                "open_days": pts["open_days"],
                "down_days": pts["down_days"],
                "visits": pts["visits"],
                "served": pts["served"],
                "paid_vnd": pts["paid_vnd"],
                "float_vnd": pts["float_vnd"],
                "wait_min_mean": np.divide(
                    pts["wait_min_total"], pts["visits"], out=np.zeros(kind.size), where=pts["visits"] > 0
                ).round(3),
                "staff_cost_vnd": np.where(commune_point, pts["float_days"].astype(np.int64) * costs.staff_per_point_day_vnd, 0),
                "cash_transport_cost_vnd": np.where(
                    kind != POINT_KINDS.index("atm"),
                    pts["float_days"].astype(np.int64) * costs.cash_transport_per_point_day_vnd,
                    0,
                ),
            }
        )
        return frame.filter(pl.col("visits") > 0)

    def _waits(self, rec: MonthRecord) -> tuple[pl.DataFrame, np.ndarray]:
        v = rec.visits
        hist = np.zeros((len(POINT_KINDS), WAIT_BINS), np.int64)
        bins = np.minimum((v["wait_min"] / WAIT_BIN_MIN).astype(np.int64), WAIT_BINS - 1)
        np.add.at(hist, (v["kind"].astype(np.int64), bins), 1)
        frame = pl.DataFrame(
            {
                "day": v["day"],
                "kind": _enum(v["kind"], KIND),
                "wait_min": v["wait_min"],
                "outcome": _enum(v["outcome"], OUTCOME),
            }
        )
        daily = (
            frame.group_by("day", "kind")
            .agg(
                visits=pl.len(),
                served=pl.col("outcome").is_in(["paid_full", "paid_part"]).sum(),
                turned_away_no_cash=(pl.col("outcome") == "no_cash").sum(),
                not_reached=(pl.col("outcome") == "not_reached").sum(),
                found_closed=(pl.col("outcome") == "closed").sum(),
                wait_min_mean=pl.col("wait_min").mean(),
                wait_min_p50=pl.col("wait_min").quantile(0.5, interpolation="nearest"),
                wait_min_p95=pl.col("wait_min").quantile(0.95, interpolation="nearest"),
            )
            .sort("day", "kind")
            .with_columns(
                pl.lit(rec.month, pl.Int16).alias("month"),
                pl.lit(self.period(rec.month)).alias("period"),
            )
        )
        return daily.select("month", "period", pl.exclude("month", "period")), hist
