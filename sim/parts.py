"""Run a scenario: one province in line, or many provinces as independent parts (docs/parallel.md).

A many-province scenario (`geography.provinces`) is run province by province: each is its own
Province (sim/engine.py), with random streams namespaced by its official code, so its draws do not
depend on which other provinces run or on how the country is split. Serially, and on a Dask cluster,
a *part* is a run of consecutive provinces (in code order) given to one worker; in a local process
pool each province is a task of its own, the largest first, so the workers stay busy to the end.
Workers receive plain data (the province's scenario as JSON-ready dicts) and return plain tables
(polars frames, numpy histograms). Each province's tables are merged as they arrive, in whatever
order (`CountryMerger`): shifted and labelled at once, histograms summed at once, and put together
at the end in province-code order: district, commune and point numbers shifted to be unique in the
country, counts per month summed. The summary is computed from the merged tables, so it is the same
whatever the split and the order.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from welfare_sim.models.demography import ID_STRIDE
from welfare_sim.models.payment_run import MonthRecord, Province
from welfare_sim.sim.engine import RunTimings, simulate
from welfare_sim.sim.memory import release_freed_memory
from welfare_sim.sim.recorder import Recorder
from welfare_sim.sim.results import RunResult, collect, headline
from welfare_sim.sim.scenario import Scenario, validate_scenario


def run_one(
    scenario: Scenario,
    seed: int | None = None,
    months: int | None = None,
    payments_dir: Path | None = None,
    on_month: Callable[[int], None] | None = None,
    timings: RunTimings | None = None,
    fine_grained: bool = False,
    summary: bool = True,
    record_in_thread: bool = False,
) -> RunResult:
    """Simulate one province and collect its tables (and its headline, with `summary`); per-beneficiary
    rows go to `payments_dir` if given.

    Each month's record is summarised as it closes: in line, or, with `record_in_thread` (a run
    that has a core to spare), in a second thread while the next month is simulated (numpy and
    polars release the GIL, so the two overlap). The thread costs CPU (its GIL hand-offs: about a
    third more CPU at a 5 % national sample, docs/performance.md), so where every core already runs
    a simulation (a country's provinces in a pool, a fit's seeds) recording is in line. One thread
    takes the records in month order, so the tables are the same either way; at most one month
    waits to be recorded, so memory stays bounded. An error while recording is raised here."""
    recorder: Recorder | None = None
    pending: Future | None = None

    def wait_for_recorder() -> None:
        nonlocal pending
        if pending is not None:
            t0 = time.perf_counter()
            done, pending = pending, None
            done.result()  # re-raises what went wrong while recording
            if timings is not None:
                timings.record_wait_s += time.perf_counter() - t0

    def record_now(rec: MonthRecord, province: Province) -> None:
        # the recorder thread's own CPU time: its wall time would also count the waits for the GIL
        t0 = time.thread_time()
        assert recorder is not None
        recorder(rec, province)
        if timings is not None:
            timings.record_s += time.thread_time() - t0

    executor = (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="welfare-sim-recorder")
        if record_in_thread else contextlib.nullcontext()
    )
    with executor as pool:

        def record(rec: MonthRecord, province: Province) -> None:
            nonlocal recorder, pending
            if recorder is None:
                recorder = Recorder(province, payments_dir, _pseudonyms(scenario) if payments_dir else None)
            wait_for_recorder()
            if pool is None:  # in line: an error while recording stops the run here, at once
                record_now(rec, province)
            else:
                pending = pool.submit(record_now, rec, province)
            if on_month is not None:
                on_month(rec.month)

        try:
            simulate(scenario, seed=seed, months=months, on_month=record, timings=timings, fine_grained=fine_grained)
            wait_for_recorder()
        finally:
            if pending is not None:
                pending.cancel()
    assert recorder is not None
    result = collect(recorder)
    if summary:  # a province of a country: the country's headline comes from the merged tables
        result.summary = headline(result)
    result.roster_filled = recorder.p.people.roster_filled
    return result


def _pseudonyms(scenario: Scenario) -> dict[int, str] | None:
    """Model id -> pseudonym of a roster run's people (None for a synthetic population)."""
    roster = scenario.resolved_roster
    if roster is None:
        return None
    return dict(zip(roster.people.ids().tolist(), roster.pseudonyms, strict=True))


