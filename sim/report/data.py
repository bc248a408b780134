"""Read a run folder or a comparison folder and derive the tables the report shows.

Every figure here is computed from the recorded tables after the run, in polars (as
welfare_sim.sim.results does for the headline); nothing is re-simulated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import yaml

RUN_MARKERS = ("summary.json", "monthly.parquet", "manifest.json")
RUN_NEEDS = (
    *RUN_MARKERS,
    "subgroups.parquet",
    "points.parquet",
    "waits.parquet",
    "scenario.resolved.yaml",
)
RUN_OPTIONAL = ("ledger.parquet", "funnel.parquet", "payments.parquet")
COMPARISON_MARKER = "comparison.json"
COMPARISON_NEEDS = (COMPARISON_MARKER, "table.parquet", "runs.parquet", "timeseries.parquet")

# Group ids of subgroups.parquet, in the order the report shows them.
SUBGROUPS = (
    "all",
    "elderly_60_plus",
    "aged_80_plus",
    "disabled",
    "ethnic_minority",
    "mountain_communes",
)


class ReportError(Exception):
    """Bad input for a report. `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def kind_of_folder(folder: Path) -> str:
    """'run' or 'comparison'; ReportError if it is neither."""
    folder = Path(folder)
    if not folder.exists():
        raise ReportError(
            [
                f"{folder}: folder not found; give a run folder (from `welfare-sim run`) or a "
                f"comparison folder (from `welfare-sim compare`)"
            ]
        )
    if not folder.is_dir():
        raise ReportError(
            [f"{folder}: is a file, not a folder; give the run or comparison folder that holds it"]
        )
    if (folder / COMPARISON_MARKER).exists():
        return "comparison"
    present = [name for name in RUN_MARKERS if (folder / name).exists()]
    if present:
        return "run"
    raise ReportError(
        [
            f"{folder}: not a run folder (needs {', '.join(RUN_MARKERS)}) nor a comparison folder "
            f"(needs {COMPARISON_MARKER}); make one with `welfare-sim run` or `welfare-sim compare`"
        ]
    )


def _missing(folder: Path, names: tuple[str, ...], what: str, how: str) -> None:
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise ReportError([f"{folder}: {what} is missing {', '.join(missing)}; {how}"])


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportError(
            [f"{path}: not valid JSON ({exc}); the folder is damaged, write it again"]
        ) from None
    if not isinstance(data, dict):
        raise ReportError(
            [f"{path}: expected a JSON object; the folder is damaged, write it again"]
        )
    return data


def _read_parquet(path: Path, needs: tuple[str, ...] = ()) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several kinds for a damaged file
        raise ReportError(
            [
                f"{path}: cannot be read as a parquet table ({type(exc).__name__}); write the "
                f"folder again"
            ]
        ) from None
    missing = [c for c in needs if c not in frame.columns]
    if missing:
        raise ReportError(
            [
                f"{path}: lacks column(s) {', '.join(missing)}; it was written by another version, "
                f"write it again"
            ]
        )
    return frame


# --------------------------------------------------------------------------- a run


@dataclass
class RunData:
    folder: Path
    summary: dict[str, Any]
    manifest: dict[str, Any]
    scenario: dict[str, Any]
    monthly: pl.DataFrame
    subgroups: pl.DataFrame
    points: pl.DataFrame
    waits: pl.DataFrame
    ledger: pl.DataFrame | None
    funnel: pl.DataFrame | None
    payments: Path | None
    places: pl.DataFrame | None = None  # places.parquet: names (and codes) of the communes
    communes: pl.DataFrame | None = None  # communes.parquet: month × commune figures (folders since it exists)

    @property
    def min_cell_size(self) -> int | None:
        """A roster run's minimum cell size (aggregates of fewer people are not shown); None otherwise."""
        roster = self.summary.get("roster")
        return int(roster["min_cell_size"]) if isinstance(roster, dict) else None

    @property
    def district_names(self) -> list[str]:
        if self.places is not None and "district_name" in self.places.columns:
            # the groups the model keyed on: the districts, or the areas and the rest of the province
            return self.places.unique("district", keep="first").sort("district")["district_name"].to_list()
        return [d["name"] for d in self.scenario["geography"]["districts"]]

    @property
    def province(self) -> str:
        return str(self.scenario["geography"].get("province", ""))

    @property
    def run_start_day(self) -> int:
        return int(self.scenario.get("payment_run", {}).get("run_start_day", 1))


MONTHLY_NEEDS = (
    "month",
    "period",
    "district",
    "commune",
    "beneficiaries",
    "with_account",
    "paid_into_account",
    "paid_in_cash",
    "paid_at_home",
    "unpaid",
    "suspended",
    "paid_vnd",
    "days_to_money_mean",
    "travel_cost_vnd",
    "time_cost_vnd",
    "beneficiary_fees_vnd",
    "state_fees_vnd",
)


COMMUNES_NEEDS = (
    "month",
    "period",
    "commune",
    "commune_code",
    "beneficiaries",
    "paid_into_account_share",
    "unpaid_share",
    "commune_point_wait_min_p95",
    "beneficiary_cost_per_payment_vnd",
)


def load_run(folder: Path) -> RunData:
    folder = Path(folder)
    _missing(folder, RUN_NEEDS, "the run folder", "run the scenario again with `welfare-sim run`")
    try:
        scenario = yaml.safe_load((folder / "scenario.resolved.yaml").read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        scenario = None
    if not isinstance(scenario, dict) or "geography" not in scenario:
        raise ReportError(
            [
                f"{folder / 'scenario.resolved.yaml'}: not a resolved scenario; write the run "
                f"folder again"
            ]
        )
    data = RunData(
        folder=folder,
        summary=_read_json(folder / "summary.json"),
        manifest=_read_json(folder / "manifest.json"),
        scenario=scenario,
        monthly=_read_parquet(folder / "monthly.parquet", MONTHLY_NEEDS),
        subgroups=_read_parquet(
            folder / "subgroups.parquet",
            ("month", "period", "subgroup", "beneficiaries", "unpaid", "suspended"),
        ),
        points=_read_parquet(
            folder / "points.parquet",
            ("month", "kind", "district", "staff_cost_vnd", "cash_transport_cost_vnd"),
        ),
        waits=_read_parquet(
            folder / "waits.parquet",
            ("month", "day", "kind", "visits", "wait_min_mean", "wait_min_p95"),
        ),
        ledger=_read_parquet(folder / "ledger.parquet")
        if (folder / "ledger.parquet").is_file()
        else None,
        funnel=_read_parquet(folder / "funnel.parquet")
        if (folder / "funnel.parquet").is_file()
        else None,
        payments=folder / "payments.parquet" if (folder / "payments.parquet").is_file() else None,
        places=_read_parquet(folder / "places.parquet", ("commune", "commune_name"))
        if (folder / "places.parquet").is_file()
        else None,
        communes=_read_parquet(folder / "communes.parquet", COMMUNES_NEEDS)
        if (folder / "communes.parquet").is_file()
        else None,
    )
    if data.payments is not None:
        data.monthly = _with_exact_days(data.monthly, data.payments)
    if data.communes is not None:  # a roster run: the per-commune sheet and map show no small commune
        data.communes = small_cells(data, data.communes)
    if data.monthly.height == 0:
        raise ReportError([f"{folder / 'monthly.parquet'}: has no rows; the run recorded no month"])
    n = len(data.district_names)
    top = int(data.monthly["district"].max())
    if top >= n:
        raise ReportError(
            [
                f"{folder}: monthly.parquet names district {top} but scenario.resolved.yaml lists "
                f"{n}; the folder mixes two runs, write it again"
            ]
        )
    return data


def _with_exact_days(monthly: pl.DataFrame, payments: Path) -> pl.DataFrame:
    """Add the count and sum of days to money of each monthly row, counted from the payments."""
    keys = ["month", "district", "commune", "category"]
    try:
        days = (
            pl.scan_parquet(payments)
            .select(*keys, "days_to_money")
            .group_by(keys)
            .agg(
                days_n=pl.col("days_to_money").count().cast(pl.Int64),
                days_sum=pl.col("days_to_money").cast(pl.Int64).sum(),
            )
            .collect()
        )
    except Exception as exc:  # a damaged payments file: say so rather than guess
        raise ReportError(
            [
                f"{payments}: cannot be read ({type(exc).__name__}); write the run folder again, "
                f"or delete the file"
            ]
        ) from None
    days = days.with_columns(pl.col(k).cast(monthly.schema[k]) for k in keys)
    return monthly.join(days, on=keys, how="left").with_columns(
        pl.col("days_n").fill_null(0), pl.col("days_sum").fill_null(0)
    )


_COUNTS = (
    "beneficiaries",
    "with_account",
    "on_account_list",
    "paid_into_account",
    "paid_in_cash",
    "paid_at_commune_point",
    "paid_at_post_office",
    "paid_at_home",
    "unpaid",
    "suspended",
    "failed_credits",
    "reached_by_drive",
    "entitled_vnd",
    "paid_vnd",
    "paid_into_account_vnd",
    "travel_cost_vnd",
    "time_cost_vnd",
    "beneficiary_fees_vnd",
    "state_fees_vnd",
)


def _aggregate(
    monthly: pl.DataFrame, keys: list[str], point_costs: pl.DataFrame | None
) -> pl.DataFrame:
    """Sum the monthly table over `keys`, with shares, costs per payment and mean days to money.

    Days to money: the mean over the group's payments, weighting each row's mean by its
    payments made (the rows of monthly.parquet keep means, not counts of days).
    """
    cols = [c for c in _COUNTS if c in monthly.columns]
    if "days_n" in monthly.columns:  # exact, counted from payments.parquet
        days_sum, days_n = pl.col("days_sum"), pl.col("days_n")
    else:
        paid = (pl.col("paid_into_account") + pl.col("paid_in_cash") + pl.col("paid_at_home")).cast(
            pl.Int64
        )
        known = pl.col("days_to_money_mean").fill_nan(None).is_not_null()
        days_sum = pl.col("days_to_money_mean").fill_nan(None) * paid
        days_n = pl.when(known).then(paid).otherwise(0)
    frame = (
        monthly.with_columns(_days_w=days_sum.cast(pl.Float64), _days_c=days_n.cast(pl.Int64))
        .group_by(keys)
        .agg(
            *(pl.col(c).cast(pl.Int64).sum() for c in cols),
            _days_sum=pl.col("_days_w").sum(),
            _days_n=pl.col("_days_c").sum(),
        )
    )
    if point_costs is not None:
        frame = frame.join(point_costs, on=keys, how="left").with_columns(
            pl.col("point_cost_vnd").fill_null(0)
        )
    else:
        frame = frame.with_columns(point_cost_vnd=pl.lit(0, pl.Int64))
    payments = pl.col("paid_into_account") + pl.col("paid_in_cash") + pl.col("paid_at_home")
    state = pl.col("state_fees_vnd") + pl.col("point_cost_vnd")
    beneficiary = (
        pl.col("travel_cost_vnd") + pl.col("time_cost_vnd") + pl.col("beneficiary_fees_vnd")
    )
    frame = frame.with_columns(
        payments=payments,
        account_coverage=_ratio(pl.col("with_account"), pl.col("beneficiaries")),
        cashless_share=_ratio(pl.col("paid_into_account"), payments),
        unpaid_share=_ratio(pl.col("unpaid"), pl.col("beneficiaries")),
        days_to_money_mean=_ratio(pl.col("_days_sum"), pl.col("_days_n")),
        state_cost_vnd=state,
        state_per_payment=_ratio(state, payments),
        beneficiary_cost_vnd=beneficiary,
        beneficiary_per_payment=_ratio(beneficiary, payments),
    ).drop("_days_sum", "_days_n")
    return frame.sort(keys)


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num.cast(pl.Float64) / den.cast(pl.Float64)).otherwise(None)


def _point_costs(run: RunData, keys: list[str]) -> pl.DataFrame:
    return run.points.group_by(keys).agg(
        point_cost_vnd=(pl.col("staff_cost_vnd") + pl.col("cash_transport_cost_vnd"))
        .cast(pl.Int64)
        .sum()
    )


_KEYS = ("month", "period", "district", "district_name", "district_code", "commune", "commune_no",
         "commune_name", "commune_code", "subgroup")


def small_cells(run: RunData, frame: pl.DataFrame, counts: tuple[str, ...] = ("beneficiaries",)) -> pl.DataFrame:
    """A roster run's aggregate with every row of fewer than `min_cell_size` people (but some) left
    blank, the counts included, so no small group's figures can be read off."""
    k = run.min_cell_size
    present = [c for c in counts if c in frame.columns]
    if k is None or not present or frame.height == 0:
        return frame
    small = pl.any_horizontal([(pl.col(c) > 0) & (pl.col(c) < k) for c in present])
    return frame.with_columns(
        pl.when(small).then(pl.lit(None)).otherwise(pl.col(c)).alias(c) for c in frame.columns if c not in _KEYS
    )


def by_month(run: RunData) -> pl.DataFrame:
    return small_cells(run, _by_month(run))


def _by_month(run: RunData) -> pl.DataFrame:
    return _aggregate(
        run.monthly,
        ["month", "period"],
        _point_costs(run, ["month"]).join(
            run.monthly.select("month", "period").unique(), on="month"
        ),
    )


def district_month(run: RunData) -> pl.DataFrame:
    costs = _point_costs(run, ["month", "district"]).join(
        run.monthly.select("month", "period").unique(), on="month"
    )
    frame = _aggregate(run.monthly, ["district", "month", "period"], costs)
    return small_cells(run, _with_district_name(frame, run))


def _with_district_name(frame: pl.DataFrame, run: RunData) -> pl.DataFrame:
    names = pl.DataFrame(
        {"district": list(range(len(run.district_names))), "district_name": run.district_names},
        schema={"district": frame.schema["district"], "district_name": pl.String},
    )
    return frame.drop("district_name", strict=False).join(names, on="district", how="left")


def by_district(run: RunData) -> pl.DataFrame:
    """One row per district: first and last month, and the whole run."""
    dm = district_month(run)
    first, last = int(dm["month"].min()), int(dm["month"].max())
    whole = _aggregate(run.monthly, ["district"], _point_costs(run, ["district"]))
    f = dm.filter(pl.col("month") == first).select(
        "district", beneficiaries_first="beneficiaries", coverage_first="account_coverage"
    )
    last_rows = dm.filter(pl.col("month") == last).select(
        "district",
        beneficiaries_last="beneficiaries",
        coverage_last="account_coverage",
        cashless_last="cashless_share",
        suspended_last="suspended",
    )
    communes = run.monthly.group_by("district").agg(communes=pl.col("commune").n_unique())
    frame = (
        whole.select(
            "district",
            cashless_run="cashless_share",
            unpaid_share_run="unpaid_share",
            days_to_money_mean="days_to_money_mean",
            state_per_payment="state_per_payment",
            beneficiary_per_payment="beneficiary_per_payment",
            paid_vnd="paid_vnd",
        )
        .join(f, on="district")
        .join(last_rows, on="district")
        .join(communes, on="district")
        .sort("district")
    )
    return small_cells(run, _with_district_name(frame, run), ("beneficiaries_first", "beneficiaries_last"))


def commune_month(run: RunData) -> pl.DataFrame:
    frame = _aggregate(run.monthly, ["district", "commune", "month", "period"], None)
    return small_cells(run, _with_commune_no(_with_district_name(frame, run), run))


def _with_commune_no(frame: pl.DataFrame, run: RunData) -> pl.DataFrame:
    """The commune's number within its district and, from places.parquet (run folders written
    before it existed have none), its name."""
    numbers = (
        frame.select("district", "commune")
        .unique()
        .sort("district", "commune")
        .with_columns(commune_no=pl.col("commune").rank("dense").over("district").cast(pl.Int64))
    )
    if run.places is not None:
        numbers = numbers.join(run.places.select("commune", "commune_name"), on="commune", how="left")
    else:
        numbers = numbers.with_columns(commune_name=pl.lit(None, pl.String))
    return frame.join(numbers, on=["district", "commune"], how="left")


def by_commune(run: RunData) -> pl.DataFrame:
    cm = commune_month(run)
    last = int(cm["month"].max())
    whole = _aggregate(run.monthly, ["district", "commune"], None)
    last_rows = cm.filter(pl.col("month") == last).select(
        "commune",
        beneficiaries_last="beneficiaries",
        coverage_last="account_coverage",
        cashless_last="cashless_share",
        suspended_last="suspended",
    )
    frame = (
        whole.select(
            "district",
            "commune",
            cashless_run="cashless_share",
            unpaid_share_run="unpaid_share",
            days_to_money_mean="days_to_money_mean",
            beneficiary_per_payment="beneficiary_per_payment",
            reached_by_drive="reached_by_drive",
            paid_vnd="paid_vnd",
        )
        .join(last_rows, on="commune", how="left")
        .sort("district", "commune")
    )
    return small_cells(run, _with_commune_no(_with_district_name(frame, run), run), ("beneficiaries_last",))


def subgroup_table(run: RunData) -> pl.DataFrame:
    return small_cells(run, _subgroup_table(run))


def _subgroup_table(run: RunData) -> pl.DataFrame:
    return run.subgroups.with_columns(
        unpaid_share=_ratio(pl.col("unpaid"), pl.col("beneficiaries")),
        suspended_share=_ratio(pl.col("suspended"), pl.col("beneficiaries")),
        account_coverage=_ratio(pl.col("with_account"), pl.col("beneficiaries"))
        if "with_account" in run.subgroups.columns
        else pl.lit(None, pl.Float64),
        **_per_payment(run.subgroups.columns),
    ).sort(
        "month",
        pl.col("subgroup").replace_strict(
            {g: i for i, g in enumerate(SUBGROUPS)}, default=len(SUBGROUPS), return_dtype=pl.Int32
        ),
    )


def _per_payment(columns: list[str]) -> dict[str, pl.Expr]:
    """Who gains, month by month: days to money, travel, wait and cost per payment (a run folder written
    before subgroups.parquet had these sums shows none)."""
    out = {}
    if "days_to_money_total" in columns:
        out["days_to_money_mean"] = _ratio(pl.col("days_to_money_total"), pl.col("money_in_hand"))
    for total, mean in (
        ("travel_min_total", "travel_min_per_payment"),
        ("wait_min_total", "wait_min_per_payment"),
        ("beneficiary_cost_vnd", "beneficiary_cost_per_payment_vnd"),
    ):
        if total in columns and "payments" in columns:
            out[mean] = _ratio(pl.col(total), pl.col("payments"))
    return out


def subgroup_summary(run: RunData) -> pl.DataFrame:
    """Per group: unpaid share of beneficiary-months over the run; suspended share, last month."""
    last = int(run.subgroups["month"].max())
    frame = run.subgroups.group_by("subgroup").agg(
        unpaid_share=_ratio(pl.col("unpaid").sum(), pl.col("beneficiaries").sum()),
        suspended_last_share=_ratio(
            pl.col("suspended").filter(pl.col("month") == last).sum(),
            pl.col("beneficiaries").filter(pl.col("month") == last).sum(),
        ),
    )
    order = {g: i for i, g in enumerate(SUBGROUPS)}
    return (
        frame.with_columns(
            _o=pl.col("subgroup").replace_strict(order, default=len(order), return_dtype=pl.Int32)
        )
        .sort("_o")
        .drop("_o")
    )


def waits_by_day(run: RunData) -> pl.DataFrame:
    """Per kind of point and day of the month, over all months: visit-weighted mean wait,
    the median over months of the day's 95th percentile, and mean visits per month."""
    months = run.waits["month"].n_unique()
    w = run.waits.filter(pl.col("visits") > 0)
    return (
        w.group_by("kind", "day")
        .agg(
            wait_mean=(pl.col("wait_min_mean") * pl.col("visits")).sum() / pl.col("visits").sum(),
            wait_p95=pl.col("wait_min_p95").median(),
            visits_per_month=pl.col("visits").sum() / months,
        )
        .sort("kind", "day")
    )


def wait_means(run: RunData) -> dict[str, float]:
    """Mean queue wait of all visits over the run, by kind of point (visit-weighted)."""
    frame = (
        run.waits.filter(pl.col("visits") > 0)
        .group_by(pl.col("kind").cast(pl.String))
        .agg(mean=(pl.col("wait_min_mean") * pl.col("visits")).sum() / pl.col("visits").sum())
    )
    return {str(k): float(v) for k, v in frame.iter_rows()}


def days_distribution(run: RunData) -> pl.DataFrame | None:
    """Payments by days to money in hand and channel, from payments.parquet (None without it)."""
    if run.payments is None:
        return None
    try:
        frame = (
            pl.scan_parquet(run.payments)
            .select("channel", "days_to_money")
            .filter(pl.col("days_to_money").is_not_null())
            .group_by(pl.col("channel").cast(pl.String), "days_to_money")
            .agg(payments=pl.len())
            .collect()
        )
    except Exception as exc:  # a damaged or foreign payments file: report without this chart
        raise ReportError(
            [
                f"{run.payments}: cannot be read ({type(exc).__name__}); write the run folder "
                f"again, or delete the file"
            ]
        ) from None
    return frame.sort("channel", "days_to_money")


# --------------------------------------------------------------------------- a comparison


@dataclass
class ComparisonData:
    folder: Path
    meta: dict[str, Any]
    table: pl.DataFrame
    runs: pl.DataFrame
    timeseries: pl.DataFrame
    png: Path | None
    strategies: pl.DataFrame | None = None

    @property
    def base(self) -> str:
        return str(self.meta["base"])

    @property
    def scenarios(self) -> list[str]:
        return [str(s) for s in self.meta["scenarios"]]


TABLE_NEEDS = (
    "scenario",
    "figure",
    "label",
    "unit",
    "mean",
    "diff_mean",
    "diff_lo",
    "diff_hi",
    "distinguishable",
)
TIMESERIES_NEEDS = ("scenario", "seed", "month", "period", "account_coverage", "cashless_share")


def load_comparison(folder: Path) -> ComparisonData:
    folder = Path(folder)
    _missing(folder, COMPARISON_NEEDS, "the comparison folder", "run `welfare-sim compare` again")
    meta = _read_json(folder / COMPARISON_MARKER)
    problems = [
        f"{folder / COMPARISON_MARKER}: lacks the key {key!r}; write the comparison again"
        for key in ("base", "scenarios")
        if key not in meta
    ]
    if problems:
        raise ReportError(problems)
    data = ComparisonData(
        folder=folder,
        meta=meta,
        table=_read_parquet(folder / "table.parquet", TABLE_NEEDS),
        runs=_read_parquet(folder / "runs.parquet", ("scenario", "seed")),
        timeseries=_read_parquet(folder / "timeseries.parquet", TIMESERIES_NEEDS),
        png=folder / "compare.png" if (folder / "compare.png").is_file() else None,
        strategies=_read_parquet(folder / "strategies.parquet")
        if (folder / "strategies.parquet").is_file()
        else None,
    )
    if data.base not in data.scenarios:
        raise ReportError(
            [
                f"{folder / COMPARISON_MARKER}: base {data.base!r} is not among the scenarios; "
                f"write the comparison again"
            ]
        )
    return data


def scenario_series(data: ComparisonData) -> pl.DataFrame:
    """Per scenario and month: mean, lowest and highest over seeds of coverage, cashless share."""
    return (
        data.timeseries.group_by("scenario", "month", "period")
        .agg(
            *(
                expr
                for col in ("account_coverage", "cashless_share")
                for expr in (
                    pl.col(col).mean().alias(f"{col}_mean"),
                    pl.col(col).min().alias(f"{col}_min"),
                    pl.col(col).max().alias(f"{col}_max"),
                )
            )
        )
        .sort("scenario", "month")
    )


def comparison_figures(data: ComparisonData) -> pl.DataFrame:
    """figure, label, unit of each compared figure, in the order comparison.json lists them."""
    figures = data.table.select("figure", "label", "unit").unique(
        subset="figure", maintain_order=True
    )
    order = [f.get("figure") for f in data.meta.get("figures", []) if isinstance(f, dict)]
    if not order:
        return figures
    rank = {f: i for i, f in enumerate(order)}
    return (
        figures.with_columns(
            _o=pl.col("figure").replace_strict(rank, default=len(rank), return_dtype=pl.Int32)
        )
        .sort("_o")
        .drop("_o")
    )
