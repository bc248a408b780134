"""The Python API: load a scenario, change it in code, run it, compare strategies, sweep.

Made for notebooks (the habits of Starsim/Covasim, Mesa and PolicyEngine)::

    import welfare_sim as ws

    base = ws.load("scenarios/hoa_binh.yaml", set={"months": 6})
    more_atms = base.with_changes({"geography.districts.0.atms": 50})
    result = ws.Sim(base, seed=1).run()
    result.monthly            # polars frames: .monthly, .points, .ledger, ... or .tables["monthly"]
    result.summary            # the headline figures (summary.json)
    result.plot("account_coverage")
    result.save("outputs/hb")  # the run folder, written by the CLI's writer
    cmp = ws.compare(base, [more_atms], seeds=5)
    cmp.table

Everything here calls the library functions the CLI calls, so the API and the CLI give the same
numbers for the same scenario and seed. Heavy modules (polars, the engine, matplotlib, scipy) are
imported inside the calls that need them, so `import welfare_sim` stays quick.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from welfare_sim.sim.scenario import Scenario as ScenarioModel
from welfare_sim.sim.scenario import (
    ScenarioError,
    apply_overrides,
    dump_scenario,
    read_yaml,
    resolve_extends,
    validate_scenario,
)

if TYPE_CHECKING:
    import polars as pl
    from matplotlib.figure import Figure

    from welfare_sim.sim.experiments.sweep import SweepOutcome
    from welfare_sim.sim.results import RunResult

__all__ = [
    "Comparison",
    "MultiSim",
    "Result",
    "Scenario",
    "ScenarioError",
    "Sim",
    "SweepResult",
    "compare",
    "load",
    "run",
    "sweep",
]

TABLES = ("monthly", "subgroups", "points", "waits", "ledger", "funnel", "communes")
# per-payment rows for millions of people run to gigabytes; the CLI's `run` uses the same limit
PAYMENTS_AUTO_MAX = 1_000_000  # simulated beneficiaries


# --------------------------------------------------------------------------- scenarios


def _override_text(key: str, value: Any) -> str:
    """`key=value` as `--set` takes it. The value is written so that the YAML reading of
    `--set` gives it back unchanged: text as is when it reads back as itself (so the manifest
    shows `start=2023-01`, as the CLI's does), anything else as JSON, which YAML reads exactly."""
    if isinstance(value, str):
        try:
            if yaml.safe_load(value) == value:
                return f"{key}={value}"
        except yaml.YAMLError:
            pass
    return f"{key}={json.dumps(value, ensure_ascii=False)}"


def _overrides(changes: Mapping[str, Any] | Iterable[str] | None) -> list[str]:
    if changes is None:
        return []
    if isinstance(changes, str):
        return [changes]
    if isinstance(changes, Mapping):
        return [_override_text(str(k), v) for k, v in changes.items()]
    return [str(item) for item in changes]


class Scenario:
    """A validated scenario and where it came from.

    `model` is the validated scenario (`welfare_sim.sim.scenario.Scenario`, a pydantic model);
    `data` the plain data it was validated from (`extends` resolved, changes applied), which
    `with_changes` edits; `source` the file it was read from; `overrides` the changes made since,
    as `key.path=value` lines (they go to the run folder's manifest, as `--set` does).
    """

    def __init__(
        self, model: ScenarioModel, data: dict[str, Any], source: str = "<scenario>", overrides: list[str] | None = None
    ) -> None:
        self.model = model
        self.data = data
        self.source = source
        self.overrides = list(overrides or [])

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
        """Validate plain data (a scenario as a dict, no `extends`). Raises ScenarioError."""
        plain = dict(data)
        return cls(validate_scenario(plain, source), plain, source)

    @classmethod
    def from_model(cls, model: ScenarioModel, source: str = "<scenario>") -> Scenario:
        return cls(model, model.model_dump(mode="json"), source)

    def with_changes(self, changes: Mapping[str, Any] | Iterable[str], name: str | None = None) -> Scenario:
        """A copy with values changed at key paths, validated again (raises ScenarioError with the
        CLI's messages). Keys as `--set` takes them: `{"geography.districts.0.atms": 50}`; or a
        list of `key.path=value` lines. `name` renames the copy (handy in a comparison)."""
        lines = _overrides(changes)
        if name is not None:
            lines.append(_override_text("name", name))
        data = apply_overrides(self.data, lines, source="--set")
        return Scenario(validate_scenario(data, self.source), data, self.source, [*self.overrides, *lines])

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def months(self) -> int:
        return self.model.months

    @property
    def seed(self) -> int:
        return self.model.seed

    def to_yaml(self) -> str:
        """The resolved scenario as YAML (what the run folder's scenario.resolved.yaml holds)."""
        return dump_scenario(self.model)

    def digest(self) -> str:
        return self.model.digest()

    def __getattr__(self, name: str) -> Any:
        # the scenario's own blocks (geography, population, ...) read through
        if name in ScenarioModel.model_fields:
            return getattr(self.model, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        geo = self.model.geography
        changed = f", {len(self.overrides)} change(s)" if self.overrides else ""
        return (
            f"<Scenario {self.name!r} from {self.source}{changed}: {geo.province}, {len(geo.groups)} districts, "
            f"{geo.n_beneficiaries:,} beneficiaries, {self.model.start} for {self.months} months>"
        )


ScenarioLike = Scenario | ScenarioModel | str | Path


def load(path: str | Path, set: Mapping[str, Any] | Iterable[str] | None = None) -> Scenario:
    """Read a scenario file, resolve `extends`, apply `set` and validate.

    `set` is a mapping of key paths to values (`{"months": 6, "geography.districts.0.atms": 50}`)
    or a list of `key.path=value` lines, exactly as `welfare-sim run --set` takes them.
    Raises ScenarioError; its message is the CLI's message (one line per problem)."""
    path = Path(path)
    lines = _overrides(set)
    data = resolve_extends(path.resolve(), read_yaml(path))
    if lines:
        data = apply_overrides(data, lines)
    return Scenario(validate_scenario(data, str(path)), data, str(path), lines)


def as_scenario(scenario: ScenarioLike) -> Scenario:
    """A Scenario from a Scenario, a validated model, or a file path."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, ScenarioModel):
        return Scenario.from_model(scenario)
    if isinstance(scenario, str | Path):
        return load(scenario)
    raise TypeError(
        f"expected a scenario (welfare_sim.load(...)) or a scenario file path, got {type(scenario).__name__}"
    )


# --------------------------------------------------------------------------- folders


def _check_replaceable(path: Path, marker: str, what: str) -> None:
    """Saving replaces an older folder of the same kind as a whole, never anything else."""
    if path.exists() and not (path.is_dir() and (path / marker).is_file()):
        raise FileExistsError(
            f"{path}: exists and is not a {what} (no {marker}); it is left as it is; choose another path"
        )


# --------------------------------------------------------------------------- a run


@dataclass(frozen=True)
class SeriesSpec:
    label: str
    unit: str  # "share" (a fraction from 0 to 1), "count", "days", "min" or "VND"


# headline figures by month, for Result.timeseries and Result.plot (province totals)
SERIES: dict[str, SeriesSpec] = {
    "account_coverage": SeriesSpec("beneficiaries with an account", "share"),
    "cashless_share": SeriesSpec("payments made into accounts", "share"),
    "unpaid_share": SeriesSpec("beneficiaries unpaid in the month", "share"),
    "beneficiaries": SeriesSpec("beneficiaries", "count"),
    "with_account": SeriesSpec("beneficiaries with an account", "count"),
    "unpaid": SeriesSpec("beneficiaries unpaid in the month", "count"),
    "failed_credits": SeriesSpec("failed credits (returned)", "count"),
    "days_to_money_mean": SeriesSpec("days from run start to money in hand, mean", "days"),
    "days_to_money_p95": SeriesSpec("days from run start to money in hand, p95", "days"),
    "queue_wait_p95_min": SeriesSpec("queue wait at any point, p95 of visits", "min"),
    "state_cost_vnd": SeriesSpec("cost to the state (fees, staff, cash transport, strategies)", "VND"),
    "beneficiary_cost_vnd": SeriesSpec("cost to beneficiaries (travel, time, fees)", "VND"),
}
SERIES_ALIASES = {"coverage": "account_coverage", "cashless": "cashless_share"}


def _series_name(name: str, allowed: Sequence[str]) -> str:
    key = SERIES_ALIASES.get(name, name)
    if key not in allowed:
        raise ValueError(f"plot {name!r}: unknown figure; allowed: {', '.join(allowed)}")
    return key


def _month_axis(ax: Any, periods: list[Any]) -> None:
    """Label the month axis "2023-01" (periods are dates: the first day of each month)."""
    labels = [p.strftime("%Y-%m") if hasattr(p, "strftime") else str(p) for p in periods]
    step = max(1, -(-len(labels) // 8))
    ticks = list(range(0, len(labels), step))
    ax.set_xticks(ticks, [labels[i] for i in ticks])
    ax.set_xlabel("month")


def _value_axis(ax: Any, unit: str) -> None:
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    if unit == "share":
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    elif unit in ("count", "VND"):
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.set_ylabel({"share": "%", "count": "people", "VND": "VND"}.get(unit, unit))
    ax.grid(True, color="#dddddd", linewidth=0.7)
    ax.set_axisbelow(True)


def _write_run(scenario: Scenario, seed: int, months: int, path: Path, payments: bool | None) -> RunResult:
    """Run and write the run folder with the CLI's writer, replacing only an older run folder."""
    from welfare_sim.sim.run import write_run

    _check_replaceable(path, "manifest.json", "run folder")
    if payments is None:
        geo = scenario.model.geography
        payments = geo.n_beneficiaries * geo.sample_fraction <= PAYMENTS_AUTO_MAX
    result, _timings = write_run(
        scenario.model,
        path,
        source=scenario.source,
        seed=seed,
        months=months,
        overrides=scenario.overrides,
        payments=payments,
    )
    return result


class Result:
    """One run: its tables as polars frames, its summary, plots, the report and the run folder."""

    def __init__(self, scenario: Scenario, seed: int, months: int, run: RunResult, folder: Path | None = None) -> None:
        self.scenario = scenario
        self.seed = seed
        self.months = months
        self.run_result = run
        self.folder = folder  # the run folder, once written
        self.summary: dict[str, Any] = {"scenario": scenario.name, "seed": seed, **run.summary}

    @property
    def tables(self) -> dict[str, pl.DataFrame]:
        return {name: getattr(self.run_result, name) for name in TABLES}

    monthly = property(lambda self: self.run_result.monthly, doc="month × district × commune × category")
    subgroups = property(lambda self: self.run_result.subgroups, doc="month × subgroup")
    points = property(lambda self: self.run_result.points, doc="month × payment point")
    waits = property(lambda self: self.run_result.waits, doc="month × day × kind of point")
    ledger = property(lambda self: self.run_result.ledger, doc="month: the money, to the dong")
    funnel = property(lambda self: self.run_result.funnel, doc="month: the account-opening funnel")
    communes = property(
        lambda self: self.run_result.communes, doc="month × commune: coverage, unpaid, days, waits, cost per payment"
    )

    @property
    def timeseries(self) -> pl.DataFrame:
        """The headline figures by month for the whole province: a row per month, a column per
        name in SERIES (shares are fractions from 0 to 1)."""
        import numpy as np
        import polars as pl

        from welfare_sim.sim.recorder import WAIT_BIN_MIN
        from welfare_sim.sim.results import coverage_by_month, hist_quantile, state_cost_by_month

        r = self.run_result
        base = coverage_by_month(r).select(
            "month", "period", "beneficiaries", "with_account", "unpaid", "account_coverage", "cashless_share"
        )
        monthly = r.monthly.group_by("month").agg(
            pl.col("failed_credits").sum(),
            (pl.col("state_fees_vnd").sum()).alias("state_fees"),
            (pl.col("travel_cost_vnd") + pl.col("time_cost_vnd") + pl.col("beneficiary_fees_vnd"))
            .sum()
            .alias("beneficiary_cost_vnd"),
        )
        state = state_cost_by_month(r)  # the run's own state cost (strategy spending included)
        days = r.days_hist
        bins = np.arange(days.shape[1])
        counted = days.sum(axis=1)
        waits = r.wait_hist.sum(axis=1)
        from_hists = pl.DataFrame(
            {
                "month": base["month"],
                "days_to_money_mean": [
                    float((bins * row).sum() / n) if n else None for row, n in zip(days, counted, strict=True)
                ],
                "days_to_money_p95": [hist_quantile(row, 0.95) for row in days],
                "queue_wait_p95_min": [hist_quantile(row, 0.95, WAIT_BIN_MIN) for row in waits],
            },
            schema_overrides={k: pl.Float64 for k in ("days_to_money_mean", "days_to_money_p95", "queue_wait_p95_min")},
        )
        out = (
            base.join(monthly, on="month", how="left")
            .join(state, on="month", how="left")
            .join(from_hists, on="month", how="left")
            .with_columns(
                (pl.col("unpaid") / pl.col("beneficiaries")).alias("unpaid_share"),
            )
            .sort("month")
        )
        return out.select("month", "period", *SERIES)

    def plot(self, figure: str = "account_coverage") -> Figure:
        """A headline figure over time (a matplotlib Figure). `figure` is one of SERIES:
        account_coverage, cashless_share, unpaid_share, beneficiaries, with_account, unpaid,
        failed_credits, days_to_money_mean, days_to_money_p95, queue_wait_p95_min,
        state_cost_vnd, beneficiary_cost_vnd."""
        from matplotlib.figure import Figure

        key = _series_name(figure, list(SERIES))
        spec = SERIES[key]
        series = self.timeseries
        fig = Figure(figsize=(8, 4.2), layout="constrained")
        ax = fig.add_subplot()
        ax.plot(range(series.height), series[key].to_list(), marker="o", linewidth=2, label=self.scenario.name)
        _month_axis(ax, series["period"].to_list())
        _value_axis(ax, spec.unit)
        if spec.unit == "share":
            ax.set_ylim(0, 1)
        ax.set_title(f"{spec.label}: {self.scenario.name}, seed {self.seed}", loc="left")
        return fig

    def save(self, path: str | Path, payments: bool | None = None) -> Path:
        """Write the run folder at `path` with the CLI's writer (`welfare_sim.sim.run.write_run`): the
        same files, byte for byte, as `welfare-sim run ... --seed SEED --out PATH`. The run is
        simulated again for it (same scenario and seed, so the same numbers). An older run folder
        at `path` is replaced as a whole; any other file or folder there is left alone (error).
        `payments`: write payments.parquet (default: up to PAYMENTS_AUTO_MAX simulated people)."""
        path = Path(path)
        again = _write_run(self.scenario, self.seed, self.months, path, payments)
        if again.summary != self.run_result.summary:  # the model is deterministic: never expected
            raise RuntimeError(f"the run written to {path} differs from this one; report this as a bug")
        self.folder = path
        return path

    def report(self, path: str | Path | None = None, lang: str = "en") -> Path:
        """Write the HTML report (and its workbook) into the run folder `path` (saved there first if
        it is not this run's folder); return the HTML file's path. Without `path`: the folder the run
        was last saved to."""
        return _report_into(self, path, lang, "result.report('outputs/my-run')")

    def __repr__(self) -> str:
        cov = self.summary["account_coverage"]
        return (
            f"<Result {self.scenario.name!r} seed {self.seed}, {self.months} months: account coverage "
            f"{cov['first_month']} → {cov['last_month']}>"
        )


class Sim:
    """One simulation of a scenario: `sim = Sim(sc, seed=1); sim.run(); sim.plot()`.

    `run()` returns the Result and keeps it as `sim.result`; `sim.summary`, `sim.plot()` and
    `sim.save()` are the result's."""

    def __init__(self, scenario: ScenarioLike, seed: int | None = None, months: int | None = None) -> None:
        self.scenario = as_scenario(scenario)
        self.seed = self.scenario.seed if seed is None else int(seed)
        self.months = self.scenario.months if months is None else int(months)
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"seed {self.seed}: must be ≥ 0 and < 2**63")
        if not 1 <= self.months <= 240:
            raise ValueError(f"months {self.months}: must be from 1 to 240")
        self.result: Result | None = None

    def run(self, out: str | Path | None = None, payments: bool | None = None) -> Result:
        """Simulate. With `out`, the run folder is written there at the same time (as by
        `welfare-sim run --out`), which saves running again for `save()`."""
        if out is None:
            from welfare_sim.sim.run import run_scenario

            run_result = run_scenario(self.scenario.model, self.seed, self.months)
            self.result = Result(self.scenario, self.seed, self.months, run_result)
            return self.result
        folder = Path(out)
        run_result = _write_run(self.scenario, self.seed, self.months, folder, payments)
        self.result = Result(self.scenario, self.seed, self.months, run_result, folder)
        return self.result

    def _done(self) -> Result:
        if self.result is None:
            raise RuntimeError("the simulation has not run yet; call sim.run() first")
        return self.result

    @property
    def summary(self) -> dict[str, Any]:
        return self._done().summary

    def plot(self, figure: str = "account_coverage") -> Figure:
        return self._done().plot(figure)

    def save(self, path: str | Path, payments: bool | None = None) -> Path:
        return self._done().save(path, payments)

    def __repr__(self) -> str:
        state = "run" if self.result is not None else "not run"
        return f"<Sim {self.scenario.name!r} seed {self.seed}, {self.months} months ({state})>"


def run(
    scenario: ScenarioLike, seed: int | None = None, months: int | None = None, out: str | Path | None = None
) -> Result:
    """`Sim(scenario, seed, months).run(out)`."""
    return Sim(scenario, seed, months).run(out)


class MultiSim:
    """One scenario over several seeds (Starsim's MultiSim): `ms = MultiSim(sc, seeds=5).run()`.

    `results`: a Result per seed; `summary`: a row per seed, the headline figures as columns
    (named by their path in summary.json, as in a sweep's rows); `timeseries`: the Results'
    timeseries with a `seed` column; `plot()`: the mean over seeds with a band from the lowest
    to the highest seed."""

    def __init__(self, scenario: ScenarioLike, seeds: int | Sequence[int] = 5, months: int | None = None) -> None:
        self.scenario = as_scenario(scenario)
        self.seeds = _seed_list(seeds, self.scenario.seed)
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds {self.seeds}: give one or more distinct seeds")
        self.sims = [Sim(self.scenario, seed, months) for seed in self.seeds]
        self.results: list[Result] = []

    def run(self) -> MultiSim:
        self.results = [sim.run() for sim in self.sims]
        return self

    def _done(self) -> list[Result]:
        if not self.results:
            raise RuntimeError("the simulations have not run yet; call multisim.run() first")
        return self.results

    @property
    def summary(self) -> pl.DataFrame:
        import polars as pl

        from welfare_sim.sim.experiments.sweep import flatten_summary

        return pl.DataFrame([flatten_summary(r.summary) for r in self._done()])

    @property
    def timeseries(self) -> pl.DataFrame:
        import polars as pl

        return pl.concat([r.timeseries.select(pl.lit(r.seed, pl.Int64).alias("seed"), pl.all()) for r in self._done()])

    def plot(self, figure: str = "account_coverage") -> Figure:
        """A headline figure over time (one of SERIES): the mean over seeds and its range."""
        import polars as pl
        from matplotlib.figure import Figure

        key = _series_name(figure, list(SERIES))
        spec = SERIES[key]
        stats = (
            self.timeseries.group_by("month", "period")
            .agg(pl.col(key).mean().alias("mean"), pl.col(key).min().alias("lo"), pl.col(key).max().alias("hi"))
            .sort("month")
        )
        fig = Figure(figsize=(8, 4.2), layout="constrained")
        ax = fig.add_subplot()
        x = range(stats.height)
        (line,) = ax.plot(x, stats["mean"].to_list(), linewidth=2, label=f"mean of {len(self.seeds)} seeds")
        ax.fill_between(
            x,
            stats["lo"].to_list(),
            stats["hi"].to_list(),
            color=line.get_color(),
            alpha=0.2,
            label="lowest to highest seed",
        )
        _month_axis(ax, stats["period"].to_list())
        _value_axis(ax, spec.unit)
        if spec.unit == "share":
            ax.set_ylim(0, 1)
        ax.legend(frameon=False, fontsize=8)
        ax.set_title(f"{spec.label}: {self.scenario.name}", loc="left")
        return fig

    def __repr__(self) -> str:
        state = "run" if self.results else "not run"
        return f"<MultiSim {self.scenario.name!r} seeds {self.seeds} ({state})>"


# --------------------------------------------------------------------------- a comparison


class Comparison:
    """A base and strategies run over the same seeds (common random numbers).

    `table`: per scenario and figure, the mean over seeds and the paired difference from the base
    with its 95 % interval (`welfare_sim.sim.experiments.compare.comparison_table`); `runs`: per
    scenario and seed, the figures; `timeseries`: coverage and cashless share by month; `strategies`:
    the strategies' counts and costs. Shares are fractions from 0 to 1."""

    def __init__(
        self,
        scenarios: list[Scenario],
        names: list[str],
        seeds: list[int],
        months: int,
        results: list[dict[str, Any]],
    ) -> None:
        from welfare_sim.sim.experiments.compare import (
            comparison_table,
            runs_frame,
            strategies_frame,
            timeseries_frame,
        )

        self.scenarios = scenarios
        self.names = names
        self.seeds = seeds
        self.months = months
        self.results = results  # per (scenario, seed), as `compare.run_all` returns them
        self.runs = runs_frame(names, results)
        self.table = comparison_table(self.runs, names, seeds)
        self.timeseries = timeseries_frame(names, results)
        self.strategies = strategies_frame(names, results)
        self.folder: Path | None = None
        from welfare_sim.sim.experiments import effects

        self.counts = effects.counts_frame(names, results)
        # per strategy and measure: extra state cost, gain, cost per unit of gain (Fieller's interval)
        self.cost_effectiveness = effects.cost_effectiveness(self.counts, names)
        # per strategy and district, commune, subgroup, programme: who gains and who loses
        self.gains = effects.gains_table(effects.groups_frame(names, results), names)
        # strategies that start after the run ends or reach nobody
        self.warnings = effects.strategy_warnings(
            [sc.model for sc in scenarios], names, months, self.strategies
        )

    def ranking(self, by: str = "cost_per_account_holder") -> pl.DataFrame:
        """The strategies best first on `by` (`welfare_sim.sim.experiments.effects.RANK_CHOICES`)."""
        from welfare_sim.sim.experiments.effects import ranking

        return ranking(self.cost_effectiveness, by)

    def recommendation(self, by: str = "cost_per_account_holder", budget: float | None = None) -> dict[str, Any] | None:
        """The best plan on `by` (within `budget`, VND, when given), as the report opens with it."""
        from welfare_sim.sim.experiments.effects import recommend

        return recommend(self.cost_effectiveness, self.gains, self.counts, self.names, by, budget)

    @property
    def base(self) -> str:
        return self.names[0]

    def markdown(self) -> str:
        """The table as the comparison folder's table.md has it (a row per figure)."""
        from welfare_sim.sim.experiments.compare import markdown_table

        return markdown_table(self.table, self.names, len(self.seeds))

    def plot(self, figure: str = "account_coverage") -> Figure:
        """account_coverage or cashless_share: by month, a line per scenario (mean over seeds) with
        a band from the lowest to the highest seed. Any other figure of the table (see
        `welfare_sim.sim.experiments.compare.FIGURE_KEYS`): each strategy's difference from the
        base with its 95 % interval."""
        import polars as pl
        from matplotlib.figure import Figure

        from welfare_sim.sim.figures import FIGURE_KEYS, FIGURES

        over_time = ("account_coverage", "cashless_share")
        key = _series_name(figure, [*over_time, *FIGURE_KEYS])
        fig = Figure(figsize=(8, 4.2), layout="constrained")
        ax = fig.add_subplot()
        if key in over_time:
            stats = (
                self.timeseries.group_by("scenario", "month", "period")
                .agg(pl.col(key).mean().alias("mean"), pl.col(key).min().alias("lo"), pl.col(key).max().alias("hi"))
                .sort("month")
            )
            periods = stats.select("month", "period").unique().sort("month")["period"].to_list()
            for name in self.names:
                rows = stats.filter(pl.col("scenario") == name)
                x = range(rows.height)
                label = f"{name} (base)" if name == self.base else name
                (line,) = ax.plot(x, rows["mean"].to_list(), linewidth=2.4 if name == self.base else 1.6, label=label)
                ax.fill_between(x, rows["lo"].to_list(), rows["hi"].to_list(), color=line.get_color(), alpha=0.15)
            _month_axis(ax, periods)
            _value_axis(ax, "share")
            ax.set_ylim(0, 1)
            ax.legend(frameon=False, fontsize=8)
            ax.set_title(f"{SERIES[key].label}: mean and range over {len(self.seeds)} seed(s)", loc="left")
            return fig
        fig_spec = next(f for f in FIGURES if f.key == key)
        rows = self.table.filter((pl.col("figure") == key) & (pl.col("scenario") != self.base))
        scale = 100.0 if fig_spec.unit == "%" else 1.0
        y = list(range(rows.height))
        mean = [v * scale for v in rows["diff_mean"].to_list()]
        lo = [v * scale for v in rows["diff_lo"].to_list()]
        hi = [v * scale for v in rows["diff_hi"].to_list()]
        err = [[m - low for m, low in zip(mean, lo, strict=True)], [high - m for m, high in zip(mean, hi, strict=True)]]
        ax.errorbar(mean, y, xerr=err, fmt="o", capsize=4)
        ax.axvline(0, color="#555555", linewidth=1)
        ax.set_yticks(y, rows["scenario"].to_list())
        ax.invert_yaxis()
        unit = "percentage points" if fig_spec.unit == "%" else fig_spec.unit
        ax.set_xlabel(f"difference from {self.base} ({unit}); bars: 95 % interval over {len(self.seeds)} seeds")
        ax.grid(True, axis="x", color="#dddddd", linewidth=0.7)
        ax.set_title(fig_spec.label, loc="left")
        return fig

    def save(self, path: str | Path) -> Path:
        """Write the comparison folder (`compare.write_comparison`, as `welfare-sim compare --out`).
        An older comparison folder at `path` is replaced whole; anything else there is left alone."""
        from welfare_sim.sim.experiments.compare import write_comparison

        path = Path(path)
        _check_replaceable(path, "comparison.json", "comparison folder")
        sources = [sc.source for sc in self.scenarios]
        start = self.scenarios[0].model.start
        write_comparison(
            path, self.names, sources, self.seeds, self.results, {"months": self.months, "start": start},
            warnings=self.warnings,
        )
        self.folder = path
        return path

    def report(self, path: str | Path | None = None, lang: str = "en") -> Path:
        """Write the comparison's HTML report into the folder `path` (saved there first if needed)."""
        return _report_into(self, path, lang, "cmp.report('outputs/cmp')")

    def __repr__(self) -> str:
        return f"<Comparison base {self.base!r} vs {self.names[1:]}, seeds {self.seeds}, {self.months} months>"


def compare(
    base: ScenarioLike,
    strategies: Sequence[ScenarioLike],
    seeds: int | Sequence[int] = 5,
    first_seed: int | None = None,
    months: int | None = None,
    workers: int = 1,
) -> Comparison:
    """Run the base and each strategy over the same seeds (`seeds` of them from `first_seed`,
    default the base's seed; or a list of seeds) and compare them, as `welfare-sim compare`.
    `workers` > 1 runs in spawned processes (the same numbers). Raises ScenarioError if the
    scenarios do not cover the same months."""
    from welfare_sim.sim.experiments.compare import run_all, unique_names

    scenarios = [as_scenario(base), *(as_scenario(s) for s in strategies)]
    ref = scenarios[0]
    problems = [
        f"{sc.source}: covers {sc.model.start} for {sc.months} months but the base {ref.source} covers "
        f"{ref.model.start} for {ref.months}; give them the same start and months (or pass months=)"
        for sc in scenarios[1:]
        if sc.model.start != ref.model.start or (months is None and sc.months != ref.months)
    ]
    if problems:
        raise ScenarioError(problems)
    if isinstance(seeds, int):
        start = ref.seed if first_seed is None else first_seed
        seed_list = [start + k for k in range(seeds)]
    else:
        seed_list = [int(s) for s in seeds]
    if not seed_list or len(set(seed_list)) != len(seed_list) or min(seed_list) < 0 or max(seed_list) >= 2**63:
        raise ValueError(f"seeds {seed_list}: give one or more distinct seeds from 0 to 2**63 - 1")
    models = [sc.model for sc in scenarios]
    sources = [sc.source for sc in scenarios]
    results = run_all(models, sources, seed_list, months, workers)
    return Comparison(scenarios, unique_names(models, sources), seed_list, months or ref.months, results)


# --------------------------------------------------------------------------- a sweep


@dataclass
class SweepResult:
    """The result rows of a sweep (one per point and seed: its parameters and headline figures)."""

    table: pl.DataFrame
    outcome: SweepOutcome
    out: Path | None  # the sweep folder; None when it was a temporary one
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts, as Mesa's batch_run hands them back (for `pandas.DataFrame(...)`)."""
        return self.table.to_dicts()

    @property
    def ok(self) -> bool:
        return not self.failures


def sweep(
    source: ScenarioLike,
    grid: Mapping[str, Sequence[Any]] | None = None,
    design: Mapping[str, Any] | None = None,
    seeds: int | Sequence[int] | None = None,
    months: int | None = None,
    out: str | Path | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
) -> SweepResult:
    """Run a parameter sweep and return its rows.

    Either a sweep file (`sweep("scenarios/sweeps/x.yaml")`, as `welfare-sim sweep`; its own
    seeds, months and out unless given here), or a base scenario with a `grid` (key path: list of
    values; every combination runs) or a `design` (as a sweep file's `design:` block) and `seeds`
    (a number of seeds from the scenario's, or a list; default 1).
    Results go to the sweep folder `out` (resumable, as the CLI's); without `out`, a sweep of a
    scenario runs in a temporary folder that is removed afterwards. `workers` > 1: a process
    pool; `scheduler`: the address of a Dask scheduler."""
    from welfare_sim.sim.experiments import sweep as sw

    if isinstance(source, str | Path) and Path(source).suffix in (".yaml", ".yml") and grid is None and design is None:
        spec = sw.load_sweep(source, Path(out) if out is not None else None)
        spec = _resweep(spec, seeds, months)
        return _run_sweep(spec, workers, scheduler, temporary=False)
    if (grid is None) == (design is None):
        raise ValueError("sweep(): give a sweep file, or a scenario with exactly one of grid= or design=")
    base = as_scenario(source)
    parameters = {"grid": dict(grid)} if grid is not None else {"design": dict(design or {})}
    spec = _sweep_in_code(base, parameters, 1 if seeds is None else seeds, months, out)
    return _run_sweep(spec, workers, scheduler, temporary=out is None)


def _resweep(spec: Any, seeds: int | Sequence[int] | None, months: int | None) -> Any:
    import dataclasses

    changes: dict[str, Any] = {}
    if seeds is not None:
        changes["seeds"] = _seed_list(seeds, spec.seeds[0])
    if months is not None:
        changes["months"] = months
    return dataclasses.replace(spec, **changes) if changes else spec


def _seed_list(seeds: int | Sequence[int], first: int) -> list[int]:
    return [first + k for k in range(seeds)] if isinstance(seeds, int) else [int(s) for s in seeds]


def _sweep_in_code(
    base: Scenario, parameters: dict[str, Any], seeds: int | Sequence[int], months: int | None, out: str | Path | None
) -> Any:
    """A `Sweep` as `load_sweep` makes from a file, from a scenario and parameters given in code."""
    from pydantic import ValidationError

    from welfare_sim.sim.experiments import sweep as sw
    from welfare_sim.sim.scenario import format_validation_error

    where = "sweep(grid=...)" if "grid" in parameters else "sweep(design=...)"
    try:
        params = sw.Parameters.model_validate(parameters)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(where, exc, sw.Parameters)) from None
    problems = []
    for p in params.paths:
        if p.split(".")[0] in sw._NOT_SWEEPABLE:
            problems.append(f"{where} › {p}: cannot be swept; use seeds= and months=, or vary a value of the model")
            continue
        try:
            apply_overrides(base.data, [f"{p}=0"], source=where)
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    values = sw._points(params)
    if params.grid is not None:
        dtypes = {p: sw._dtype_of(v) for p, v in params.grid.items()}
    else:
        assert params.design is not None
        dtypes = {p: "Int64" if p in params.design.integer else "Float64" for p in params.design.ranges}
    seed_list = _seed_list(seeds, base.seed)
    if not seed_list or len(set(seed_list)) != len(seed_list) or min(seed_list) < 0:
        raise ValueError(f"seeds {seed_list}: give one or more distinct seeds ≥ 0")
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="welfare-sim-sweep-")) / "sweep"
    return sw.Sweep(
        source=Path(base.source),
        name=base.name,
        base_file=Path(base.source),
        base=base.data,
        base_sha256=base.digest(),
        months=months or base.months,
        seeds=seed_list,
        monthly=False,
        out=folder,
        dtypes=dtypes,
        design=[sw.Point(sw.point_id(v), v) for v in values],
        spec=params.model_dump(mode="json", exclude_none=True),
    )