# --------------------------------------------------------------------------- parts


def plan_parts(weights: list[int], n_parts: int) -> list[list[int]]:
    """Provinces 0..len(weights)-1 (in code order) as `n_parts` runs of consecutive provinces of about
    equal weight (beneficiaries): a cut falls where the running total passes k/n of the whole."""
    n_parts = max(1, min(n_parts, len(weights)))
    total = max(sum(weights), 1)
    cum = np.cumsum(weights)
    cuts = [int(np.searchsorted(cum, total * k / n_parts, side="left")) + 1 for k in range(1, n_parts)]
    bounds = sorted({min(max(c, 1), len(weights) - 1) for c in cuts}) if len(weights) > 1 else []
    edges = [0, *bounds, len(weights)]
    return [list(range(a, b)) for a, b in zip(edges, edges[1:], strict=False) if b > a]


def _offsets(scenario: Scenario) -> list[tuple[int, int]]:
    """(first district, first commune) number of each province in the country, in code order."""
    out, districts, communes = [], 0, 0
    for _, part in scenario.parts:
        out.append((districts, communes))
        districts += len(part.geography.groups)
        communes += part.geography.n_communes
    return out


def _task(scenario: Scenario, index: list[int], seed: int, months: int, payments_dir: Path | None,
          fine_grained: bool) -> dict[str, Any]:
    """A part as plain data: each province's scenario (JSON-ready), code and offsets."""
    offsets = _offsets(scenario)
    return {
        "provinces": [
            {
                "code": scenario.parts[i][0],
                "scenario": scenario.parts[i][1].model_dump(mode="json"),
                "district_offset": offsets[i][0],
                "commune_offset": offsets[i][1],
            }
            for i in index
        ],
        "seed": seed,
        "months": months,
        "payments_dir": str(payments_dir) if payments_dir is not None else None,
        "fine_grained": fine_grained,
    }


def run_part(task: dict[str, Any]) -> list[tuple[str, RunResult, dict[str, float]]]:
    """A worker's job: its provinces one after the other, each as its own Province; returns each
    province's tables (no live objects) and timings. Memory is that of the largest province."""
    return list(_run_provinces(task))


def _run_provinces(task: dict[str, Any]) -> Iterator[tuple[str, RunResult, dict[str, float]]]:
    """The part's provinces one after the other, each province's tables as soon as it is done."""
    for item in task["provinces"]:
        yield run_province({**task, "provinces": [item]})


def run_province(task: dict[str, Any]) -> tuple[str, RunResult, dict[str, float]]:
    """One province of a task (a part of one province): its tables (no live objects) and timings."""
    (item,) = task["provinces"]
    code = item["code"]
    scenario = validate_scenario(item["scenario"], f"province {code}")
    scenario._namespace = code  # the streams of this province, as in the parent's scenario
    payments_dir = None
    if task["payments_dir"] is not None:
        payments_dir = Path(task["payments_dir"]) / f"province-{code}"
        payments_dir.mkdir(exist_ok=True)
    timings = RunTimings()
    result = run_one(
        scenario, task["seed"], task["months"], payments_dir, None, timings, task["fine_grained"], summary=False
    )
    del scenario
    release_freed_memory()
    if payments_dir is not None:
        _shift_payment_parts(result.payment_parts, item["district_offset"], item["commune_offset"])
    return code, result, {**vars(timings), "worker_peak_rss_kb": _peak_rss_kb()}


