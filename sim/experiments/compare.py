"""`welfare-sim compare`: rollout strategies side by side, over the same seeds.

Every scenario runs over the same list of seeds. The random streams are keyed by stable ids
(beneficiary, point, month, day) under the run seed, so two scenarios run with one seed share their
draws wherever they do the same thing: common random numbers. A difference between two scenarios
for one seed then comes from the strategy, not the noise, and the paired differences over seeds
give a 95 % t-interval. A difference whose interval contains 0 is marked: the seeds cannot tell it
from zero.

The comparison folder (the contract that `welfare_sim.sim.report` reads):

* `comparison.json`: base, scenarios (base first), files, seeds, figures (figure, label, unit);
* `table.parquet`: per scenario and figure: mean, diff_mean, diff_lo, diff_hi, distinguishable,
  n_seeds (the difference is paired, scenario minus base, seed by seed);
* `runs.parquet`: per scenario and seed, the figures as columns;
* `timeseries.parquet`: per scenario, seed and month: account_coverage, cashless_share;
* `strategies.parquet`: per scenario and seed, the strategies' counts and costs (VND) over the run;
* `compare.png`: coverage and cashless share by month, a line per scenario with its band;
* `table.md`: the printed table as Markdown (a row per figure, a column per scenario).

Shares (unit "share") are stored as fractions from 0 to 1 and printed as percentages; a difference of
shares is printed in percentage points.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from concurrent.futures import as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from welfare_sim.sim.results import RunResult
    from welfare_sim.sim.scenario import Scenario


from welfare_sim.sim.experiments.effects import paired_interval  # noqa: F401  (kept importable from here)
from welfare_sim.sim.figures import FIGURE_KEYS, FIGURES, SUBGROUPS, Figure  # noqa: F401  (kept importable from here)

# --------------------------------------------------------------------------- one run


def _num(value: float | None) -> float:
    return math.nan if value is None else float(value)


def headline_figures(result: RunResult) -> dict[str, float]:
    """The comparison's figures for one run, from its headline: the costs are the run's own
    (`welfare_sim.sim.results.cost_figures`, strategy spending and the fees charged included)."""
    from welfare_sim.sim.recorder import WAIT_BIN_MIN
    from welfare_sim.sim.results import hist_quantile

    s = result.summary
    payments = s["payments"]["total"]
    cost = s["cost_vnd"]
    strategy_cost = cost["state_strategies"]
    state_total = cost["state_total"]
    beneficiary_total = cost["beneficiary_total"]
    travel_min = float(result.monthly["travel_min_total"].sum())
    waits = result.wait_hist.sum(axis=(0, 1))
    groups = result.subgroups
    last = groups.filter(pl.col("month") == groups["month"].max())
    coverage = {
        row["subgroup"]: row["with_account"] / row["beneficiaries"]
        for row in last.iter_rows(named=True)
        if row["beneficiaries"]
    }
    figures = {
        "account_coverage_last": _num(s["account_coverage"]["last_month"]),
        **{f"account_coverage_last_{key}": _num(coverage.get(key)) for key in SUBGROUPS if key != "all"},
        "cashless_share_run": _num(s["cashless_share"]["run_payments"]),
        "cashless_share_last": _num(s["cashless_share"]["last_month_payments"]),
        "days_to_money_mean": _num(s["days_to_money"]["mean_days"]),
        "days_to_money_p95": _num(s["days_to_money"]["p95_days"]),
        "wait_p95_min": _num(hist_quantile(waits, 0.95, WAIT_BIN_MIN)),
        "travel_min_per_payment": travel_min / payments if payments else math.nan,
        **{f"unpaid_{key}": _num(s["unpaid_by_subgroup"].get(key, {}).get("unpaid_share")) for key in SUBGROUPS},
        "state_cost_per_payment_vnd": state_total / payments if payments else math.nan,
        "beneficiary_cost_per_payment_vnd": beneficiary_total / payments if payments else math.nan,
        "strategy_cost_vnd": float(strategy_cost),
        "state_cost_total_vnd": float(state_total),
        "beneficiary_cost_total_vnd": float(beneficiary_total),
        "total_cost_vnd": float(state_total + beneficiary_total),
    }
    assert tuple(figures) == FIGURE_KEYS
    return figures


def run_one(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one scenario with one seed. Plain data in, plain data out, so it runs the same in a
    worker process (spawned) as in this one: the scenario comes as a dict and is validated here."""
    from welfare_sim.models.interventions import STRATEGY_COUNTS
    from welfare_sim.sim.engine import simulate
    from welfare_sim.sim.experiments.effects import group_rows, run_counts
    from welfare_sim.sim.recorder import Recorder
    from welfare_sim.sim.results import collect, coverage_by_month, headline
    from welfare_sim.sim.scenario import validate_scenario

    scenario = validate_scenario(payload["scenario"], payload["source"])
    recorder: Recorder | None = None

    def record(rec, province) -> None:  # noqa: ANN001
        nonlocal recorder
        if recorder is None:
            recorder = Recorder(province)
        recorder(rec, province)

    simulate(scenario, seed=payload["seed"], months=payload["months"], on_month=record)
    assert recorder is not None
    result = collect(recorder)
    result.summary = headline(result)
    strategy = dict.fromkeys(STRATEGY_COUNTS, 0) | result.strategies
    # the period as ISO text: a run's result is plain JSON-able data between processes
    series = coverage_by_month(result).select(
        "month", pl.col("period").dt.to_string("%Y-%m-%d"), "account_coverage", "cashless_share"
    )
    return {
        "index": payload["index"],
        "seed": payload["seed"],
        "figures": headline_figures(result),
        "strategies": strategy,
        "timeseries": series.to_dict(as_series=False),
        "counts": run_counts(result),
        "groups": group_rows(result),
    }