def _run_sweep(spec: Any, workers: int | None, scheduler: str | None, temporary: bool) -> SweepResult:
    from welfare_sim.sim.experiments import sweep as sw

    try:
        outcome = sw.run_sweep(spec, workers=workers, scheduler=scheduler)
        table = sw.read_results(spec.out)
    finally:
        if temporary:
            shutil.rmtree(spec.out.parent, ignore_errors=True)  # the temporary folder made for it
    if table.height:
        import polars as pl

        # rows in the order of the design, not of the point ids' hashes
        order = {p.id: i for i, p in enumerate(spec.points)}
        table = table.sort(pl.col("point").replace_strict(order, return_dtype=pl.Int64), "seed")
    return SweepResult(table, outcome, None if temporary else spec.out, list(outcome.failures))


def _report_into(owner: Any, path: str | Path | None, lang: str, example: str) -> Path:
    """Write the report of a run or comparison (`owner`, with `.folder` and `.save`) into its folder
    `path`, saving it there first when it is not the folder last saved to; return the HTML path."""
    from welfare_sim.sim.report import ReportError, write_report

    if path is None:
        if owner.folder is None:
            raise ValueError(f"report(): give the folder to write, e.g. {example}")
        folder = owner.folder
    else:
        folder = Path(path)
        if owner.folder is None or folder.resolve() != owner.folder.resolve():
            owner.save(folder)
    try:
        return write_report(folder, lang)
    except ReportError as exc:
        raise ValueError("\n".join(exc.problems)) from None