def _peak_rss_kb() -> int:
    """This process's peak resident memory so far (Linux: kB)."""
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _shift_payment_parts(parts: list[Path], districts: int, communes: int) -> None:
    """The province's payment files with country-wide numbers. A beneficiary id is the commune number
    × ID_STRIDE + a rank in the commune, so with the country's commune numbers it is unique in the country."""
    for part in parts:
        frame = pl.read_parquet(part).with_columns(
            pl.col("beneficiary_id") + communes * ID_STRIDE,
            pl.col("district") + districts,
            pl.col("commune") + communes,
        )
        tmp = part.with_suffix(".shifted.tmp")
        frame.write_parquet(tmp, statistics=True)
        os.replace(tmp, part)


def run_country(
    scenario: Scenario,
    seed: int | None = None,
    months: int | None = None,
    payments_dir: Path | None = None,
    on_month: Callable[[int], None] | None = None,
    timings: RunTimings | None = None,
    fine_grained: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    parts: int | None = None,
) -> RunResult:
    """A many-province scenario: serially (workers 1) in `parts` parts (default: one), a province at
    a time on a local process pool of `workers` (the largest first), or on the Dask scheduler at
    `scheduler` in `parts` parts (default: one per province). Each province's tables are merged as
    they arrive; the country's tables are the same whatever the split, the executor and the order."""
    seed = scenario.seed if seed is None else seed
    months = scenario.months if months is None else months
    weights = [sc.geography.n_beneficiaries for _, sc in scenario.parts]
    n_parts = parts or (workers if scheduler is None else len(weights))
    pool = scheduler is None and workers > 1 and len(weights) > 1
    if scheduler is None:
        check_country_budget(scenario, months, min(workers, len(weights) if pool else n_parts))

    def part_tasks() -> list[dict[str, Any]]:
        plan = plan_parts(weights, n_parts)
        return [_task(scenario, index, seed, months, payments_dir, fine_grained) for index in plan]

    if scheduler:
        outcomes: Iterator[tuple[str, RunResult, dict[str, float]]] = _dask(part_tasks(), scheduler)
    elif pool:
        # a province per task, the largest first: both workers stay busy to the end, and each
        # province's tables come back (and are merged) as soon as it is done
        order = sorted(range(len(weights)), key=lambda i: (-weights[i], i))
        tasks = [_task(scenario, [i], seed, months, payments_dir, fine_grained) for i in order]
        outcomes = _pool(tasks, workers)
    else:
        outcomes = (done for task in part_tasks() for done in _run_provinces(task))
    merger = CountryMerger(scenario)
    progress = _CountryProgress(on_month, months, dict(zip((code for code, _ in scenario.parts), weights, strict=True)))
    for code, result, t in outcomes:
        merger.add(code, result)
        progress.done(code)
        if timings is not None:
            for key, value in t.items():
                if key == "worker_peak_rss_kb":  # a peak, not a sum
                    timings.worker_peak_rss_kb = max(timings.worker_peak_rss_kb, int(value))
                else:
                    setattr(timings, key, getattr(timings, key) + value)
    return merger.result()


class _CountryProgress:
    """`on_month` called as the provinces finish: month k is reported done once the provinces done
    hold k/months of the country's beneficiaries, so a progress bar of months moves with the run."""

    def __init__(self, on_month: Callable[[int], None] | None, months: int, weights: dict[str, int]) -> None:
        self.on_month, self.months, self.weights = on_month, months, weights
        self.total = max(sum(weights.values()), 1)
        self.weight_done = 0
        self.reported = 0

    def done(self, code: str) -> None:
        self.weight_done += self.weights[code]
        due = self.months if self.weight_done >= self.total else self.months * self.weight_done // self.total
        while self.on_month is not None and self.reported < due:
            self.on_month(self.reported)
            self.reported += 1


