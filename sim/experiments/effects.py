"""What a strategy buys: cost-effectiveness, who gains and who loses, and the warnings of a comparison.

Every figure here is a paired difference over the comparison's seeds (scenario minus base, seed by
seed: common random numbers). A cost per unit of effect is a ratio of two such mean differences,
so its interval is Fieller's: the set of ratios θ for which the paired difference `cost − θ·effect`
cannot be told from zero by a t-test over the seeds. It is exact for normal differences (the
t-interval of a linear combination), needs no resampling (five seeds give a bootstrap only 126
distinct resamples), and is honest about a weak denominator: when the effect itself cannot be told
from zero, the set is unbounded and the ratio is reported without bounds.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from welfare_sim.sim.results import RunResult
    from welfare_sim.sim.scenario import Scenario

# --------------------------------------------------------------------------- per run


def run_counts(result: RunResult) -> dict[str, float]:
    """The counts a cost-effectiveness ratio divides by, for one run (not shares: a cost per
    account holder needs account holders)."""
    s = result.summary
    groups = result.subgroups.filter(pl.col("subgroup") == "all")
    last = groups.filter(pl.col("month") == groups["month"].max())
    minutes = result.monthly.select(pl.col("travel_min_total", "wait_min_total").sum()).row(0)
    return {
        "account_holders_last": float(last["with_account"].sum()),
        "beneficiaries_last": float(last["beneficiaries"].sum()),
        "unpaid_payments": float(groups["unpaid"].sum()),
        "beneficiary_hours": float(sum(minutes)) / 60.0,
        "state_cost_vnd": float(s["cost_vnd"]["state_total"]),
        "beneficiary_cost_vnd": float(s["cost_vnd"]["beneficiary_total"]),
    }


COUNT_KEYS = (
    "account_holders_last",
    "beneficiaries_last",
    "unpaid_payments",
    "beneficiary_hours",
    "state_cost_vnd",
    "beneficiary_cost_vnd",
)

# per place and group of one run: the sums a "who gains" row is made of
GROUP_SUMS = (
    "beneficiaries_last",
    "with_account_last",
    "beneficiary_months",
    "unpaid",
    "payments",
    "days_weighted",
    "days_counted",
    "hours",
    "beneficiary_cost_vnd",
)


def group_rows(result: RunResult) -> list[dict[str, Any]]:
    """Per district, commune, subgroup and programme of one run: the sums a "who gains" row needs.

    Districts, communes and programmes come from the month × commune × category table: coverage and
    beneficiary-months (last month), unpaid beneficiary-months, payments, days to money (the groups'
    monthly means weighted by their payments: that table keeps means, not sums), travel and queue
    hours, the beneficiaries' cost. The subgroups (80+, disabled, ethnic minority, mountain communes)
    come from the subgroups table, which keeps sums: days to money there is the exact mean over the
    beneficiary-months whose money came to hand."""
    from welfare_sim.models.params import CATEGORIES

    m = result.monthly
    last_month = int(m["month"].max())
    paid = pl.col("paid_into_account") + pl.col("paid_in_cash") + pl.col("paid_at_home")
    frame = m.with_columns(
        payments=paid,
        days_weighted=pl.col("days_to_money_mean").fill_nan(0).fill_null(0) * paid,
        days_counted=paid,
        hours=(pl.col("travel_min_total") + pl.col("wait_min_total")) / 60.0,
        beneficiary_cost_vnd=pl.col("travel_cost_vnd") + pl.col("time_cost_vnd") + pl.col("beneficiary_fees_vnd"),
        last=pl.col("month") == last_month,
    )
    aggs = [
        pl.col("beneficiaries").filter(pl.col("last")).sum().cast(pl.Float64).alias("beneficiaries_last"),
        pl.col("with_account").filter(pl.col("last")).sum().cast(pl.Float64).alias("with_account_last"),
        pl.col("beneficiaries").sum().cast(pl.Float64).alias("beneficiary_months"),
        *(pl.col(k).sum().cast(pl.Float64) for k in GROUP_SUMS[3:]),
    ]
    places = result.places
    rows: list[dict[str, Any]] = []
    names = {}
    if places is not None:
        for p in places.iter_rows(named=True):
            names[("commune", p["commune"])] = (p["commune_name"], p["commune_code"], p["district_name"])
            names[("district", p["district"])] = (p["district_name"], p["district_code"], p["district_name"])
    for level in ("district", "commune"):
        for r in frame.group_by(level).agg(aggs).sort(level).iter_rows(named=True):
            name, code, district = names.get((level, r[level]), (str(r[level]), None, None))
            rows.append(
                {
                    "level": level,
                    "key": str(r[level]),
                    "name": name,
                    "code": code,
                    "district": district,
                    **{k: r[k] for k in GROUP_SUMS},
                }
            )
    for r in frame.group_by("category").agg(aggs).sort("category").iter_rows(named=True):
        name = CATEGORIES[r["category"]] if isinstance(r["category"], int) else str(r["category"])
        rows.append(
            {
                "level": "programme",
                "key": name,
                "name": name,
                "code": None,
                "district": None,
                **{k: r[k] for k in GROUP_SUMS},
            }
        )
    rows.extend(subgroup_rows(result.subgroups))
    return rows


# the subgroups a "who gains" table shows (everyone is the province itself; 60+ holds the 80+)
GAINS_SUBGROUPS = ("aged_80_plus", "disabled", "ethnic_minority", "mountain_communes")


def subgroup_rows(subgroups: pl.DataFrame) -> list[dict[str, Any]]:
    """The "who gains" sums of each subgroup, from the month × subgroup table. A table written
    before it kept days, minutes and cost (only counts) gives NaN there rather than a guess."""
    sums = {
        "payments": "payments",
        "days_weighted": "days_to_money_total",
        "days_counted": "money_in_hand",
        "beneficiary_cost_vnd": "beneficiary_cost_vnd",
    }
    rows = []
    for key in GAINS_SUBGROUPS:
        part = subgroups.filter(pl.col("subgroup") == key)
        if part.height == 0:
            continue
        at_end = part.filter(pl.col("month") == part["month"].max())

        def total(col: str, part: pl.DataFrame = part) -> float:
            return float(part[col].sum()) if col in part.columns else math.nan

        minutes = total("travel_min_total") + total("wait_min_total")
        rows.append(
            {
                "level": "subgroup",
                "key": key,
                "name": key,
                "code": None,
                "district": None,
                "beneficiaries_last": float(at_end["beneficiaries"].sum()),
                "with_account_last": float(at_end["with_account"].sum()),
                "beneficiary_months": total("beneficiaries"),
                "unpaid": total("unpaid"),
                **{k: total(col) for k, col in sums.items()},
                "hours": minutes / 60.0,
            }
        )
    return rows


# --------------------------------------------------------------------------- statistics


def fieller(cost: np.ndarray, effect: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """(ratio, low, high): mean(cost) / mean(effect) of paired differences over seeds, with
    Fieller's interval. Bounds are NaN with one seed, or when the effect's own interval contains
    zero (the set of ratios is then unbounded)."""
    from scipy import stats

    a, b = np.asarray(cost, np.float64), np.asarray(effect, np.float64)
    n = a.size
    ma, mb = (float(a.mean()), float(b.mean())) if n else (math.nan, math.nan)
    ratio = ma / mb if mb else math.nan
    if n < 2 or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return ratio, math.nan, math.nan
    cov = np.cov(a, b, ddof=1) / n  # variances and covariance of the two means
    t2 = float(stats.t.ppf(0.5 + level / 2, n - 1)) ** 2
    qa = mb * mb - t2 * cov[1, 1]
    qb = ma * mb - t2 * cov[0, 1]
    qc = ma * ma - t2 * cov[0, 0]
    disc = qb * qb - qa * qc
    if qa <= 0:
        return ratio, math.nan, math.nan
    # with qa > 0 the set holds the estimate itself, so disc ≥ 0 but for rounding
    root = math.sqrt(max(disc, 0.0))
    return ratio, (qb - root) / qa, (qb + root) / qa


def paired_interval(diffs: np.ndarray) -> tuple[float, float, float]:
    """(mean, low, high): the 95 % t-interval of the mean of paired differences over seeds.
    With one seed there is no interval (NaN bounds)."""
    from scipy import stats

    diffs = np.asarray(diffs, np.float64)
    n = diffs.size
    mean = float(diffs.mean()) if n else math.nan
    if n < 2 or not np.isfinite(diffs).all():
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.975, n - 1) * diffs.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


# --------------------------------------------------------------------------- cost-effectiveness

# measure: (label, effect count, sign of a gain: +1 more is better, -1 fewer is better, effect unit)
MEASURES: dict[str, tuple[str, str, int, str]] = {
    "cost_per_account_holder": ("state cost per extra account holder", "account_holders_last", 1, "account holders"),
    "cost_per_unpaid_avoided": ("state cost per unpaid payment avoided", "unpaid_payments", -1, "unpaid payments"),
    "cost_per_hour_saved": ("state cost per beneficiary-hour saved", "beneficiary_hours", -1, "beneficiary-hours"),
}
RANK_CHOICES = (*MEASURES, "beneficiary_cost_change")


def counts_frame(names: list[str], results: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "scenario": [names[r["index"]] for r in results],
            "seed": pl.Series([r["seed"] for r in results], dtype=pl.Int64),
            **{
                k: pl.Series(
                    [r["counts"][k] for r in results], dtype=pl.Float64 if k == "beneficiary_hours" else None
                ).cast(pl.Float64 if k == "beneficiary_hours" else pl.Int64)
                for k in COUNT_KEYS
            },
        }
    )


def _paired(counts: pl.DataFrame, name: str, base: str, key: str) -> np.ndarray:
    here = counts.filter(pl.col("scenario") == name).sort("seed")
    there = counts.filter(pl.col("scenario") == base).sort("seed")
    if here["seed"].to_list() != there["seed"].to_list():
        raise ValueError(f"{name} was not run over the same seeds as {base}")
    return here[key].to_numpy() - there[key].to_numpy()


def cost_effectiveness(counts: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Per strategy (every name but the base, the first) and measure: the extra state cost, the
    gain (oriented so that more is better), the cost per unit of gain with Fieller's interval, and
    a verdict: `dominant` (gains, and the seeds tell it saves the state money), `gains` (the gain's
    interval excludes 0), `uncertain` (it does not), `no_gain` (the mean gain is ≤ 0: a ratio would
    mislead)."""
    base = names[0]
    rows = []
    for name in names[1:]:
        cost = _paired(counts, name, base, "state_cost_vnd")
        c_mean, c_lo, c_hi = paired_interval(cost)
        ben = _paired(counts, name, base, "beneficiary_cost_vnd")
        b_mean, b_lo, b_hi = paired_interval(ben)
        for measure, (label, key, sign, unit) in MEASURES.items():
            gain = sign * _paired(counts, name, base, key)
            g_mean, g_lo, g_hi = paired_interval(gain)
            ratio, r_lo, r_hi = fieller(cost, gain)
            if not g_mean > 0:
                verdict = "no_gain"
            elif c_hi <= 0 or (c_mean <= 0 and cost.size < 2):
                verdict = "dominant"  # the seeds tell it saves money (or, with one seed, it did)
            elif g_lo > 0:
                verdict = "gains"
            else:
                verdict = "uncertain"
            rows.append(
                {
                    "scenario": name,
                    "measure": measure,
                    "label": label,
                    "effect_unit": unit,
                    "gain_mean": g_mean,
                    "gain_lo": g_lo,
                    "gain_hi": g_hi,
                    "state_cost_mean_vnd": c_mean,
                    "state_cost_lo_vnd": c_lo,
                    "state_cost_hi_vnd": c_hi,
                    "ratio_vnd": ratio if verdict in ("gains", "uncertain") else math.nan,
                    "ratio_lo_vnd": r_lo if verdict in ("gains", "uncertain") else math.nan,
                    "ratio_hi_vnd": r_hi if verdict in ("gains", "uncertain") else math.nan,
                    "beneficiary_cost_mean_vnd": b_mean,
                    "beneficiary_cost_lo_vnd": b_lo,
                    "beneficiary_cost_hi_vnd": b_hi,
                    "verdict": verdict,
                    "n_seeds": int(cost.size),
                }
            )
    return pl.DataFrame(rows, schema=CE_SCHEMA, orient="row") if rows else pl.DataFrame(schema=CE_SCHEMA)