def run_all(
    scenarios: list[Scenario],
    sources: list[str],
    seeds: list[int],
    months: int | None = None,
    workers: int = 1,
    on_done: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Every scenario over every seed, serial or in `workers` spawned processes; the results come
    back in (scenario, seed) order either way, and are identical either way."""
    payloads = [
        {
            "index": i,
            "scenario": sc.model_dump(mode="json"),
            "source": src,
            "seed": seed,
            "months": months,
        }
        for i, (sc, src) in enumerate(zip(scenarios, sources, strict=True))
        for seed in seeds
    ]
    results: list[dict[str, Any]] = []
    if workers <= 1:
        for payload in payloads:
            results.append(run_one(payload))
            if on_done is not None:
                on_done()
    else:
        from welfare_sim.sim.pool import process_pool

        with process_pool(workers) as pool:
            futures = [pool.submit(run_one, payload) for payload in payloads]
            for future in as_completed(futures):
                results.append(future.result())
                if on_done is not None:
                    on_done()
    order = {(p["index"], p["seed"]): k for k, p in enumerate(payloads)}
    return sorted(results, key=lambda r: order[(r["index"], r["seed"])])


# --------------------------------------------------------------------------- tables


def runs_frame(names: list[str], results: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "scenario": [names[r["index"]] for r in results],
            "seed": pl.Series([r["seed"] for r in results], dtype=pl.Int64),
            **{key: pl.Series([r["figures"][key] for r in results], dtype=pl.Float64) for key in FIGURE_KEYS},
        }
    )


def strategies_frame(names: list[str], results: list[dict[str, Any]]) -> pl.DataFrame:
    keys = list(results[0]["strategies"]) if results else []
    return pl.DataFrame(
        {
            "scenario": [names[r["index"]] for r in results],
            "seed": pl.Series([r["seed"] for r in results], dtype=pl.Int64),
            **{k: pl.Series([r["strategies"][k] for r in results], dtype=pl.Int64) for k in keys},
        }
    )


def timeseries_frame(names: list[str], results: list[dict[str, Any]]) -> pl.DataFrame:
    parts = [
        pl.DataFrame(r["timeseries"]).select(
            pl.lit(names[r["index"]]).alias("scenario"),
            pl.lit(r["seed"], pl.Int64).alias("seed"),
            pl.col("month").cast(pl.Int64),
            pl.col("period").str.to_date("%Y-%m-%d"),
            pl.col("account_coverage").cast(pl.Float64),
            pl.col("cashless_share").cast(pl.Float64),
        )
        for r in results
    ]
    return pl.concat(parts)


# Half the last printed digit of each unit (0.1 pp, 0.01 days, 0.1 min, 1 VND): a difference smaller
# than this prints as zero ("0.00 days (0.00 to 0.00)") and is never called distinguishable.
RESOLUTION = {"share": 0.0005, "days": 0.005, "min": 0.05, "VND": 0.5}


def comparison_table(runs: pl.DataFrame, names: list[str], seeds: list[int]) -> pl.DataFrame:
    """Per scenario and figure: the mean over seeds and the paired difference from the base
    (the first name) with its 95 % interval, and whether the interval excludes zero."""
    base = names[0]
    by = {name: runs.filter(pl.col("scenario") == name).sort("seed") for name in names}
    rows = []
    for name in names:
        frame = by[name]
        if frame["seed"].to_list() != by[base]["seed"].to_list():
            raise ValueError(f"{name} was not run over the same seeds as {base}")
        for fig in FIGURES:
            values = frame[fig.key].to_numpy()
            diffs = values - by[base][fig.key].to_numpy()
            mean_diff, lo, hi = paired_interval(diffs)
            rows.append(
                {
                    "scenario": name,
                    "figure": fig.key,
                    "label": fig.label,
                    "unit": fig.unit,
                    "mean": float(values.mean()),
                    "diff_mean": mean_diff,
                    "diff_lo": lo,
                    "diff_hi": hi,
                    # NaN bounds compare False; a difference below what is printed is not one
                    "distinguishable": bool((lo > 0 or hi < 0) and abs(mean_diff) >= RESOLUTION[fig.unit]),
                    "n_seeds": len(seeds),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "scenario": pl.String,
            "figure": pl.String,
            "label": pl.String,
            "unit": pl.String,
            "mean": pl.Float64,
            "diff_mean": pl.Float64,
            "diff_lo": pl.Float64,
            "diff_hi": pl.Float64,
            "distinguishable": pl.Boolean,
            "n_seeds": pl.Int64,
        },
    )


# --------------------------------------------------------------------------- output


LINE_STYLES = ("-", "-.", ":")


def plot_timeseries(series: pl.DataFrame, names: list[str], path: Path) -> None:
    """Coverage and cashless share by month: per scenario the mean over seeds, and a band from
    the lowest to the highest seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stats = (
        series.group_by("scenario", "month", "period")
        .agg(
            *(
                e
                for col in ("account_coverage", "cashless_share")
                for e in (
                    pl.col(col).mean().alias(f"{col}_mean"),
                    pl.col(col).min().alias(f"{col}_lo"),
                    pl.col(col).max().alias(f"{col}_hi"),
                )
            )
        )
        .sort("month")
    )
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2), sharex=True)
    panels = (
        ("account_coverage", "Beneficiaries with an account"),
        ("cashless_share", "Payments made into accounts"),
    )
    colors = plt.get_cmap("tab10")
    for ax, (col, title) in zip(axes, panels, strict=True):
        drawn: list[tuple[str, np.ndarray]] = []
        for k, name in enumerate(names):
            sub = stats.filter(pl.col("scenario") == name)
            x = sub["month"].to_numpy()
            mean = 100 * sub[f"{col}_mean"].to_numpy().astype(float)
            # The base is black and dashed, on top of everything. A strategy that leaves a curve
            # where another one is would hide it: each later line is thinner than the one
            # before, and the legend says which curve it lies on.
            same = next(
                (
                    other
                    for other, curve in drawn
                    if curve.shape == mean.shape and np.allclose(curve, mean, atol=0.05, rtol=0)
                ),
                None,
            )
            drawn.append((name, mean))
            label = name + (" (base)" if k == 0 else "") + (f"  = {same}" if same else "")
            color = "black" if k == 0 else colors((k - 1) % 10)
            ax.plot(
                x,
                mean,
                color=color,
                lw=1.8 if k == 0 else max(4.0 - 0.35 * (k - 1), 1.0),
                ls="--" if k == 0 else LINE_STYLES[(k - 1) // 10 % len(LINE_STYLES)],
                zorder=10 if k == 0 else 2 + k / 100,
                label=label,
            )
            ax.fill_between(
                x,
                100 * sub[f"{col}_lo"].to_numpy().astype(float),
                100 * sub[f"{col}_hi"].to_numpy().astype(float),
                color=color,
                alpha=0.15,
                lw=0,
                zorder=1,
            )
        periods = stats.filter(pl.col("scenario") == names[0]).select("month", "period").unique().sort("month")
        step = max(1, periods.height // 8)
        ax.set_xticks(
            periods["month"].to_list()[::step],
            periods["period"].to_list()[::step],
            rotation=45,
            ha="right",
        )
        ax.set_title(title)
        ax.set_ylabel("%")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    for ax in axes:  # each panel its own legend: which curves coincide differs by panel
        ax.legend(fontsize=7, loc="upper left")
    n_seeds = series["seed"].n_unique()
    fig.suptitle(f"Strategies compared: mean over {n_seeds} seed(s); band: lowest to highest seed")
    fig.tight_layout()
    save_png(fig, path, 120)


def save_png(fig: Any, path: Path, dpi: int) -> None:
    """Render a pyplot figure beside `path` under a hidden name, publish it atomically, close it."""
    import matplotlib.pyplot as plt

    from welfare_sim.sim.publish import atomic_write_bytes

    tmp = path.with_name(f".{path.name}.render")
    try:
        fig.savefig(tmp, format="png", dpi=dpi)
        atomic_write_bytes(path, tmp.read_bytes())
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)


def unique_names(scenarios: list[Scenario], sources: list[str]) -> list[str]:
    """Scenario names, made unique (a file compared with itself gets `#2`)."""
    names: list[str] = []
    for sc in scenarios:
        name, k = sc.name, 2
        while name in names:
            name, k = f"{sc.name} #{k}", k + 1
        names.append(name)
    return names


def default_out(scenarios: list[Scenario], seeds: list[int], months: int | None) -> Path:
    digest = hashlib.sha256(json.dumps([[sc.digest() for sc in scenarios], seeds, months]).encode()).hexdigest()[:10]
    return Path("outputs") / f"compare-{scenarios[0].name}-{digest}"


def write_comparison(
    out_dir: Path,
    names: list[str],
    sources: list[str],
    seeds: list[int],
    results: list[dict[str, Any]],
    extra: dict[str, Any] | None = None,
    warnings: list[dict[str, str]] | None = None,
    rank_by: str = "cost_per_account_holder",
    budget: float | None = None,
) -> pl.DataFrame:
    """Write the comparison folder (assembled under a temporary name, then swapped into place): a
    new path, or a comparison folder welfare-sim wrote. Anything else raises OutputError."""
    from welfare_sim.sim.experiments import effects
    from welfare_sim.sim.publish import atomic_write_bytes, atomic_write_parquet, building, write_json

    runs = runs_frame(names, results)
    table = comparison_table(runs, names, seeds)
    series = timeseries_frame(names, results)
    counts = effects.counts_frame(names, results)
    ce = effects.cost_effectiveness(counts, names)
    gains = effects.gains_table(effects.groups_frame(names, results), names)
    answer = effects.recommend(ce, gains, counts, names, rank_by, budget) if len(names) > 1 else None
    ranked = effects.ranking(ce, rank_by) if len(names) > 1 else None
    extra = {
        **(extra or {}),
        "rank_by": rank_by,
        "budget_vnd": budget,
        "ranking": ranked["scenario"].to_list() if ranked is not None else [],
        "recommendation": answer,
        "warnings": warnings or [],
    }
    with building(Path(out_dir), "comparison") as staging:
        meta = {
            "base": names[0],
            "scenarios": names,
            "files": sources,
            "seeds": seeds,
            "figures": [{"figure": f.key, "label": f.label, "unit": f.unit} for f in FIGURES],
            "notes": {
                "shares": "figures with unit share are fractions from 0 to 1; their differences too",
                "interval": "diff_lo, diff_hi: 95 % t-interval of the paired difference (scenario "
                "minus base, seed by seed); none with one seed",
                "timeseries": "account_coverage and cashless_share are fractions from 0 to 1",
                "cost_effectiveness": "per strategy and measure: extra state cost and gain (paired "
                "95 % t-intervals), cost per unit of gain with Fieller's 95 % interval (none when the "
                "gain cannot be told from zero); verdict dominant / gains / uncertain / no_gain",
                "gains": "per strategy, district, commune, subgroup and programme: the paired change "
                "in coverage, unpaid share, days to money, hours per beneficiary-month and "
                "beneficiaries' cost, with 95 % t-intervals",
            },
            **(extra or {}),
        }
        write_json(staging / "comparison.json", meta)
        atomic_write_parquet(staging / "table.parquet", table)
        atomic_write_parquet(staging / "runs.parquet", runs)
        atomic_write_parquet(staging / "timeseries.parquet", series)
        atomic_write_parquet(staging / "strategies.parquet", strategies_frame(names, results))
        plot_timeseries(series, names, staging / "compare.png")
        atomic_write_parquet(staging / "counts.parquet", counts)
        atomic_write_parquet(staging / "cost_effectiveness.parquet", ce)
        atomic_write_parquet(staging / "gains.parquet", gains)
        if ce.height:
            plot_cost_effectiveness(ce, staging / "cost_effectiveness.png")
        atomic_write_bytes(staging / "table.md", markdown_table(table, names, len(seeds)).encode("utf-8"))
    return table


# --------------------------------------------------------------------------- printing


VND_SCALES = ((1e9, "bn VND"), (1e6, "M VND"))


def vnd_scale(reference: float) -> tuple[float, str]:
    """(divisor, unit) for printing VND amounts of the size of `reference`: billions, millions or
    plain VND, so that a whole row of the table uses one unit."""
    size = abs(reference) if math.isfinite(reference) else 0.0
    for divisor, unit in VND_SCALES:
        if size >= divisor:
            return divisor, unit
    return 1.0, "VND"


def _fmt(value: float, unit: str, diff: bool = False, scale: tuple[float, str] = (1.0, "VND")) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    sign = "+" if diff else ""
    if unit == "share":
        return f"{100 * value:{sign},.1f}" + (" pp" if diff else " %")
    if unit == "VND":
        divisor, name = scale
        decimals = 0 if divisor == 1.0 else 2
        return f"{value / divisor:{sign},.{decimals}f} {name}"
    decimals = 2 if unit == "days" else 1
    return f"{value:{sign},.{decimals}f} {unit}"


def _bound(value: float, unit: str, scale: tuple[float, str] = (1.0, "VND")) -> str:
    if not math.isfinite(value):
        return "–"
    if unit == "share":
        return f"{100 * value:,.1f}"
    if unit == "VND":
        divisor = scale[0]
        return f"{value / divisor:,.{0 if divisor == 1.0 else 2}f}"
    return f"{value:,.{2 if unit == 'days' else 1}f}"


def cells(table: pl.DataFrame, names: list[str], n_seeds: int) -> list[tuple[Figure, list[dict]]]:
    """Per figure: for each of `names` (base first) its value, difference from the base, interval
    and ≈0 mark, as text. VND figures use one unit per row (VND, M VND or bn VND)."""
    out = []
    for fig in FIGURES:
        rows = {r["scenario"]: r for r in table.filter(pl.col("figure") == fig.key).iter_rows(named=True)}
        scale = vnd_scale(rows[names[0]]["mean"]) if fig.unit == "VND" else (1.0, "VND")
        row = []
        for k, name in enumerate(names):
            r = rows[name]
            cell = {"value": _fmt(r["mean"], fig.unit, scale=scale)}
            if k > 0:
                cell["delta"] = _fmt(r["diff_mean"], fig.unit, diff=True, scale=scale)
                cell["interval"] = (
                    f"[{_bound(r['diff_lo'], fig.unit, scale)}, {_bound(r['diff_hi'], fig.unit, scale)}]"
                    if n_seeds >= 2
                    else ""
                )
                cell["zero"] = n_seeds >= 2 and not r["distinguishable"]
            row.append(cell)
        out.append((fig, row))
    return out


def table_for_console(table: pl.DataFrame, names: list[str], n_seeds: int, title: str, lang: str = "en"):  # noqa: ANN201
    """A rich table: a row per figure, the base's column, then a column per scenario of `names`;
    in Vietnamese (`lang="vi"`) with the report's labels and number formats."""
    from rich.table import Table

    from welfare_sim.sim.report.i18n import Lang, figure_label

    words = Lang(lang)
    t = Table(title=title, show_header=True, header_style="bold", show_lines=True)
    t.add_column(words.t("term.figure"), max_width=FIGURE_COLUMN)
    # names fold onto a second line rather than end in "…" in an 80-column terminal
    t.add_column(f"{names[0]}\n({words.t('term.base')})", justify="right", overflow="fold")
    for name in names[1:]:
        t.add_column(f"{name}\n{words.t('term.compare_column')}", justify="right", overflow="fold")
    rows = cells(table, names, n_seeds) if lang == "en" else _cells_in(words, table, names, n_seeds)
    for fig, row in rows:
        out = [fig.label if lang == "en" else figure_label(words, fig.key, fig.label), row[0]["value"]]
        for cell in row[1:]:
            if n_seeds < 2:
                out.append(f"{cell['value']}\nΔ {cell['delta']}")
            elif cell["zero"]:
                out.append(f"{cell['value']}\n[dim]Δ {cell['delta']} ≈0\n{cell['interval']}[/]")
            else:
                out.append(f"{cell['value']}\n[bold]Δ {cell['delta']}[/]\n{cell['interval']}")
        t.add_row(*out)
    return t


def _cells_in(words: Any, table: pl.DataFrame, names: list[str], n_seeds: int) -> list[tuple[Figure, list[dict]]]:
    """`cells` in another language: the report's formats (large VND sums in millions or billions)."""
    from welfare_sim.sim.report.i18n import fmt_diff, fmt_value, interval_text

    out = []
    for fig in FIGURES:
        rows = {r["scenario"]: r for r in table.filter(pl.col("figure") == fig.key).iter_rows(named=True)}
        row = []
        for k, name in enumerate(names):
            r = rows[name]
            cell = {"value": fmt_value(words, r["mean"], fig.unit, short=True)}
            if k > 0:
                cell["delta"] = fmt_diff(words, r["diff_mean"], fig.unit, short=True)
                interval = interval_text(words, r["diff_lo"], r["diff_hi"], fig.unit, short=True)
                cell["interval"] = f"[{interval}]" if n_seeds >= 2 else ""
                cell["zero"] = n_seeds >= 2 and not r["distinguishable"]
            row.append(cell)
        out.append((fig, row))
    return out


FIGURE_COLUMN = 30  # characters of the figure column; labels wrap


def markdown_table(table: pl.DataFrame, names: list[str], n_seeds: int) -> str:
    """The comparison as one Markdown table (a row per figure, a column per scenario), for notes
    and reports. Differences the seeds cannot tell from zero are marked ≈0."""
    head = ["figure", f"{names[0]} (base)", *names[1:]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for fig, row in cells(table, names, n_seeds):
        out = [fig.label, row[0]["value"]]
        for cell in row[1:]:
            delta = f"Δ {cell['delta']}"
            if n_seeds >= 2 and not cell["zero"]:
                delta = f"**{delta}**"  # the seeds tell it from zero
            text = f"{cell['value']}<br>{delta}"
            if cell["interval"]:
                text += f" {cell['interval']}"
            if cell["zero"]:
                text += " ≈0"
            out.append(text)
        lines.append("| " + " | ".join(out) + " |")
    note = (
        f"Δ: scenario minus base, paired seed by seed; [95 % t-interval over {n_seeds} seeds]; "
        "≈0: the seeds cannot tell this difference from zero; pp: percentage points."
        if n_seeds >= 2
        else "One seed: every difference is one draw, with no interval."
    )
    return "\n".join([*lines, "", note, ""])


# --------------------------------------------------------------------------- what each plan buys


def plot_cost_effectiveness(ce: pl.DataFrame, path: Path) -> None:
    """Effect against cost: per measure a panel, per strategy a point at (extra state cost, gain)
    with both 95 % intervals as bars; the line through the origin is no cost, no gain."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from welfare_sim.sim.experiments.effects import MEASURES

    fig, axes = plt.subplots(1, len(MEASURES), figsize=(5.2 * len(MEASURES), 4.6))
    colors = plt.get_cmap("tab10")
    names = ce["scenario"].unique(maintain_order=True).to_list()
    for ax, (measure, (label, _, _, unit)) in zip(np.atleast_1d(axes), MEASURES.items(), strict=True):
        part = ce.filter(pl.col("measure") == measure)
        for r in part.iter_rows(named=True):
            k = names.index(r["scenario"])
            x, y = r["state_cost_mean_vnd"] / 1e9, r["gain_mean"]

            def err(lo: float, hi: float, mid: float, scale: float = 1.0) -> list[list[float]] | None:
                if not (math.isfinite(lo) and math.isfinite(hi)):
                    return None
                return [[max(mid - lo / scale, 0.0)], [max(hi / scale - mid, 0.0)]]

            ax.errorbar(
                x,
                y,
                xerr=err(r["state_cost_lo_vnd"], r["state_cost_hi_vnd"], x, 1e9),
                yerr=err(r["gain_lo"], r["gain_hi"], y),
                fmt="o",
                color=colors(k % 10),
                capsize=3,
                label=r["scenario"],
            )
        ax.axhline(0, color="grey", lw=0.7)
        ax.axvline(0, color="grey", lw=0.7)
        ax.set_xlabel("extra cost to the state, bn VND")
        ax.set_ylabel(f"gain: {unit}")
        ax.set_title(label.replace("state cost per ", "per "), fontsize=10)
        ax.grid(alpha=0.3)
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncols=min(4, max(1, len(labels))), fontsize=8)
    fig.suptitle("What each strategy buys: gain against extra cost (mean over seeds, 95 % intervals)")
    fig.tight_layout(rect=(0, 0.06 + 0.03 * (len(labels) // 4), 1, 1))
    save_png(fig, path, 110)


def _ratio_text(r: dict[str, Any]) -> str:
    if r["verdict"] == "no_gain":
        return "no gain"
    if r["verdict"] == "dominant":
        return "gains, saves money"
    scale = vnd_scale(r["ratio_vnd"])
    text = _fmt(r["ratio_vnd"], "VND", scale=scale)
    if math.isfinite(r["ratio_lo_vnd"]) and math.isfinite(r["ratio_hi_vnd"]):
        text += f" [{_bound(r['ratio_lo_vnd'], 'VND', scale)}, {_bound(r['ratio_hi_vnd'], 'VND', scale)}]"
    elif r["n_seeds"] >= 2:
        text += " [unbounded]"
    return text


def decision_table_for_console(ce: pl.DataFrame, ranked: list[str], title: str):  # noqa: ANN201
    """The strategies side by side, best first on the planner's criterion: a row per strategy,
    its extra cost to the state and to beneficiaries, and its cost per unit of each gain."""
    from rich.table import Table

    from welfare_sim.sim.experiments.effects import MEASURES

    t = Table(title=title, show_header=True, header_style="bold", show_lines=True)
    t.add_column("#", justify="right")
    t.add_column("strategy", overflow="fold")
    t.add_column("extra state cost", justify="right")
    t.add_column("beneficiaries' cost", justify="right")
    for label, *_ in MEASURES.values():
        t.add_column(label.replace("state cost ", ""), justify="right")
    for k, name in enumerate(ranked, 1):
        rows = {r["measure"]: r for r in ce.filter(pl.col("scenario") == name).iter_rows(named=True)}
        first = next(iter(rows.values()))
        cost_scale = vnd_scale(first["state_cost_mean_vnd"])
        ben_scale = vnd_scale(first["beneficiary_cost_mean_vnd"])
        t.add_row(
            str(k),
            name,
            _fmt(first["state_cost_mean_vnd"], "VND", diff=True, scale=cost_scale),
            _fmt(first["beneficiary_cost_mean_vnd"], "VND", diff=True, scale=ben_scale),
            *(_ratio_text(rows[m]) for m in MEASURES),
        )
    return t


# the who-gains figures a terminal cell shows, one line each: (measure, kind of number, label key)
GAIN_LINES = (
    ("coverage", "share", "dec.g.coverage"),
    ("unpaid_share", "share", "dec.g.unpaid"),
    ("days_to_money", "num", "dec.g.days"),
    ("hours_per_month", "num", "dec.g.hours"),
    ("beneficiary_cost_vnd", "vnd", "dec.g.cost"),
)


def gain_cell(words: Any, r: dict[str, Any], n_seeds: int) -> str:
    """One group's change under one strategy, a line per figure: bold where the seeds tell it from
    zero, dim and ≈0 where they do not (with one seed: plain)."""
    from welfare_sim.sim.experiments.effects import _gain_col, prints_as_zero

    lines = []
    for measure, kind, label in GAIN_LINES:
        value = r[_gain_col(measure, "change")]
        if value is None or not math.isfinite(value):
            lines.append(f"{words.t(label)} –")
            continue
        if kind == "share":
            text = f"{words.signed(words.num(100 * value, 1), value)} {words.t('unit.pp_short')}"
        elif kind == "vnd" and words.code == "en":
            text = _fmt(value, "VND", diff=True, scale=vnd_scale(value))
        elif kind == "vnd":
            text = words.signed(words.vnd_short(value), value)
        else:
            text = words.signed(words.num(value, 2), value)
        lo, hi = r[_gain_col(measure, "lo")], r[_gain_col(measure, "hi")]
        bounded = lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi)
        line = f"{words.t(label)} {text}"
        # a change that prints as zero is not called one, whatever its interval
        if n_seeds >= 2 and bounded and (lo > 0 or hi < 0) and not prints_as_zero(text):
            line = f"[bold]{line}[/]"
        elif n_seeds >= 2:
            line = f"[dim]{line} ≈0[/]"
        lines.append(line)
    return "\n".join(lines)


def gains_table_for_console(gains: pl.DataFrame, names: list[str], n_seeds: int, lang: str = "en"):  # noqa: ANN201
    """Who gains and who loses, strategies side by side: a row per subgroup and programme, a column
    per strategy, each cell the group's change in coverage, unpaid share, days to money, hours and
    the beneficiaries' cost (districts and communes: the report and gains.parquet)."""
    from rich.table import Table

    from welfare_sim.sim.report.i18n import Lang

    words = Lang(lang)
    t = Table(
        title=words.t("dec.gains_terminal", seeds=n_seeds), show_header=True, header_style="bold", show_lines=True
    )
    t.add_column(words.t("dec.group"), max_width=FIGURE_COLUMN)
    for name in names[1:]:
        t.add_column(name, justify="right", overflow="fold")
    part = gains.filter(pl.col("group_level").is_in(["subgroup", "programme"]))
    keys = part.select("group_level", "group", "group_name").unique(maintain_order=True)
    for level, group, group_name in keys.iter_rows():
        cells_ = []
        for name in names[1:]:
            row = part.filter(
                (pl.col("scenario") == name) & (pl.col("group_level") == level) & (pl.col("group") == group)
            )
            cells_.append(gain_cell(words, row.row(0, named=True), n_seeds) if row.height else "–")
        label = words.name("group" if level == "subgroup" else "programme", group_name)
        t.add_row(f"{words.t('dec.level.' + level)}: {label}", *cells_)
    return t