def check_country_budget(scenario: Scenario, months: int, at_once: int) -> None:
    """Refuse, before anything is built, a country run that cannot fit: its money in int64 (the country's
    sums), and in memory this process plus `at_once` of its largest provinces running side by side."""
    from welfare_sim.sim.budget import BASE_BYTES, BudgetError, _gb, available_bytes, check_budget, estimate

    check_money = estimate(scenario, months)
    if check_money.money_vnd >= 2**62:
        check_budget(scenario, months)  # raises with its message
    largest = max(estimate(sc, months).bytes for _, sc in scenario.parts)
    need = BASE_BYTES + at_once * largest
    free = available_bytes() if os.environ.get("WELFARE_SIM_NO_MEMORY_CHECK") != "1" else None
    if free is not None and need > free:
        raise BudgetError(
            [
                f"scenario {scenario.name}: the run needs about {_gb(need)} of memory ({at_once} province(s) "
                f"at once, the largest needing {_gb(largest)}) but {_gb(free)} is available; run fewer "
                "--workers, or set geography.sample_fraction below 1 (e.g. 0.1)"
            ]
        )


def _pool(tasks: list[dict[str, Any]], workers: int) -> Iterator[tuple[str, RunResult, dict[str, float]]]:
    """Each task's province (tasks of one province each) as soon as a worker has it done."""
    from concurrent.futures import as_completed

    from welfare_sim.sim.pool import process_pool

    with process_pool(min(workers, len(tasks))) as pool:
        futures = [pool.submit(run_province, task) for task in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
                futures.remove(future)  # its tables are the merger's now
        finally:
            for future in futures:
                future.cancel()


def _dask(tasks: list[dict[str, Any]], address: str) -> Iterator[tuple[str, RunResult, dict[str, float]]]:
    """Each part's provinces as soon as the cluster has the part done."""
    from distributed import as_completed

    from welfare_sim.sim.pool import connect_dask

    client = connect_dask(address)
    try:
        futures = [client.submit(run_part, task, pure=False) for task in tasks]
        for future in as_completed(futures):
            yield from future.result()
            future.release()
    finally:
        client.close()


# --------------------------------------------------------------------------- merging


def _shift(frame: pl.DataFrame, districts: int, communes: int) -> pl.DataFrame:
    return frame.with_columns(pl.col("district") + districts, pl.col("commune") + communes)


def _with_province(frame: pl.DataFrame, code: str, name: str) -> pl.DataFrame:
    """`province_code` and `province_name` (the legacy register's) before the district columns."""
    at = frame.columns.index("district") if "district" in frame.columns else 0
    columns = frame.columns
    return frame.with_columns(
        pl.lit(code, pl.String).alias("province_code"), pl.lit(name, pl.String).alias("province_name")
    ).select(*columns[:at], "province_code", "province_name", *columns[at:])


def _sum_by(frames: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    """Figures summed over the provinces, row by row of the keys (every province has the same key rows:
    a row per month, or per month and subgroup). Summed in province order, one province after the
    other, so float totals are the same on every run and split."""
    first = frames[0]
    for frame in frames[1:]:
        if not frame.select(keys).equals(first.select(keys)):
            raise ValueError(f"the provinces' tables have different {', '.join(keys)} rows; cannot add them up")
    values = [c for c in first.columns if c not in keys]
    totals = {}
    for column in values:
        total = first[column].to_numpy().copy()
        for frame in frames[1:]:
            total += frame[column].to_numpy()
        totals[column] = pl.Series(column, total, dtype=first.schema[column])
    return first.select(keys).with_columns(**totals).select(first.columns)


def _by_month(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The provinces' tables (each in month order, in province order) as one in month order, province
    by province within a month: the same rows as a stable sort of their concatenation by month, put
    together from slices (views) in one copy. The list is emptied, so the provinces' own frames go
    as soon as the copy is made."""
    pieces: dict[int, list[pl.DataFrame]] = {}
    for frame in frames:
        month = frame["month"].to_numpy()
        if month.size and np.any(month[1:] < month[:-1]):
            raise ValueError("a province's table is not in month order; cannot merge it")
        values, starts = np.unique(month, return_index=True)
        ends = [*starts[1:].tolist(), month.size]
        for value, start, end in zip(values.tolist(), starts.tolist(), ends, strict=True):
            pieces.setdefault(value, []).append(frame.slice(start, end - start))
    if not pieces:
        merged = pl.concat(frames)
    else:
        merged = pl.concat([piece for value in sorted(pieces) for piece in pieces[value]], rechunk=True)
    frames.clear()
    return merged


class CountryMerger:
    """The provinces' tables, taken as each province is done (in any order), as the country's: in
    province-code order, tables of places concatenated with district, commune and point numbers
    shifted to be unique; counts per month summed; the headline computed afterwards from the
    merged tables. A province's tables of places are shifted and labelled when it arrives, so
    what is held until the end is one copy of them."""

    def __init__(self, scenario: Scenario) -> None:
        self.codes = [code for code, _ in scenario.parts]
        self.offsets = dict(zip(self.codes, _offsets(scenario), strict=True))
        self.results: dict[str, RunResult] = {}
        # integer histograms add up exactly in any order: summed as the provinces arrive, so the
        # country holds one (a province's waits histogram is 24 h in 0.1-minute bins, per month and kind)
        self.days_hist: np.ndarray | None = None
        self.wait_hist: np.ndarray | None = None

    def add(self, code: str, r: RunResult) -> None:
        from welfare_sim.sim import register as reg

        if code in self.results:
            raise ValueError(f"province {code} was merged twice")
        d_off, c_off = self.offsets[code]
        # the tables of places say which province a row is of, by official code and name
        name = reg.find_province(code, "legacy").name
        r.monthly = _with_province(_shift(r.monthly, d_off, c_off), code, name)
        r.communes = _with_province(_shift(r.communes, d_off, c_off), code, name)
        r.places = _with_province(_shift(r.places, d_off, c_off), code, name)
        r.points = _with_province(_shift(r.points, d_off, c_off), code, name)  # point numbers: in result()
        # a day's waits are per province: the quantiles of two provinces do not add up
        r.waits = r.waits.select("month", "period", pl.lit(code).alias("province_code"), pl.exclude("month", "period"))
        if self.days_hist is None or self.wait_hist is None:
            self.days_hist, self.wait_hist = r.days_hist.copy(), r.wait_hist.copy()
        else:  # in place: no new 13 MB array per province
            self.days_hist += r.days_hist
            self.wait_hist += r.wait_hist
        r.days_hist = r.wait_hist = None  # type: ignore[assignment]
        self.results[code] = r

    def result(self) -> RunResult:
        missing = [code for code in self.codes if code not in self.results]
        if missing:
            raise ValueError(f"provinces {', '.join(missing)} were not run")
        results = [self.results.pop(code) for code in self.codes]
        points_offset = 0
        for r in results:
            r.points = r.points.with_columns(pl.col("point") + points_offset)
            points_offset += r.n_points
        strategies: dict[str, int] = {}
        for r in results:
            for key, value in r.strategies.items():
                strategies[key] = strategies.get(key, 0) + int(value)

        def take(name: str) -> list[pl.DataFrame]:
            """The provinces' frames of one table, let go of by the results (the list holds them)."""
            frames = [getattr(r, name) for r in results]
            for r in results:
                setattr(r, name, None)
            return frames

        first = results[0]
        merged = RunResult(
            monthly=_by_month(take("monthly")),
            subgroups=_sum_by([r.subgroups for r in results], ["month", "period", "subgroup"]),
            points=_by_month(take("points")),
            waits=_by_month(take("waits")),
            ledger=_sum_by([r.ledger for r in results], ["month", "period"]),
            funnel=_sum_by([r.funnel for r in results], ["month", "period"]),
            days_hist=self.days_hist,
            wait_hist=self.wait_hist,
            payments_rows=sum(r.payments_rows for r in results),
            places=pl.concat(take("places")),
            communes=_by_month(take("communes")),
            strategies=strategies,
            strategy_spending=_sum_by(
                [r.strategy_spending for r in results if r.strategy_spending is not None], ["month"]
            ) if first.strategy_spending is not None else None,
            payment_parts=[p for r in results for p in r.payment_parts],
            n_points=points_offset,
        )
        merged.summary = headline(merged)
        return merged