CE_SCHEMA = {
    "scenario": pl.String,
    "measure": pl.String,
    "label": pl.String,
    "effect_unit": pl.String,
    "gain_mean": pl.Float64,
    "gain_lo": pl.Float64,
    "gain_hi": pl.Float64,
    "state_cost_mean_vnd": pl.Float64,
    "state_cost_lo_vnd": pl.Float64,
    "state_cost_hi_vnd": pl.Float64,
    "ratio_vnd": pl.Float64,
    "ratio_lo_vnd": pl.Float64,
    "ratio_hi_vnd": pl.Float64,
    "beneficiary_cost_mean_vnd": pl.Float64,
    "beneficiary_cost_lo_vnd": pl.Float64,
    "beneficiary_cost_hi_vnd": pl.Float64,
    "verdict": pl.String,
    "n_seeds": pl.Int64,
}
VERDICT_ORDER = {"dominant": 0, "gains": 1, "uncertain": 2, "no_gain": 3}


def ranking(ce: pl.DataFrame, by: str) -> pl.DataFrame:
    """The strategies best first on `by`: a cost per unit of gain (dominant strategies first, by
    gain; then the lowest cost per unit; strategies with no gain last), or the change in the
    beneficiaries' own cost (lowest first)."""
    if by not in RANK_CHOICES:
        raise ValueError(f"rank by {by!r}: known {', '.join(RANK_CHOICES)}")
    measure = "cost_per_account_holder" if by == "beneficiary_cost_change" else by
    part = ce.filter(pl.col("measure") == measure)
    if by == "beneficiary_cost_change":
        part = part.sort("beneficiary_cost_mean_vnd", "scenario")
    else:
        part = (
            part.with_columns(
                pl.col("verdict").replace_strict(VERDICT_ORDER, return_dtype=pl.Int64).alias("_order"),
                pl.when(pl.col("verdict") == "dominant")
                .then(-pl.col("gain_mean"))
                .otherwise(pl.col("ratio_vnd"))
                .fill_nan(None)
                .alias("_key"),
            )
            .sort("_order", "_key", "scenario", nulls_last=True)
            .drop("_order", "_key")
        )
    return part.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))


