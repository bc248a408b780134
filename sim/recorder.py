"""Record each month as it closes, with memory bounded by one month of beneficiaries.

Per month the recorder turns the domain's raw record into the columns of these tables (numpy
arrays; `tables` stacks the months into polars frames once, and adds the periods, the places'
codes and names and the labels then, since per month they cost more than the figures):
* beneficiary-month rows (`payments`), streamed to a month part file when requested;
* month × commune × category aggregates (`monthly`);
* month × commune figures a planner maps (`communes`): coverage, unpaid share, days to money,
  commune-point waits and the beneficiary's cost per payment;
* per point (`points`) and per day × kind of point (`waits`);
* the money ledger and the account funnel;
* histograms of days to money and of waits, for exact run-wide quantiles without keeping rows.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import polars as pl

from welfare_sim.models.accounts import STATUS_NAMES
from welfare_sim.models.cashout import VISIT_OUTCOMES
from welfare_sim.models.demography import AGE_BOUNDS_YEARS
from welfare_sim.models.interventions import STRATEGY_COST_KEYS
from welfare_sim.models.month.common import (
    CH_ACCOUNT,
    CH_CASH_COMMUNE,
    CH_CASH_COUNTER,
    CH_HOME,
    CHANNELS,
    FAILED_CREDIT_CAUSES,
    ST_HELD,
    ST_PAID,
    ST_PARTIAL,
    ST_RETURNED,
    ST_SUSPENDED,
    ST_UNCOLLECTED,
    STATUSES,
    MonthRecord,
)
from welfare_sim.models.params import ACCOUNT_TYPES, AGE_GROUPS, CATEGORIES, POINT_KINDS, TERRAINS, month_label
from welfare_sim.models.payment_run import Province

CATEGORY = pl.Enum(list(CATEGORIES))
CHANNEL = pl.Enum(list(CHANNELS))
STATUS = pl.Enum(list(STATUSES))
ACCOUNT_STATUS = pl.Enum(list(STATUS_NAMES))
ACCOUNT_TYPE = pl.Enum(["none", *ACCOUNT_TYPES])
TERRAIN = pl.Enum(list(TERRAINS))
AGE = pl.Enum(list(AGE_GROUPS))
KIND = pl.Enum(list(POINT_KINDS))
OUTCOME = pl.Enum(list(VISIT_OUTCOMES))
FAILED_CREDIT_CAUSE = pl.Enum(list(FAILED_CREDIT_CAUSES))
FC_MISMATCH, FC_DORMANT, FC_OTHER = (
    FAILED_CREDIT_CAUSES.index(k) for k in ("data_mismatch", "dormant_account", "other")
)

WAIT_BIN_MIN = 0.1
WAIT_BINS = int(24 * 60 / WAIT_BIN_MIN) + 1
DAY_BINS = 64

UNPAID = ("held", "returned", "uncollected", "suspended")
_UNPAID_STATUS = np.isin(np.arange(len(STATUSES)), [STATUSES.index(name) for name in UNPAID])  # by status code
ACCOUNT_OPEN = STATUS_NAMES.index("open")
ACCOUNT_DORMANT = STATUS_NAMES.index("dormant")


# the place keys of a table: indices, official codes and names (not figures to sum)
PLACE_COLUMNS = ("district", "district_code", "district_name", "commune", "commune_code", "commune_name")

PLACES_ORDER = (
    "district",
    "district_name",
    "district_code",
    "commune",
    "commune_in_district",
    "commune_name",
    "commune_code",
    "commune_type",
    "latitude",
    "longitude",
    "area_km2",
    "terrain",
)

# a recorded month's column of this prefix and a column's name: where that column is null
NULLS = "null:"

# funnel counts whose model name is also a payments column of another type
FUNNEL_NAMES = {"registered": "registrations"}


def period_date(start: str, month: int) -> dt.date:
    """First day of month `month` (0-based) of a run starting in `start` (YYYY-MM)."""
    label = month_label(start, month)
    return dt.date(int(label[:4]), int(label[5:7]), 1)


def _enum(codes: np.ndarray, dtype: pl.Enum, offset: int = 0) -> pl.Series:
    """Integer codes (plus `offset`) as an Enum column, without building strings."""
    levels = pl.Series(dtype.categories.to_list(), dtype=dtype)
    return levels.gather((codes.astype(np.int64) + offset).astype(np.uint32))


class Recorder:
    def __init__(
        self, province: Province, payments_dir: Path | None = None, pseudonyms: dict[int, str] | None = None
    ) -> None:
        self.p = province
        self.payments_dir = payments_dir
        self.payment_parts: list[Path] = []
        # per month, each table's columns as numpy arrays; made frames once, in `tables`
        self.monthly: list[dict[str, np.ndarray]] = []
        self.communes: list[dict[str, np.ndarray]] = []
        self.points: list[dict[str, np.ndarray]] = []
        self.waits: list[dict[str, np.ndarray]] = []
        self.subgroups: list[dict[str, np.ndarray]] = []
        self.ledger: list[dict[str, int]] = []
        self.funnel: list[dict[str, int]] = []
        self.days_hist: list[np.ndarray] = []
        self.wait_hist: list[np.ndarray] = []
        self.rows_recorded = 0
        self.strategies: dict[str, int] = {}  # the strategies' counts and costs, summed over the months
        self.strategy_spending: list[dict[str, int]] = []  # per month: the strategies' cost to the state
        costs = province.assume.costs
        self.costs = costs
        people = province.people
        places = province.communes.places
        self._commune_code = pl.Series("commune_code", [c or None for c in places.code], dtype=pl.String)
        # made-up communes (no register) have generated labels, kept in places.parquet only: an empty
        # column costs no memory in the per-row tables of a national run
        self._labels = pl.Series("commune_name", list(places.name), dtype=pl.String)
        named = any(places.code)
        self._commune_name = self._labels if named else pl.Series("commune_name", [None] * places.n, dtype=pl.String)
        self._district_code = pl.Series("district_code", [c or None for c in places.group_codes], dtype=pl.String)
        self._district_name = pl.Series("district_name", list(places.group_names), dtype=pl.String)
        self.static = pl.DataFrame(
            {
                "beneficiary_id": people.id.astype(np.int64),
                # the codes and names are gathered per month where rows are written, not held for everyone
                "district": people.district.astype(np.int64),
                "commune": people.commune.astype(np.int64),
                "category": _enum(people.category, CATEGORY),
                "terrain": _enum(people.terrain, TERRAIN),
                "age_group": _enum(people.age_group, AGE),
                "disabled": people.disabled,
                "ethnic_minority": people.ethnic_minority,
            }
        )
        if pseudonyms is not None:  # a roster run that asked for per-person tables: pseudonyms, never names
            self.static = self.static.with_columns(
                pl.col("beneficiary_id").replace_strict(pseudonyms, default=None, return_dtype=pl.String)
                .alias("pseudonym")
            )

        # the keys every row of the communes table starts with: the model's indices, codes and names
        n = province.communes.n
        self.commune_keys = pl.DataFrame(self._place_columns(province.communes.district, np.arange(n)))

    def _place_columns(self, district: np.ndarray, commune: np.ndarray | None = None) -> dict[str, pl.Series]:
        """district, district_code, district_name (and commune, commune_code, commune_name): the model's
        indices beside the official codes and names, so every table reads on its own."""
        d = district.astype(np.int64)
        out = {
            "district": pl.Series(d),
            "district_code": self._district_code.gather(d.astype(np.uint32)),
            "district_name": self._district_name.gather(d.astype(np.uint32)),
        }
        if commune is not None:
            c = commune.astype(np.int64)
            out |= {
                "commune": pl.Series(c),
                "commune_code": self._commune_code.gather(c.astype(np.uint32)),
                "commune_name": self._commune_name.gather(c.astype(np.uint32)),
            }
        return out

    def places(self) -> pl.DataFrame:
        """The lookup table of districts and communes (places.parquet): index, official code and name,
        type and coordinates. Without a register (`register: none`) a commune is labelled
        "<district> commune N" and its code is empty. On a map without districts the "district" is the
        group the model keys on: a named area, or the rest of the province."""
        communes = self.p.communes
        places = communes.places
        district = communes.district.astype(np.int64)
        first = np.searchsorted(district, district)  # communes number district by district
        within = np.arange(district.size, dtype=np.int64) - first + 1
        return (
            pl.DataFrame(
                {
                    **self._place_columns(district, np.arange(district.size)),
                    "commune_in_district": within,
                    "commune_type": pl.Series([t or None for t in places.type], dtype=pl.String),
                    "latitude": places.latitude,
                    "longitude": places.longitude,
                    "area_km2": places.area_km2,
                    "terrain": _enum(communes.terrain, TERRAIN),
                }
            )
            .with_columns(commune_name=self._labels)
            .select(PLACES_ORDER)
        )

    def __call__(self, rec: MonthRecord, province: Province) -> None:
        # The beneficiary-month rows are built as a polars frame only when they are written;
        # the aggregates are computed from the record's numpy columns directly (one pass of
        # np.bincount per figure: fast, single-threaded and so deterministic).
        self.rows_recorded += int(rec.rows.size)
        for key, value in rec.strategies.items():
            self.strategies[key] = self.strategies.get(key, 0) + int(value)
        spent = sum(int(rec.strategies.get(k, 0)) for k in STRATEGY_COST_KEYS)
        self.strategy_spending.append({"month": rec.month, "strategies_vnd": spent})
        derived = self._derived(rec)
        if self.payments_dir is not None:
            part = self.payments_dir / f"part-{rec.month:04d}.parquet"
            self._payments_frame(rec, derived).write_parquet(part, statistics=True)
            self.payment_parts.append(part)
        self.monthly.append(self._monthly(rec, derived))
        self.communes.append(self._communes(rec, derived))
        self.days_hist.append(self._days_hist(derived))
        self.subgroups.append(self._subgroups(rec, derived))
        # every ledger figure is money; the column names say so (entitled -> entitled_vnd)
        self.ledger.append(
            {"month": rec.month, "period": self.period(rec.month), **{f"{k}_vnd": v for k, v in rec.ledger.items()}}
        )
        funnel = {FUNNEL_NAMES.get(k, k): v for k, v in rec.funnel.items()}
        self.funnel.append({"month": rec.month, "period": self.period(rec.month), **funnel})
        self.points.append(self._points(rec))
        waits, hist = self._waits(rec)
        self.waits.append(waits)
        self.wait_hist.append(hist)

    def period(self, month: int) -> dt.date:
        """The month's first day (a Date column in every table)."""
        return period_date(self.p.start, month)

    # ---------------------------------------------------------------- tables

    def _payments_frame(self, rec: MonthRecord, derived: dict[str, np.ndarray] | None = None) -> pl.DataFrame:
        c = rec.columns
        derived = derived if derived is not None else self._derived(rec)
        has_day, days_to_money = derived["has_day"], derived["days_to_money"]
        day = c["day_in_hand"].astype(np.int64)
        travel = c["travel_min"]
        channel = c["channel"]
        frame = pl.DataFrame(
            {
                "month": np.full(rec.rows.size, rec.month, np.int64),
                "row": rec.rows.astype(np.int64),
                "channel": _enum(channel, CHANNEL),
                "status": _enum(c["status"], STATUS),
                "entitled_vnd": c["entitled_vnd"],
                "due_vnd": c["due_vnd"],
                "paid_vnd": c["paid_vnd"],
                "owed_end_vnd": c["owed_end_vnd"],
                "day_in_hand": pl.Series(np.where(has_day, day, 0), dtype=pl.Int64),
                "days_to_money": pl.Series(days_to_money, dtype=pl.Int64),
                "trips": c["trips"].astype(np.int64),
                "travel_min": travel.round(2),
                "wait_min": c["wait_min"].round(2),
                "withdrawals": c["withdrawals"].astype(np.int64),
                "atm_failures": c["atm_failures"].astype(np.int64),
                "home_cashouts": c["home_cashouts"].astype(np.int64),
                "withdrawn_vnd": c["withdrawn_vnd"],
                "account_status": _enum(c["account_status"], ACCOUNT_STATUS),
                "failed_credit_cause": _enum(c["failed_credit_cause"], FAILED_CREDIT_CAUSE),  # "none": no failed credit
                "account_type": _enum(c["account_type"], ACCOUNT_TYPE, offset=1),
                "registered": c["registered"],
                "balance_vnd": c["balance_vnd"],
                "drive_reached": c["drive_reached"],
                "travel_cost_vnd": derived["travel_cost_vnd"],
                "time_cost_vnd": derived["time_cost_vnd"],
                "fee_vnd": derived["fee_vnd"],
                "state_fee_vnd": derived["state_fee_vnd"],
            }
        )
        frame = frame.with_columns(
            pl.when(pl.col("days_to_money") >= 0).then(pl.col("day_in_hand")).otherwise(None).alias("day_in_hand"),
            pl.when(pl.col("days_to_money") >= 0).then(pl.col("days_to_money")).otherwise(None).alias("days_to_money"),
        )
        static = self.static[rec.rows]
        people = self.p.people
        names = self._place_columns(people.district[rec.rows], people.commune[rec.rows])
        static = static.select(
            "beneficiary_id", *(names[k].alias(k) for k in PLACE_COLUMNS), pl.exclude("beneficiary_id", *PLACE_COLUMNS)
        )
        return pl.concat(
            [
                frame.select("month", pl.lit(self.period(rec.month)).alias("period")),
                static,
                frame.drop("month", "row"),
            ],
            how="horizontal",
        )

    def _derived(self, rec: MonthRecord) -> dict[str, np.ndarray]:
        """Per-row figures shared by the payments table and the aggregates (same formulas)."""
        c = rec.columns
        costs = self.costs
        day = c["day_in_hand"]  # int16; NO_DAY (-1) when no money came to hand
        has_day = day >= 0
        travel = c["travel_min"]
        time_min = travel + c["wait_min"]
        time_min += c["service_min"]
        time_min /= 60.0
        time_min *= costs.value_of_time_vnd_per_hour
        # by mode and distance where people have places; without, the minutes at the flat rate
        travel_cost = c["travel_vnd"].copy() if "travel_vnd" in c else travel * (costs.travel_cost_vnd_per_min or 0)
        state_fee_by_channel = np.zeros(len(CHANNELS), np.int64)
        state_fee_by_channel[CH_ACCOUNT] = costs.fee_per_account_credit_vnd
        state_fee_by_channel[CH_HOME] = costs.fee_per_home_delivery_vnd
        # the post office's fee per cash payment, in the fee model only (bottom-up, the state pays
        # the staff and cash runs instead: in the points table)
        cash_fee = costs.fee_per_cash_payment_vnd if costs.model == "fee" else 0
        state_fee = c["cash_transactions"].astype(np.int64) * cash_fee
        state_fee += state_fee_by_channel[c["channel"]]
        return {
            "has_day": has_day,
            "days_to_money": np.where(has_day, day - self.p.run.run_start_day, -1).astype(np.int16, copy=False),
            "travel_cost_vnd": np.rint(travel_cost, out=travel_cost).astype(np.int64),
            "time_cost_vnd": np.rint(time_min, out=time_min).astype(np.int64),
            "fee_vnd": c["fee_vnd"],  # the fees charged (a point's own fee, or none when waived)
            "state_fee_vnd": state_fee,
        }

    def _monthly(self, rec: MonthRecord, derived: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Month × commune × category aggregates: a sum over each group's run per figure
        (integers summed as int64; one bincount for all the channel × status counts)."""
        c = rec.columns
        people = self.p.people
        rows = rec.rows
        n_cat = len(CATEGORIES)
        # people are stored by (commune, category) and rows ascend, so each group is one run
        group = people.commune[rows].astype(np.int64) * n_cat + people.category[rows]
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if group.size else np.empty(0, np.int64)
        keep = group[starts]
        n_groups = keep.size
        channel, status = c["channel"], c["status"]
        cause = np.where(status == ST_RETURNED, c["failed_credit_cause"], -1)

        def total(weights: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
            if n_groups == 0:
                return np.zeros(0, np.int64)
            if weights.dtype == bool:
                weights = weights.view(np.int8)
            if where is not None:
                weights = np.where(where, weights, 0)
            dtype = np.float64 if weights.dtype.kind == "f" else np.int64
            return np.add.reduceat(weights, starts, dtype=dtype)

        # one pass for every channel × status count
        n_ch, n_st = len(CHANNELS), len(STATUSES)
        group_index = np.cumsum(np.r_[False, group[1:] != group[:-1]]) if group.size else group
        by_cs = np.bincount(
            group_index * (n_ch * n_st) + channel.astype(np.int64) * n_st + status,
            minlength=n_groups * n_ch * n_st,
        ).reshape(n_groups, n_ch, n_st)
        by_ch = by_cs.sum(axis=2)
        by_st = by_cs.sum(axis=1)
        beneficiaries = by_ch.sum(axis=1)
        acct = c["account_status"]
        with_account = total((acct == ACCOUNT_OPEN) | (acct == ACCOUNT_DORMANT))
        paid, due = c["paid_vnd"], c["due_vnd"]
        cash_channel = (channel == CH_CASH_COMMUNE) | (channel == CH_CASH_COUNTER)
        has_day = derived["has_day"]
        n_days = total(has_day)
        sum_days = total(derived["days_to_money"], where=has_day)
        unpaid = sum(by_st[:, STATUSES.index(name)] for name in UNPAID)
        cols: dict[str, np.ndarray] = {
            "beneficiaries": beneficiaries,
            "with_account": with_account,
            "without_account": beneficiaries - with_account,
            "on_account_list": total(c["registered"]),
            "paid_into_account": by_cs[:, CH_ACCOUNT, ST_PAID],
            "paid_in_cash": by_ch[:, CH_CASH_COMMUNE] + by_ch[:, CH_CASH_COUNTER],
            "paid_at_commune_point": by_ch[:, CH_CASH_COMMUNE],
            "paid_at_post_office": by_ch[:, CH_CASH_COUNTER],
            "paid_at_home": by_cs[:, CH_HOME, ST_PAID],
            "home_unreached": by_cs[:, CH_HOME, ST_UNCOLLECTED],
            "paid_partly": by_st[:, ST_PARTIAL],
            "unpaid": unpaid,
            "held": by_st[:, ST_HELD],
            "failed_credits": by_st[:, ST_RETURNED],
            **{
                name: total(cause == code)
                for name, code in (
                    ("failed_credits_mismatch", FC_MISMATCH),
                    ("failed_credits_dormant", FC_DORMANT),
                    ("failed_credits_other", FC_OTHER),
                )
            },
            "uncollected": by_st[:, ST_UNCOLLECTED],
            "suspended": by_st[:, ST_SUSPENDED],
            "reached_by_drive": total(c["drive_reached"]),
        }
        money: dict[str, np.ndarray] = {
            "entitled_vnd": total(c["entitled_vnd"]),
            **self._programmes(rec, total, group_index, keep % n_cat, beneficiaries),
            "paid_vnd": total(paid),
            "paid_into_account_vnd": total(paid, where=channel == CH_ACCOUNT),
            "paid_in_cash_vnd": total(paid, where=cash_channel | (status == ST_PARTIAL)),
            "paid_at_home_vnd": total(paid, where=channel == CH_HOME),
            "failed_credit_vnd": total(due, where=status == ST_RETURNED),
            "owed_end_vnd": total(c["owed_end_vnd"]),
            "withdrawn_vnd": total(c["withdrawn_vnd"]),
            "trips": total(c["trips"]),
            "failed_atm_visits": total(c["atm_failures"]),
            "home_cashouts": total(c["home_cashouts"]),
        }
        floats: dict[str, np.ndarray] = {
            "days_to_money_mean": np.divide(sum_days, n_days, out=np.full(n_groups, np.nan), where=n_days > 0),
            "wait_min_total": total(np.round(c["wait_min"], 2)),
            "travel_min_total": total(np.round(c["travel_min"], 2)),
        }
        money_after = {
            "travel_cost_vnd": total(derived["travel_cost_vnd"]),
            "time_cost_vnd": total(derived["time_cost_vnd"]),
            "beneficiary_fees_vnd": total(derived["fee_vnd"]),
            "state_fees_vnd": total(derived["state_fee_vnd"]),
        }
        commune = keep // n_cat
        district = self.p.communes.district[commune]
        order = np.lexsort((keep % n_cat, commune, district))  # communes number district by district
        k = keep.size
        # numbers only: the period, codes, names and category labels are added once, in `tables`
        out = {
            "month": np.full(k, rec.month, np.int64),
            "district": district[order].astype(np.int64),
            "commune": commune[order].astype(np.int64),
            "category": (keep[order] % n_cat).astype(np.int64),
        }
        out |= {name: v[order].astype(np.int64) for name, v in cols.items()}
        out |= {name: v[order].astype(np.int64) for name, v in money.items()}
        # float64 even in a month with no rows left (everyone stopped), so the months stack
        out |= {name: v[order].astype(np.float64) for name, v in floats.items()}
        out |= {name: v[order].astype(np.int64) for name, v in money_after.items()}
        return out

    def _programmes(
        self, rec: MonthRecord, total, group_index: np.ndarray, group_category: np.ndarray,  # noqa: ANN001
        group_size: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Each programme apart: who is on the list in it and what it is owed, first or second
        programme alike (a second one counts while it pays: a social pension from its age). The
        entitlement splits exactly: what the second programme pays, the rest the first.

        A group (commune × first programme) is all in one first programme, so that programme's
        recipients are the group's size and its first-programme money the group's total; only the
        second programmes are counted row by row, in one pass (`group_index`: each row's group)."""
        people, rows = self.p.people, rec.rows
        entitled = rec.columns["entitled_vnd"]
        second_all = rec.columns["second_vnd"]  # the entitlement stage's, this month's rows
        second = np.where(entitled > 0, second_all, 0)
        first = total(entitled - second)
        n_cat, n_groups = len(CATEGORIES), group_size.size
        code = people.second[rows].astype(np.int64)
        pays = (second_all > 0) & (code >= 0) & (code < n_cat)
        at = group_index[pays] * n_cat + code[pays]
        in_second = np.bincount(at, minlength=n_groups * n_cat).reshape(n_groups, n_cat)
        # integer VND summed in float64 in row order: exact below 2**53 (a group's month is far below)
        second_vnd = np.bincount(at, weights=second[pays], minlength=n_groups * n_cat).reshape(n_groups, n_cat)
        out: dict[str, np.ndarray] = {}
        for c, name in enumerate(CATEGORIES):
            in_first = group_category == c
            out[f"recipients_{name}"] = np.where(in_first, group_size, in_second[:, c]).astype(np.int64)
            out[f"entitled_{name}_vnd"] = np.where(in_first, first, 0) + second_vnd[:, c].astype(np.int64)
        return out

    def _communes(self, rec: MonthRecord, derived: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """One row per commune (every commune, also one with nobody left this month): counts, shares,
        days to money, waits at the commune point and the beneficiaries' cost per payment.

        The commune-point wait is per beneficiary paid at the commune point (all of the month's
        trips), since a visit does not carry its commune; quantiles are nearest-rank as in `waits`."""
        c = rec.columns
        n = self.p.communes.n
        # rows ascend and people are stored by commune, so each commune's rows are one run
        commune = self.p.people.commune[rec.rows].astype(np.int64)
        starts = np.flatnonzero(np.r_[True, commune[1:] != commune[:-1]]) if commune.size else commune
        present = commune[starts]

        def total(values: np.ndarray) -> np.ndarray:
            out = np.zeros(n, np.int64)
            if commune.size:
                out[present] = np.add.reduceat(values.astype(np.int64, copy=False), starts, dtype=np.int64)
            return out

        channel, status, acct = c["channel"], c["status"], c["account_status"]
        beneficiaries = total(np.ones(commune.size, np.int64))
        with_account = total((acct == ACCOUNT_OPEN) | (acct == ACCOUNT_DORMANT))
        into_account = total((channel == CH_ACCOUNT) & (status == ST_PAID))
        unpaid = total(_UNPAID_STATUS[status])
        at_point = channel == CH_CASH_COMMUNE
        # the payments `cost_figures` counts: into an account, in cash or at home
        paid_home = (channel == CH_HOME) & (status == ST_PAID)
        payments = into_account + total(at_point | (channel == CH_CASH_COUNTER) | paid_home)
        has_day = derived["has_day"]
        n_days = total(has_day)
        sum_days = total(np.where(has_day, derived["days_to_money"], 0))
        cost = total(derived["travel_cost_vnd"]) + total(derived["time_cost_vnd"]) + total(derived["fee_vnd"])
        (p50, p95), no_wait = _group_quantiles(commune[at_point], c["wait_min"][at_point], n, (0.5, 0.95))
        out = {
            "month": np.full(n, rec.month, np.int64),
            "beneficiaries": beneficiaries,
            "with_account": with_account,
            "paid_into_account": into_account,
            "paid_at_commune_point": total(at_point),
            "unpaid": unpaid,
            "payments": payments,
        }

        def share(name: str, num: np.ndarray, den: np.ndarray) -> None:  # null where nothing to divide by
            out[name] = np.divide(num, den, out=np.zeros(n), where=den > 0)
            out[NULLS + name] = den == 0

        share("account_coverage", with_account, beneficiaries)
        share("paid_into_account_share", into_account, beneficiaries)
        share("unpaid_share", unpaid, beneficiaries)
        share("days_to_money_mean", sum_days, n_days)
        for name, values in (("commune_point_wait_min_p50", p50), ("commune_point_wait_min_p95", p95)):
            out[name], out[NULLS + name] = values, no_wait
        out["beneficiary_cost_vnd"] = cost
        # the comparison figure of the same name (a mean, so Float64), to the dong (rounded in `tables`)
        share("beneficiary_cost_per_payment_vnd", cost, payments)
        return out

    def _subgroups(self, rec: MonthRecord, derived: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Month × subgroup: counts, and the sums a mean or share is made of (days to money, minutes,
        the beneficiaries' cost), so that months and parts of a run add up before anything divides.

        Subgroups overlap (an 80-year-old may be disabled and live in the mountains), so each row
        gets one cell code, a bit per trait; every count comes from one np.bincount over cell ×
        status × channel × account status × money in hand, each sum from one weighted np.bincount
        over the cells, and a subgroup is the sum of the cells with its bit set: no per-subgroup
        pass over the rows."""
        c = rec.columns
        people = self.p.people
        rows = rec.rows
        # the month's own age (people age; the engine may already be in the next month), in months:
        # (month − born) // 12 ≥ 80 is month − born ≥ 960, no division needed
        age_months = rec.month - people.born[rows]
        aged_80 = age_months >= AGE_BOUNDS_YEARS[2] * 12
        aged_60_79 = (age_months >= AGE_BOUNDS_YEARS[1] * 12) & ~aged_80
        cell = aged_80.view(np.uint8) | (aged_60_79.view(np.uint8) << 1)
        cell |= people.disabled[rows].view(np.uint8) << 2
        cell |= people.ethnic_minority[rows].view(np.uint8) << 3
        cell |= (people.terrain[rows] == TERRAINS.index("mountain")).view(np.uint8) << 4
        cell = cell.astype(np.intp)  # once: np.bincount would convert it at every call
        n_cells = 1 << 5
        bits = np.arange(n_cells)
        members = {
            "all": np.ones(n_cells, bool),
            "elderly_60_plus": (bits & 0b11) > 0,
            "aged_80_plus": (bits & 0b1) > 0,
            "disabled": (bits & 0b100) > 0,
            "ethnic_minority": (bits & 0b1000) > 0,
            "mountain_communes": (bits & 0b10000) > 0,
        }
        n_st, n_ch, n_acct = len(STATUSES), len(CHANNELS), len(STATUS_NAMES)
        has_day = derived["has_day"]
        code = cell.copy()
        for part, size in ((c["status"], n_st), (c["channel"], n_ch), (c["account_status"], n_acct)):
            code *= size
            code += part
        code *= 2
        code += has_day
        full = np.bincount(code, minlength=n_cells * n_st * n_ch * n_acct * 2).reshape(n_cells, n_st, n_ch, n_acct, 2)
        by_st_ch = full.sum(axis=(3, 4))
        # the payments `cost_figures` counts, as in the communes table: into an account, in cash, at home
        paid = np.zeros((n_st, n_ch), bool)
        paid[ST_PAID, [CH_ACCOUNT, CH_HOME]] = True
        paid[:, [CH_CASH_COMMUNE, CH_CASH_COUNTER]] = True

        def amount(values: np.ndarray) -> np.ndarray:
            # float64 bins hold integer sums exactly below 2**53 VND (9 million billion)
            return np.rint(np.bincount(cell, weights=values, minlength=n_cells)).astype(np.int64)

        cost = derived["travel_cost_vnd"] + derived["time_cost_vnd"]
        cost += derived["fee_vnd"]
        ints = {
            "beneficiaries": by_st_ch.sum(axis=(1, 2)),
            "unpaid": by_st_ch[:, [STATUSES.index(name) for name in UNPAID]].sum(axis=(1, 2)),
            "suspended": by_st_ch[:, ST_SUSPENDED].sum(axis=1),
            "with_account": full[:, :, :, [ACCOUNT_OPEN, ACCOUNT_DORMANT]].sum(axis=(1, 2, 3, 4)),
            "payments": (by_st_ch * paid).sum(axis=(1, 2)),
            "money_in_hand": full[..., 1].sum(axis=(1, 2, 3)),
            "days_to_money_total": amount(np.where(has_day, derived["days_to_money"], 0)),
            "beneficiary_cost_vnd": amount(cost),
        }
        # rounded as in the monthly table, so a subgroup's minutes read like the month's
        floats = {
            "travel_min_total": np.bincount(cell, weights=np.round(c["travel_min"], 2), minlength=n_cells),
            "wait_min_total": np.bincount(cell, weights=np.round(c["wait_min"], 2), minlength=n_cells),
        }
        n = len(members)
        return {
            "month": np.full(n, rec.month, np.int64),
            "subgroup": np.array(list(members)),
            **{name: np.array([v[m].sum() for m in members.values()], np.int64) for name, v in ints.items()},
            **{name: np.array([v[m].sum() for m in members.values()], np.float64) for name, v in floats.items()},
        }

    def _days_hist(self, derived: dict[str, np.ndarray]) -> np.ndarray:
        days = derived["days_to_money"][derived["has_day"]]
        return np.bincount(np.clip(days, 0, DAY_BINS - 1), minlength=DAY_BINS)

    def _points(self, rec: MonthRecord) -> dict[str, np.ndarray]:
        pts = rec.points
        # a point-day with cash or a cost but no visitor is kept, and its cost with it
        keep = (pts["visits"] > 0) | (pts["float_vnd"] > 0)
        keep |= pts["staff_cost_vnd"] > 0
        keep |= pts["cash_transport_cost_vnd"] > 0
        pt = {name: values[keep] for name, values in pts.items()}
        point = pt["point"].astype(np.int64)
        visits = pt["visits"]
        # numbers only: the period, codes, names and kind labels are added once, in `tables`
        return {
            "month": np.full(point.size, rec.month, np.int64),
            "point": point,
            "kind": pt["kind"].astype(np.int64),
            # where the point stands: its commune, and its coordinates (NaN without a register)
            "district": pt["district"].astype(np.int64),
            "commune": self.p.points.site[point].astype(np.int64),
            "latitude": self.p.points.latitude[point],
            "longitude": self.p.points.longitude[point],
            "open_days": pt["open_days"].astype(np.int64),
            "down_days": pt["down_days"].astype(np.int64),
            "visits": visits.astype(np.int64),
            "served": pt["served"].astype(np.int64),
            "paid_vnd": pt["paid_vnd"],
            "float_vnd": pt["float_vnd"],
            "wait_min_mean": np.divide(
                pt["wait_min_total"], visits, out=np.zeros(point.size), where=visits > 0
            ).round(3),
            # what the state pays bottom-up (zero in the fee model), as the model charged it
            "staff_cost_vnd": pt["staff_cost_vnd"].astype(np.int64),
            "cash_transport_cost_vnd": pt["cash_transport_cost_vnd"].astype(np.int64),
        }

    def _waits(self, rec: MonthRecord) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Per day × kind of point: visits, outcomes and waits (mean, p50, p95); and the month's
        histogram of waits per kind (0.1-minute bins) for exact run-wide quantiles.

        `rec.visits` holds the visits of each day in turn. Quantiles are the nearest
        observation, rank round(q × (n − 1)) of the sorted waits. The month's visits are taken
        together: one sort by (day × kind, wait) gives every group's quantiles, and each group's
        mean is taken over its waits in their own order, as a numpy mean of that group alone."""
        n_kinds, n_out = len(POINT_KINDS), len(VISIT_OUTCOMES)
        days = rec.visits  # one day each, in day order
        n_groups = len(days) * n_kinds
        if days:
            per_day = np.array([v["kind"].size for v in days], np.int64)
            kind = np.concatenate([v["kind"] for v in days]).astype(np.int64)
            wait = np.concatenate([v["wait_min"] for v in days])
            outcome = np.concatenate([v["outcome"] for v in days]).astype(np.int64)
            group = np.repeat(np.arange(len(days), dtype=np.int64), per_day) * n_kinds + kind
        else:
            kind = outcome = group = np.zeros(0, np.int64)
            wait = np.zeros(0)
        bins = np.minimum((wait / WAIT_BIN_MIN).astype(np.int64), WAIT_BINS - 1)
        bins += kind * WAIT_BINS
        hist = np.bincount(bins, minlength=n_kinds * WAIT_BINS).reshape(n_kinds, WAIT_BINS)
        counts = np.bincount(group * n_out + outcome, minlength=n_groups * n_out).reshape(n_groups, n_out)
        sizes = np.bincount(group, minlength=n_groups)
        starts = np.cumsum(sizes) - sizes
        present = np.flatnonzero(sizes)  # day by day, and kind by kind within a day
        size, first = sizes[present], starts[present]
        in_order, p50, p95 = _grouped_picks(group, wait, sizes, present, (0.5, 0.95))
        # each group's mean over its waits in their own order (a numpy mean of that group alone)
        means = [float(in_order[a : a + m].mean()) for a, m in zip(first.tolist(), size.tolist(), strict=True)]
        c = counts[present]
        outcome_of = VISIT_OUTCOMES.index
        day_of = np.array([v["day"] for v in days], np.int64)
        daily = {
            "month": np.full(present.size, rec.month, np.int64),
            "day": day_of[present // n_kinds] if days else np.zeros(0, np.int64),
            "kind": (present % n_kinds).astype(np.int64),
            "visits": size.astype(np.int64),
            "served": (c[:, outcome_of("paid_full")] + c[:, outcome_of("paid_part")]).astype(np.int64),
            "turned_away_no_cash": c[:, outcome_of("no_cash")].astype(np.int64),
            "not_reached": c[:, outcome_of("not_reached")].astype(np.int64),
            "found_closed": c[:, outcome_of("closed")].astype(np.int64),
            "failed_visits": c[:, outcome_of("failed")].astype(np.int64),
            "wait_min_mean": np.array(means, np.float64),
            "wait_min_p50": p50.astype(np.float64),
            "wait_min_p95": p95.astype(np.float64),
        }
        return daily, hist

    # ---------------------------------------------------------------- the run's tables

    def _periods(self, month: pl.Series) -> pl.Series:
        """The month's first day for each row (a Date column)."""
        n = int(month.max()) + 1 if month.len() else 0
        dates = pl.Series("period", [self.period(m) for m in range(n)], dtype=pl.Date)
        return dates.gather(month.cast(pl.UInt32)) if n else pl.Series("period", [], dtype=pl.Date)

    def _labelled(
        self, months: list[dict[str, np.ndarray]], lead: tuple[str, ...], enums: dict[str, pl.Enum],
        places: bool = True,
    ) -> pl.DataFrame:
        """The months' numeric columns stacked, with each row's period, its place's codes and names
        and its labels added once for the whole run (per month they cost more than the figures).
        `lead`: the columns that open the table, in order; the figures follow as recorded."""
        frame = _stack(months)
        added: dict[str, pl.Series] = {"period": self._periods(frame["month"])}
        if places:
            added |= self._place_columns(frame["district"].to_numpy(), frame["commune"].to_numpy())
        for name, dtype in enums.items():
            added[name] = _enum(frame[name].to_numpy(), dtype)
        rest = [c for c in frame.columns if c not in lead]
        return frame.with_columns(**added).select(*lead, *rest)

    def tables(self) -> dict[str, pl.DataFrame]:
        """The run's tables: monthly, communes, subgroups, points and waits."""
        communes = _stack(self.communes).with_columns(pl.col("beneficiary_cost_per_payment_vnd").round(0))
        n = self.p.communes.n
        keys = self.commune_keys[np.tile(np.arange(n), len(self.communes))] if n else self.commune_keys
        communes = pl.concat(
            [communes.select("month"), self._periods(communes["month"]).to_frame(), keys, communes.drop("month")],
            how="horizontal",
        )
        return {
            "monthly": self._labelled(self.monthly, ("month", "period", *PLACE_COLUMNS, "category"),
                                      {"category": CATEGORY}),
            "communes": communes,
            "subgroups": self._labelled(self.subgroups, ("month", "period"), {}, places=False),
            "points": self._labelled(self.points, ("month", "period", "point", "kind", *PLACE_COLUMNS),
                                     {"kind": KIND}),
            "waits": self._labelled(self.waits, ("month", "period", "day", "kind"), {"kind": KIND}, places=False),
        }


def _stack(months: list[dict[str, np.ndarray]]) -> pl.DataFrame:
    """The months' columns (numpy arrays, in the order recorded) as one frame. A column with a mask
    beside it (key NULLS + name) is null where the mask is true."""
    first = months[0]
    columns = {}
    for name in first:
        if name.startswith(NULLS):
            continue
        series = pl.Series(name, np.concatenate([m[name] for m in months]))
        if NULLS + name in first:
            series = series.set(pl.Series(np.concatenate([m[NULLS + name] for m in months])), None)
        columns[name] = series
    return pl.DataFrame(columns)


def _group_quantiles(
    group: np.ndarray, values: np.ndarray, n_groups: int, qs: tuple[float, ...]
) -> tuple[list[np.ndarray], np.ndarray]:
    """Per group 0..n_groups-1, the nearest-rank quantiles `qs` of its values, and a mask of the empty groups:
    one sort by (group, value), then each group's ranks read off its run. The sort is of one float key,
    group × (largest value + 1) + value: an order of magnitude faster than np.lexsort on millions of rows."""
    if values.size:
        span = float(values.max()) + 1.0
        order = np.argsort(group.astype(np.float64) * span + values)
    else:
        order = np.zeros(0, np.int64)
    ordered = values[order]
    sizes = np.bincount(group, minlength=n_groups)
    starts = np.cumsum(sizes) - sizes
    out: list[np.ndarray] = []
    for q in qs:
        ranks = _nearest_rank(q, sizes)
        picked = ordered[np.minimum(starts + ranks, max(ordered.size - 1, 0))] if ordered.size else np.zeros(n_groups)
        out.append(np.round(picked, 2).astype(np.float64))
    return out, sizes == 0


# from this many values the compiled selection is faster than numpy's sorts (a national province's
# month, 300,000 visits: 9-12 ms against 21-26 ms); below it the two are alike (2026-12-04)
PICKS_COMPILED_MIN = 50_000


def _grouped_picks(
    group: np.ndarray, values: np.ndarray, sizes: np.ndarray, present: np.ndarray, qs: tuple[float, ...]
) -> tuple[np.ndarray, ...]:
    """`values` grouped by `group` (each group's values in their own order), and for each q in `qs`
    the nearest-rank quantile of every group in `present` (those with values; `sizes` per group).

    Compiled (numba, from PICKS_COMPILED_MIN values): a counting sort by group, then each quantile
    selected in its group (quickselect: linear work, no sort). Otherwise numpy: one sort by value,
    then stably by group. The same numbers either way: a quantile is one of the values."""
    starts = np.cumsum(sizes) - sizes
    first, size = starts[present], sizes[present]
    ranks = np.stack([_nearest_rank(q, size) for q in qs]) if qs else np.zeros((0, present.size), np.int64)
    if _picks_compiled is not None and values.size >= PICKS_COMPILED_MIN and not np.isnan(values).any():
        grouped, picked = _picks_compiled(
            np.ascontiguousarray(group, np.int64), np.ascontiguousarray(values, np.float64),
            np.ascontiguousarray(starts, np.int64), np.ascontiguousarray(first, np.int64),
            np.ascontiguousarray(size, np.int64), np.ascontiguousarray(ranks, np.int64),
        )
        return (grouped, *picked)
    n_groups = sizes.size
    # a group code of one byte sorts stably by radix, several times faster than int64 keys
    small = group.astype(np.uint8 if n_groups <= 256 else np.uint16 if n_groups <= 65536 else np.int64)
    grouped = values[np.argsort(small, kind="stable")]
    # by (group, value): by value, then stably by group (the same values as np.lexsort, 5× faster)
    by_value = np.argsort(values)
    ordered = values[by_value[np.argsort(small[by_value], kind="stable")]]
    return (grouped, *(ordered[first + r] for r in ranks))


def _select_py(a: np.ndarray, lo: int, hi: int, target: int) -> float:
    """The value that sorting a[lo:hi] would put at index `target`, found in place (Hoare's
    quickselect, median-of-three pivot): a[lo:target] end up <= it and a[target + 1:hi] >= it."""
    left, right = lo, hi - 1
    while right > left:
        mid = (left + right) >> 1
        if a[mid] < a[left]:
            a[mid], a[left] = a[left], a[mid]
        if a[right] < a[left]:
            a[right], a[left] = a[left], a[right]
        if a[right] < a[mid]:
            a[right], a[mid] = a[mid], a[right]
        pivot = a[mid]
        i, j = left, right
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if target <= j:
            right = j
        elif target >= i:
            left = i
        else:  # between j and i every value equals the pivot
            break
    return a[target]


def _picks_py(
    group: np.ndarray, values: np.ndarray, starts: np.ndarray, first: np.ndarray, size: np.ndarray,
    ranks: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The compiled body of `_grouped_picks`: (values grouped, stably; picks, len(qs) × groups).
    `ranks` ascend along qs; the largest is selected first, then each smaller one within what lies
    left of it (the smallest values of the group)."""
    n = values.shape[0]
    grouped = np.empty(n, np.float64)
    at = starts.copy()
    for i in range(n):
        g = group[i]
        grouped[at[g]] = values[i]
        at[g] += 1
    scratch = grouped.copy()
    n_q = ranks.shape[0]
    picked = np.empty((n_q, first.shape[0]), np.float64)
    for j in range(first.shape[0]):
        lo, hi = first[j], first[j] + size[j]
        for q in range(n_q - 1, -1, -1):
            picked[q, j] = _select(scratch, lo, hi, lo + ranks[q, j])
            hi = lo + ranks[q, j] + 1
    return grouped, picked


try:  # compiled; without numba (or with WELFARE_SIM_NO_NUMBA=1) the numpy path above serves
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; this keeps a broken install running
    numba = None

_COMPILE = numba is not None and not os.environ.get("WELFARE_SIM_NO_NUMBA")
_select = numba.njit(cache=True, nogil=True, inline="always")(_select_py) if _COMPILE else None
_picks_compiled = (
    numba.njit(
        "Tuple((float64[::1], float64[:, ::1]))(int64[::1], float64[::1], int64[::1], int64[::1], int64[::1], "
        "int64[:, ::1])",
        cache=True,
        nogil=True,
    )(_picks_py)
    if _COMPILE
    else None
)


def _nearest_rank(q: float, n: np.ndarray) -> np.ndarray:
    """0-based ranks of the nearest-observation quantile q of groups of n sorted values: q × (n − 1)
    rounded half away from zero (as polars' "nearest" interpolation)."""
    return np.floor(q * (n - 1) + 0.5).astype(np.int64)
