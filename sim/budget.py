"""Check, before a run builds anything, that it fits in memory and that its money fits in int64.

The schema bounds each value on its own; a scenario can still combine large values (twenty
regions of ten million beneficiaries, a hundred counters at each of many thousand ATMs) into a
run that would be killed by the kernel's out-of-memory killer after minutes, or whose money sums
pass 2**63 VND. `check_budget` estimates both from the scenario alone, in microseconds, and
raises BudgetError (bad input, exit 2) with the estimate and what the machine has.

The memory model is linear and deliberately generous (measured on the national scenario:
about 620 bytes per simulated beneficiary at its peak, 3.3 GB for 5.06 million, over a base of
about 200 MB for the interpreter and libraries).
"""

from __future__ import annotations

import math
import os
import resource
from dataclasses import dataclass
from pathlib import Path

from welfare_sim.sim.scenario import Scenario, ScenarioError

BASE_BYTES = 300 * 2**20  # interpreter, numpy, polars, simpy and the recorder's tables
BYTES_PER_BENEFICIARY = 800  # population columns, accounts, the month's working arrays (~620 measured)
BYTES_PER_POINT = 400  # a point's parameters, float and per-day state
BYTES_PER_COUNTER_DAY = 32  # the queue's free-time matrix: counters × open points × days, float64 + temporaries
BYTES_PER_VISIT = 32  # a drive's planned commune visits of a month, int64 positions and copies
DAYS = 31
INT64_HEADROOM = 2**62  # money sums stay below half of int64's range


class BudgetError(ScenarioError):
    """The run would not fit in memory, or its money in int64."""


@dataclass(frozen=True)
class Estimate:
    beneficiaries: int
    points: int
    max_counters: int
    visits: int
    bytes: int
    money_vnd: int


def estimate(scenario: Scenario, months: int | None = None) -> Estimate:
    """Memory (bytes) and the largest money sum (VND) the run could reach."""
    months = scenario.months if months is None else months
    geo, iv, pts = scenario.geography, scenario.interventions, scenario.assumptions.points
    n = sum(math.floor(d.beneficiaries * geo.sample_fraction + 0.5) + d.communes for d in geo.groups)
    communes = geo.n_communes
    points = communes + sum(d.post_offices + d.atms for d in geo.groups)
    points += communes * len(iv.atm_points) + sum(communes * a.agents_per_commune for a in iv.agents)
    points += sum(communes * o.per_commune for o in (pts.agent, pts.commune_post_office) if o is not None)
    max_counters = max(
        [pts.commune_point.counters, pts.atm.counters, *(d.post_office_counters for d in geo.groups)]
        + [o.counters for o in (pts.agent, pts.commune_post_office) if o is not None]
        + [p.counters for p in (*iv.atm_points, *iv.agents)]
    )
    visits = sum(d.teams * d.communes_per_team_per_month for d in iv.drives)
    memory = (
        BASE_BYTES
        + n * BYTES_PER_BENEFICIARY
        + points * BYTES_PER_POINT
        + points * max_counters * DAYS * BYTES_PER_COUNTER_DAY
        + visits * BYTES_PER_VISIT
    )
    # money: what everyone could be owed in the whole run, plus every cost at its largest
    pop, costs = scenario.population, scenario.assumptions.costs
    base = max(a.vnd for a in pop.base_level)
    coef = max((float(k) for c in pop.categories.values() for k in (c.coefficients or {})), default=0.0)
    amounts = [a.vnd for c in pop.categories.values() for a in (c.amount or [])]
    owed = max([math.ceil(base * coef), *amounts])
    fees = max(
        costs.fee_per_account_credit_vnd,
        costs.fee_per_cash_payment_vnd,
        costs.fee_per_home_delivery_vnd,
        costs.withdrawal_fee_vnd,
    )
    outlets = [o for o in (pts.agent, pts.commune_post_office) if o is not None]
    floats = [p.float_vnd_per_day or 0 for p in (pts.commune_point, pts.post_office, pts.atm, *outlets)]
    floats += [o.float_cap_vnd or 0 for o in outlets]
    floats += [a.float_vnd_per_day for a in iv.agents] + [a.float_cap_vnd for a in iv.atm_points]
    per_point_day = costs.staff_per_team_day_vnd + costs.cash_transport_per_point_day_vnd + max(floats)
    per_month = (
        n * (owed + DAYS * fees)
        + points * DAYS * per_point_day
        + sum(d.teams * d.cost_per_team_month_vnd for d in iv.drives)
        + sum(communes * t.teams_per_commune * t.cost_per_team_month_vnd for t in iv.digital_teams)
        + sum(communes * (a.conversion_cost_vnd + a.monthly_cost_vnd) for a in iv.atm_points)
        + sum(communes * a.agents_per_commune * a.state_cost_per_agent_month_vnd for a in iv.agents)
    )
    return Estimate(n, points, max_counters, visits, memory, per_month * months)


def available_bytes() -> int | None:
    """Memory this process may still use: the least of the kernel's MemAvailable, the address-space
    limit (`ulimit -v`) and the cgroup's limit; None where none of them can be read."""
    limits: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft not in (resource.RLIM_INFINITY, -1):
        limits.append(max(int(soft) - _address_space_used(), 0))
    try:
        cap = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
        if cap != "max":
            limits.append(max(int(cap) - int(used), 0))
    except (OSError, ValueError):
        pass
    return min(limits) if limits else None


def _address_space_used() -> int:
    # `ulimit -v` caps the address space, of which the libraries already hold a part
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _gb(n: int) -> str:
    return f"{n / 2**30:,.1f} GB"


def check_budget(scenario: Scenario, months: int | None = None) -> Estimate:
    """Raise BudgetError if the run would not fit in memory or its money could pass int64."""
    est = estimate(scenario, months)
    problems = []
    if est.money_vnd >= INT64_HEADROOM:
        problems.append(
            f"scenario {scenario.name}: its money sums could reach {est.money_vnd:.3g} VND, beyond the "
            f"{INT64_HEADROOM:.3g} VND that integer VND can hold; lower the amounts, costs or floats, "
            "or simulate fewer months or a geography.sample_fraction below 1"
        )
    if os.environ.get("WELFARE_SIM_NO_MEMORY_CHECK") != "1":
        free = available_bytes()
        if free is not None and est.bytes > free:
            problems.append(
                f"scenario {scenario.name}: the run needs about {_gb(est.bytes)} of memory "
                f"({est.beneficiaries:,} simulated beneficiaries, {est.points:,} points with up to "
                f"{est.max_counters:,} counters, {est.visits:,} drive visits a month) but {_gb(free)} is "
                "available; set geography.sample_fraction below 1 (e.g. 0.1) or lower those counts"
            )
    if problems:
        raise BudgetError(problems)
    return est