# --------------------------------------------------------------------------- who gains and who loses


def gains_table(groups: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Per strategy, level (district, commune, subgroup, programme) and group: the paired change
    over seeds (mean and 95 % interval) in coverage (last month), unpaid share of beneficiary-months,
    days to money (mean), hours per beneficiary-month (travel and queue) and the beneficiaries' cost."""
    base = names[0]
    g = groups.with_columns(
        coverage=pl.col("with_account_last") / pl.col("beneficiaries_last"),
        unpaid_share=pl.col("unpaid") / pl.col("beneficiary_months"),
        days_to_money=pl.col("days_weighted") / pl.col("days_counted"),
        hours_per_month=pl.col("hours") / pl.col("beneficiary_months"),
    )
    keys = ("level", "key", "name", "code", "district")
    measures = ("coverage", "unpaid_share", "days_to_money", "hours_per_month", "beneficiary_cost_vnd")
    out_keys = dict(zip(keys, ("group_level", "group", "group_name", "group_code", "district_name"), strict=True))
    ref = g.filter(pl.col("scenario") == base).select("seed", "level", "key", *measures)
    rows = []
    for name in names[1:]:
        here = g.filter(pl.col("scenario") == name)
        joined = here.join(ref, on=["seed", "level", "key"], suffix="_base").sort("seed")
        for group_key, part in joined.group_by(keys, maintain_order=True):
            row = {"scenario": name, **{out_keys[k]: v for k, v in zip(keys, group_key, strict=True)}}
            for m in measures:
                diff = (part[m] - part[f"{m}_base"]).cast(pl.Float64).to_numpy()
                mean, lo, hi = paired_interval(diff) if np.isfinite(diff).all() else (math.nan,) * 3
                row[_gain_col(m, "change")], row[_gain_col(m, "lo")], row[_gain_col(m, "hi")] = mean, lo, hi
            rows.append(row)
    schema = {
        "scenario": pl.String,
        **dict.fromkeys(out_keys.values(), pl.String),
        **{_gain_col(m, s): pl.Float64 for m in measures for s in ("change", "lo", "hi")},
    }
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


def prints_as_zero(text: str) -> bool:
    """Whether a printed number is zero to its last digit ("+0.00", "-0,0 pp"): such a change is
    not called one, whatever its interval."""
    return not any(ch in "123456789" for ch in text)


def _gain_col(measure: str, part: str) -> str:
    """A column of the "who gains" table: coverage_change, ..., beneficiary_cost_lo_vnd (money ends in _vnd)."""
    if measure.endswith("_vnd"):
        return f"{measure.removesuffix('_vnd')}_{part}_vnd"
    return f"{measure}_{part}"


def groups_frame(names: list[str], results: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {
        "scenario": pl.String,
        "seed": pl.Int64,
        "level": pl.String,
        "key": pl.String,
        "name": pl.String,
        "code": pl.String,
        "district": pl.String,
        **dict.fromkeys(GROUP_SUMS, pl.Float64),
    }
    rows = [{"scenario": names[r["index"]], "seed": r["seed"], **row} for r in results for row in r.get("groups", [])]
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


# the "who gains" column of each measure, and whether a gain there is an increase (+1) or a fall (-1)
GROUP_MEASURE = {
    "cost_per_account_holder": ("coverage", 1),
    "cost_per_unpaid_avoided": ("unpaid_share", -1),
    "cost_per_hour_saved": ("hours_per_month", -1),
}


def left_behind(gains: pl.DataFrame, name: str, measure: str = "cost_per_account_holder") -> list[dict[str, Any]]:
    """The groups a strategy leaves worse off on its measure's own figure (coverage, unpaid share or
    hours; the seeds tell it), or, if none, the subgroups it does not distinguishably help there.
    Subgroups without that figure (hours of the 80+, say) are left out, not guessed."""
    col, sign = GROUP_MEASURE[measure]
    part = gains.filter(
        (pl.col("scenario") == name)
        & pl.col("group_level").is_in(["subgroup", "programme", "district"])
        & pl.col(f"{col}_change").is_not_nan()
    )
    lo, hi = pl.col(f"{col}_lo"), pl.col(f"{col}_hi")
    worse = part.filter(hi < 0 if sign > 0 else lo > 0)
    if worse.height:
        return [dict(r, how="worse") for r in worse.iter_rows(named=True)]
    helped = lo > 0 if sign > 0 else hi < 0
    flat = part.filter((pl.col("group_level") == "subgroup") & ~helped)
    return [dict(r, how="unchanged") for r in flat.iter_rows(named=True)]


# --------------------------------------------------------------------------- warnings

# a strategy kind -> the counts that show it reached someone
REACH_KEYS = {
    "drives": ("drive_team_months",),
    "atm_points": ("atm_points_open",),
    "agents": ("agents_open",),
    "chip_id_payment": ("chip_id_enrolled", "chip_id_linked"),
    "home_delivery": ("home_delivery_scheduled",),
    "fee_waivers": ("fees_waived_vnd",),
    "digital_teams": ("digital_teams_helped",),
    "cash_closure": ("cash_closure_listed",),
}


def strategy_warnings(
    scenarios: list[Scenario], names: list[str], months: int | None, strategies: pl.DataFrame
) -> list[dict[str, str]]:
    """What a comparison would otherwise pass over in silence: a strategy (one the scenario adds to
    the base) that starts after the run ends, or that reaches nobody in any seed (its counts are
    the base's)."""
    from welfare_sim.models.params import month_offset

    base = scenarios[0]
    base_interventions = base.interventions.model_dump(mode="json")
    warnings: list[dict[str, str]] = []
    for sc, name in zip(scenarios[1:], names[1:], strict=True):
        run_months = months or sc.months
        mine = sc.interventions.model_dump(mode="json")
        for kind, keys in REACH_KEYS.items():
            added = [s for s in mine.get(kind, []) if s not in base_interventions.get(kind, [])]
            if not added:
                continue
            late = [s for s in added if month_offset(sc.start, s["start"]) >= run_months]
            for s in late:
                warnings.append(
                    {
                        "scenario": name,
                        "strategy": f"{kind}.{s['name']}",
                        "kind": "starts_after_end",
                        "text": f"{name}: {kind} {s['name']!r} starts {s['start']}, after the run ends "
                        f"({sc.start} + {run_months} months); it cannot change anything: run more months "
                        "(--months) or move its start",
                    }
                )
            if len(late) == len(added):
                continue
            here = strategies.filter(pl.col("scenario") == name).sort("seed")
            there = strategies.filter(pl.col("scenario") == names[0]).sort("seed")
            cols = [k for k in keys if k in here.columns]
            if cols and here.select(cols).equals(there.select(cols)):
                warnings.append(
                    {
                        "scenario": name,
                        "strategy": kind,
                        "kind": "reaches_nobody",
                        "text": f"{name}: the {kind} it adds reach nobody in any seed (their counts "
                        f"{', '.join(cols)} are the base's); check its districts, communes and dates",
                    }
                )
    return warnings


# --------------------------------------------------------------------------- combinations


def merge_strategies(base: Scenario, strategies: list[Scenario], name: str) -> dict[str, Any]:
    """One scenario with the strategies of several (each the base plus what it adds), merged:
    every strategy any of them adds, once (the same strategy, added by two, is kept once); other
    settings a strategy changes are taken from it. Raises ValueError when two of them change the
    same setting differently, or add different strategies of one kind under one name."""
    merged = base.model_dump(mode="json")
    ref = base.model_dump(mode="json")
    changed_by: dict[str, str] = {}
    for sc in strategies:
        data = sc.model_dump(mode="json")
        for section, value in data.items():
            if section in ("name", "description", "interventions") or value == ref.get(section):
                continue
            if section in changed_by and merged[section] != value:
                raise ValueError(f"{sc.name} and {changed_by[section]} both change {section}, differently")
            merged[section], changed_by[section] = value, sc.name
        for kind, entries in data["interventions"].items():
            if not isinstance(entries, list):
                if entries != ref["interventions"].get(kind):
                    merged["interventions"][kind] = entries
                continue
            have = merged["interventions"][kind]
            for entry in entries:
                if entry in have:
                    continue
                if any(e.get("name") == entry.get("name") for e in have):
                    raise ValueError(f"{sc.name}: adds another {kind} named {entry.get('name')!r}")
                have.append(entry)
    merged["name"] = name
    merged["description"] = "combined: " + " + ".join(sc.name for sc in strategies)
    return merged


def candidate_combinations(
    ce: pl.DataFrame, measure: str, budget: float, max_size: int = 3, max_runs: int = 12
) -> list[tuple[str, ...]]:
    """The combinations worth running for a budget: two or more strategies that each gain on some
    measure (one that only saves hours can still lift another's accounts once merged), whose single
    extra costs add up to no more than 1.5 × the budget (costs of merged strategies need not add up,
    so the screen is loose; the combined run decides), most summed gain on `measure` first, at most
    `max_runs` of them."""
    useful = set(ce.filter(pl.col("gain_mean") > 0)["scenario"])
    part = ce.filter((pl.col("measure") == measure) & pl.col("scenario").is_in(useful))
    cost = dict(zip(part["scenario"], part["state_cost_mean_vnd"], strict=True))
    gain = dict(zip(part["scenario"], part["gain_mean"], strict=True))
    combos = [
        c
        for k in range(2, max_size + 1)
        for c in itertools.combinations(sorted(cost), k)
        if sum(cost[s] for s in c) <= 1.5 * budget
    ]
    combos.sort(key=lambda c: (-sum(gain[s] for s in c), c))
    return combos[:max_runs]


def best_within_budget(ce: pl.DataFrame, measure: str, budget: float) -> dict[str, Any] | None:
    """The plan (a strategy or a combined scenario) with the largest mean gain on `measure` whose
    mean extra state cost is within `budget` (of equal gains the cheaper); None if no plan gains."""
    part = ce.filter(
        (pl.col("measure") == measure) & (pl.col("state_cost_mean_vnd") <= budget) & (pl.col("gain_mean") > 0)
    ).sort("gain_mean", "state_cost_mean_vnd", "scenario", descending=[True, False, False])
    return part.row(0, named=True) if part.height else None


# --------------------------------------------------------------------------- the answer


def recommend(
    ce: pl.DataFrame,
    gains: pl.DataFrame,
    counts: pl.DataFrame,
    names: list[str],
    rank_by: str,
    budget: float | None = None,
) -> dict[str, Any] | None:
    """The recommendation a report opens with, computed from the figures: the best plan on
    `rank_by` (within `budget` when given: the largest gain it buys), its cost, gain and ratio with
    their intervals, who it leaves behind, and how sure the seeds make it (the runner-up, and in
    how many seeds the best is ahead of it, seed by seed). None when no strategy gains."""
    ranked = ranking(ce, rank_by)
    measure = "cost_per_account_holder" if rank_by == "beneficiary_cost_change" else rank_by
    if budget is not None:
        best = best_within_budget(ce, measure, budget)
        order = ce.filter((pl.col("measure") == measure) & (pl.col("state_cost_mean_vnd") <= budget)).sort(
            "gain_mean", "state_cost_mean_vnd", "scenario", descending=[True, False, False]
        )
    else:
        candidates = ranked.filter(pl.col("verdict") != "no_gain") if rank_by != "beneficiary_cost_change" else ranked
        best = candidates.row(0, named=True) if candidates.height else None
        order = candidates
    if best is None:
        return None
    others = [r for r in order.iter_rows(named=True) if r["scenario"] != best["scenario"]]
    runner = others[0] if others else None
    ahead = None
    if runner is not None:
        _, key, sign, _ = MEASURES[measure]
        cost_b = _paired(counts, best["scenario"], names[0], "state_cost_vnd")
        cost_r = _paired(counts, runner["scenario"], names[0], "state_cost_vnd")
        gain_b = sign * _paired(counts, best["scenario"], names[0], key)
        gain_r = sign * _paired(counts, runner["scenario"], names[0], key)
        if budget is not None:
            wins = gain_b > gain_r
        elif rank_by == "beneficiary_cost_change":
            wins = _paired(counts, best["scenario"], names[0], "beneficiary_cost_vnd") < _paired(
                counts, runner["scenario"], names[0], "beneficiary_cost_vnd"
            )
        else:
            # seed by seed, the ranking's own order: gains and saves (more gain first), then gains
            # (cheaper per unit first), then no gain
            wins = np.array(
                [
                    _seed_key(cb, gb) < _seed_key(cr, gr)
                    for cb, gb, cr, gr in zip(cost_b, gain_b, cost_r, gain_r, strict=True)
                ],
                bool,
            )
        ahead = int(np.count_nonzero(wins))
    behind = left_behind(gains, best["scenario"], measure) if gains.height else []
    return _json_safe(
        {
            "rank_by": rank_by,
            "measure": measure,
            "budget_vnd": budget,
            "best": best["scenario"],
            "verdict": best["verdict"],
            "ratio_vnd": best["ratio_vnd"],
            "ratio_lo_vnd": best["ratio_lo_vnd"],
            "ratio_hi_vnd": best["ratio_hi_vnd"],
            "gain_mean": best["gain_mean"],
            "gain_lo": best["gain_lo"],
            "gain_hi": best["gain_hi"],
            "effect_unit": best["effect_unit"],
            "state_cost_mean_vnd": best["state_cost_mean_vnd"],
            "state_cost_lo_vnd": best["state_cost_lo_vnd"],
            "state_cost_hi_vnd": best["state_cost_hi_vnd"],
            "beneficiary_cost_mean_vnd": best["beneficiary_cost_mean_vnd"],
            "runner_up": runner["scenario"] if runner else None,
            "seeds_ahead": ahead,
            "n_seeds": int(best["n_seeds"]),
            "left_behind": [
                {
                    "level": r["group_level"],
                    "key": r["group"],
                    "name": r["group_name"],
                    "how": r["how"],
                    "change": r[f"{GROUP_MEASURE[measure][0]}_change"],
                }
                for r in behind
            ],
        }
    )


def _seed_key(cost: float, gain: float) -> tuple[int, float]:
    if not gain > 0:
        return 2, 0.0
    return (0, -gain) if cost <= 0 else (1, cost / gain)


def _json_safe(value: Any) -> Any:
    """NaN and infinities as None: comparison.json is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value
