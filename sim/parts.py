"""Run a scenario: one province in line, or many provinces as independent parts (docs/parallel.md).

A many-province scenario (`geography.provinces`) is run province by province: each is its own
Province (sim/engine.py), with random streams namespaced by its official code, so its draws do not
depend on which other provinces run or on how the country is split. A *part* is a run of consecutive
provinces (in code order) given to one worker: serially, in a local process pool, or on a Dask
cluster. Workers receive plain data (the province's scenario as JSON-ready dicts) and return plain
tables (polars frames, numpy histograms); the tables are then put together in province-code order:
district, commune and point numbers shifted to be unique in the country, counts per month summed,
histograms summed. The summary is computed from the merged tables, so it is the same whatever the split.
"""

from __future__ import annotations

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
) -> RunResult:
    """Simulate one province and collect its tables (and its headline, with `summary`); per-beneficiary
    rows go to `payments_dir` if given.

    Each month's record is summarised in a second thread while the next month is simulated
    (numpy and polars release the GIL, so on two cores the two overlap). One thread takes the
    records in month order, so the tables are the same as recording in line; at most one month
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
        t0 = time.perf_counter()
        assert recorder is not None
        recorder(rec, province)
        if timings is not None:
            timings.record_s += time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="welfare-sim-recorder") as pool:

        def record(rec: MonthRecord, province: Province) -> None:
            nonlocal recorder, pending
            if recorder is None:
                recorder = Recorder(province, payments_dir, _pseudonyms(scenario) if payments_dir else None)
            wait_for_recorder()
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
    out = []
    for item in task["provinces"]:
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
        out.append((code, result, {**vars(timings), "worker_peak_rss_kb": _peak_rss_kb()}))
    return out


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
    """A many-province scenario in `parts` parts (default: one per worker): serially (workers 1),
    in a local process pool, or on the Dask scheduler at `scheduler`. The tables are the same
    whatever the split and the executor."""
    seed = scenario.seed if seed is None else seed
    months = scenario.months if months is None else months
    weights = [sc.geography.n_beneficiaries for _, sc in scenario.parts]
    n_parts = parts or (workers if scheduler is None else len(weights))
    if scheduler is None:
        check_country_budget(scenario, months, min(workers, n_parts))
    tasks = [_task(scenario, index, seed, months, payments_dir, fine_grained) for index in plan_parts(weights, n_parts)]
    done: list[tuple[str, RunResult, dict[str, float]]] = []
    if scheduler:
        outcomes: Iterator = _dask(tasks, scheduler)
    elif workers > 1 and len(tasks) > 1:
        outcomes = _pool(tasks, workers)
    else:
        outcomes = map(run_part, tasks)
    for outcome in outcomes:
        done.extend(outcome)
    done.sort(key=lambda item: item[0])
    if timings is not None:
        for _, _, t in done:
            for key, value in t.items():
                if key == "worker_peak_rss_kb":  # a peak, not a sum
                    timings.worker_peak_rss_kb = max(timings.worker_peak_rss_kb, int(value))
                else:
                    setattr(timings, key, getattr(timings, key) + value)
    result = merge_results([(code, r) for code, r, _ in done], _offsets(scenario))
    if on_month is not None:
        for month in range(months):
            on_month(month)
    return result


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


def _pool(tasks: list[dict[str, Any]], workers: int) -> Iterator[list]:
    from welfare_sim.sim.pool import process_pool

    with process_pool(min(workers, len(tasks))) as pool:
        yield from pool.map(run_part, tasks)


def _dask(tasks: list[dict[str, Any]], address: str) -> Iterator[list]:
    from welfare_sim.sim.pool import connect_dask

    client = connect_dask(address)
    try:
        futures = [client.submit(run_part, task, pure=False) for task in tasks]
        for future in futures:
            yield future.result()
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
    """The provinces' tables (each in month order) as one in month order, province by province within
    a month; the provinces' own frames are let go of as the list empties."""
    merged = pl.concat(frames, rechunk=False).sort("month", maintain_order=True)
    frames.clear()
    return merged


def merge_results(results: list[tuple[str, RunResult]], offsets: list[tuple[int, int]]) -> RunResult:
    """The provinces' tables as the country's, in province-code order: tables of places concatenated
    with district, commune and point numbers shifted to be unique; counts per month summed; the
    headline computed afterwards from the merged tables."""
    from welfare_sim.sim import register as reg

    points_offset = 0
    monthly, communes, places, points, waits = [], [], [], [], []
    strategies: dict[str, int] = {}
    for (code, r), (d_off, c_off) in zip(results, offsets, strict=True):
        # the tables of places say which province a row is of, by official code and name
        name = reg.find_province(code, "legacy").name
        monthly.append(_with_province(_shift(r.monthly, d_off, c_off), code, name))
        communes.append(_with_province(_shift(r.communes, d_off, c_off), code, name))
        places.append(_with_province(_shift(r.places, d_off, c_off), code, name))
        shifted = _shift(r.points, d_off, c_off).with_columns(pl.col("point") + points_offset)
        points.append(_with_province(shifted, code, name))
        points_offset += r.n_points
        # a day's waits are per province: the quantiles of two provinces do not add up
        keyed = pl.lit(code).alias("province_code")
        waits.append(r.waits.select("month", "period", keyed, pl.exclude("month", "period")))
        for key, value in r.strategies.items():
            strategies[key] = strategies.get(key, 0) + int(value)
    first = results[0][1]
    for _, r in results:  # the shifted copies above are what is kept
        r.monthly = r.communes = r.places = r.points = r.waits = None  # type: ignore[assignment]
    merged = RunResult(
        monthly=_by_month(monthly),
        subgroups=_sum_by([r.subgroups for _, r in results], ["month", "period", "subgroup"]),
        points=_by_month(points),
        waits=_by_month(waits),
        ledger=_sum_by([r.ledger for _, r in results], ["month", "period"]),
        funnel=_sum_by([r.funnel for _, r in results], ["month", "period"]),
        days_hist=np.sum([r.days_hist for _, r in results], axis=0),
        wait_hist=np.sum([r.wait_hist for _, r in results], axis=0),
        payments_rows=sum(r.payments_rows for _, r in results),
        places=pl.concat(places),
        communes=_by_month(communes),
        strategies=strategies,
        strategy_spending=_sum_by(
            [r.strategy_spending for _, r in results if r.strategy_spending is not None], ["month"]
        ) if first.strategy_spending is not None else None,
        payment_parts=[p for _, r in results for p in r.payment_parts],
        n_points=points_offset,
    )
    merged.summary = headline(merged)
    return merged
