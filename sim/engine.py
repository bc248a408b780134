"""Compose and run a scenario: SimPy drives the calendar, the domain model does each step.

Simulation time is in days from the first day of the start month. Each month has, in order:
the strategies' dated steps (drive visits, points opening; at the month's start), the month's
opening (account funnel, entitlement, verification, channel split; a quarter-day later), one
event per day (credits, home deliveries, trips to points, at noon), and the month-end
reconciliation (at the end of the last day).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import simpy

from welfare_sim.models.payment_run import MonthRecord, Province
from welfare_sim.sim.budget import check_budget
from welfare_sim.sim.memory import keep_freed_memory
from welfare_sim.sim.scenario import Scenario
from welfare_sim.sim.streams import Streams

MORNING, NOON = 0.25, 0.5


@dataclass
class RunTimings:
    build_s: float = 0.0
    simulate_s: float = 0.0  # includes record_wait_s
    record_s: float = 0.0  # CPU time of the recording (in line, or in its own thread overlapping the simulation)
    record_wait_s: float = 0.0  # time the simulation waited for the recorder
    worker_peak_rss_kb: int = 0  # many-province runs: the largest peak RSS of a process that ran parts


def build_province(scenario: Scenario, seed: int, fine_grained: bool = False, months: int | None = None) -> Province:
    return Province(
        geo=scenario.geography,
        pop=scenario.population,
        run=scenario.payment_run,
        assume=scenario.assumptions,
        start=scenario.start,
        streams=Streams(seed, scenario.stream_namespace),  # a province's own draws in a many-province run
        interventions=scenario.interventions,
        fine_grained=fine_grained,
        months=scenario.months if months is None else months,
    )


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    months: int | None = None,
    on_month: Callable[[MonthRecord, Province], None] | None = None,
    timings: RunTimings | None = None,
    fine_grained: bool = False,
) -> Province:
    """Run the scenario; `on_month` receives each month's record as it closes.

    `fine_grained`: serve the cash-out queues with one SimPy process per visit instead of the
    vectorised kernel (identical results, ~50x slower; for checking small runs)."""
    if scenario.parts:
        from welfare_sim.sim.scenario import ScenarioError

        raise ScenarioError(
            [
                f"scenario {scenario.name}: a many-province scenario (geography.provinces) runs province by "
                "province (welfare_sim.sim.run.run_scenario); this command runs one province: give a "
                "one-province scenario"
            ]
        )
    seed = scenario.seed if seed is None else seed
    months = scenario.months if months is None else months
    check_budget(scenario, months)  # before any array is built: refuse what cannot fit
    keep_freed_memory()
    t0 = time.perf_counter()
    province = build_province(scenario, seed, fine_grained, months)
    t1 = time.perf_counter()

    env = simpy.Environment()
    month_start_day = _month_starts(province, months)

    def month_start(month: int) -> float | None:
        return float(month_start_day[month]) if month < months else None

    for process in province.strategy_processes(env, month_start):  # drives, points opening
        env.process(process)
    env.process(_calendar(env, province, months, month_start_day, on_month))
    env.run()
    if timings is not None:
        timings.build_s += t1 - t0
        timings.simulate_s += time.perf_counter() - t1
    return province


def _month_starts(province: Province, months: int) -> np.ndarray:
    lengths = [len(province.month_days(m)) for m in range(months)]
    return np.concatenate([[0], np.cumsum(lengths)])


def _calendar(
    env: simpy.Environment,
    province: Province,
    months: int,
    month_start_day: np.ndarray,
    on_month: Callable[[MonthRecord, Province], None] | None,
) -> Generator:
    for month in range(months):
        start = float(month_start_day[month])
        yield env.timeout(start + MORNING - env.now)
        province.begin_month(month)
        days = province.start_days(month)
        for offset, day in enumerate(days):
            yield env.timeout(start + offset + NOON - env.now)
            province.run_day(day)
        yield env.timeout(float(month_start_day[month + 1]) - 1e-6 - env.now)
        record = province.end_month()
        if on_month is not None:
            on_month(record, province)
