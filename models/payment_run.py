"""The simulated province: its people, points and accounts, and the state that lives from month
to month; the month itself runs as named stages (`models/month/stages.py`).

A month, stage by stage (the engine calls `begin_month`, `run_day` for each day, `end_month`):
funnel, entitlement, verification, channel split, credits, cash planning (schedule and cash),
cash-out, home delivery, reconciliation. The strategies attach to the stages they change through
the hook registry `hooks` (`models/month/hooks.py`), set up once here from the scenario.

Money is integer VND. Draws come from named streams keyed by beneficiary id and month.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from welfare_sim.models import accounts as acc_mod
from welfare_sim.models import outlets
from welfare_sim.models.behaviour import retry_prob
from welfare_sim.models.cashout import (
    AGENT,
    ATM,
    COMMUNE_POST_OFFICE,
    NO_CASH,
    NOT_REACHED,
    PAID_FULL,
    Points,
    append_points,
    build_points,
    home_points,
)
from welfare_sim.models.cashout import POST_OFFICE as POST_OFFICE_KIND
from welfare_sim.models.demography import monthly_death_prob
from welfare_sim.models.geography import remoteness_km
from welfare_sim.models.interventions import Strategies
from welfare_sim.models.month import stages
from welfare_sim.models.month.common import (
    ACTIVE,
    CHANNELS,
    FAILED_CREDIT_CAUSES,
    MODE_ALL,
    MODE_KEEP,
    NO_DAY,
    PENDING,
    STATUSES,
    ConservationError,
    MonthRecord,
)
from welfare_sim.models.month.hooks import StageHooks
from welfare_sim.models.params import (
    Assumptions,
    Geography,
    Interventions,
    PaymentRun,
    Population,
    month_label,
)
from welfare_sim.models.population import (
    Beneficiaries,
    Communes,
    build_beneficiaries,
    build_communes,
    plan_trips,
)
from welfare_sim.models.roster import apply_home_collection as roster_apply_home


@dataclass
class Province:
    """The simulated province: its people, points and the state that changes month to month."""

    geo: Geography
    pop: Population
    run: PaymentRun
    assume: Assumptions
    start: str
    streams: object
    interventions: Interventions = field(default_factory=Interventions)
    fine_grained: bool = False  # queues served by one SimPy process per visit (slow; checks)
    months: int = 0  # the run's length: new approvals are drawn up front for this many months
    communes: Communes = field(init=False)
    people: Beneficiaries = field(init=False)
    points: Points = field(init=False)
    accounts: acc_mod.Accounts = field(init=False)

    def __post_init__(self) -> None:
        s = self.streams
        self.communes = build_communes(self.geo, s, self.pop)
        self.people = build_beneficiaries(self.geo, self.pop, self.communes, s, self.months, self.start)
        self.points = build_points(self.geo, self.communes, self.assume.points)
        self.commune_point, self.post_office, self.atm = home_points(
            self.people, self.communes, self.points, s
        )
        a = self.assume
        if self.people.home_lat is not None:
            d = self.people.distance_km
            has_atm = bool((self.points.kind == ATM).any())
            plan_trips(
                self.people, self.communes, d["post_office"], d["atm"], has_atm, self.geo.travel,
                a.costs.value_of_time_vnd_per_hour, s,
            )
            self.communes.remoteness_km = remoteness_km(self.communes.places, self.points, POST_OFFICE_KIND)
        self.accounts = acc_mod.initial_accounts(
            self.people, a.initial_accounts, a.opening, a.account_life, self._chip_id_share(), s
        )
        n = self.people.n
        ids = self.people.id
        self.state = np.where(self.people.entry_month >= 0, PENDING, ACTIVE).astype(np.int8)
        self.death_month = np.full(n, -1, np.int16)
        self.after_death_vnd = np.zeros(n, np.int64)  # paid since the death, not yet detected
        demo = self.pop.demography
        self._death_p = (
            monthly_death_prob(demo, self.people.age_group, self.people.female) if demo is not None else None
        )
        self.owed_vnd = np.zeros(n, np.int64)
        self.suspended_vnd = np.zeros(n, np.int64)
        self.months_uncollected = np.zeros(n, np.int16)
        self.months_suspended = np.zeros(n, np.int16)
        self.db_mismatch = s["verification.db_mismatch"].bernoulli(a.verification.db_mismatch_share, ids)
        self.fallback_cash = np.zeros(n, bool)
        # drawn for everyone: who is eligible changes as people age (80+)
        self._home_draw = s["collection.home_takeup"].bernoulli(a.collection.home_delivery_takeup, ids)
        self.home_takeup = self.people.home_eligible & self._home_draw
        roster = self.geo.roster
        if roster is not None:  # a real roster: its accounts and home collection, the rest from the shares
            filled = self.people.roster_filled
            filled["account"] = acc_mod.roster_accounts(self.accounts, self.people, roster, a.opening,
                                                         a.account_life, s)
            filled["home_collection"] = roster_apply_home(self._home_draw, self.people, roster)
            self.home_takeup = self.people.home_eligible & self._home_draw
        shares = np.array([a.cashout.mode_shares.get(m, 0.0) for m in ("all_at_once", "partial", "keep_balance")])
        mode = s["cashout.mode"].categorical(shares, ids).astype(np.int8)
        # a balance kept for spending needs a phone to spend it with
        self.cashout_mode = np.where((mode == MODE_KEEP) & ~self.people.smartphone, MODE_ALL, mode)
        self._cashout_options()
        self.drive_contact_prob = np.zeros(n)
        self.rollout_month = np.array(
            [_months_between(self.start, d.cashless_start) for d in self.geo.groups]
        )
        self.day_serial = 0
        self._add_strategies()
        self._wd_last = np.zeros(self.points.n)  # withdrawals per point last month (VND)

    def _chip_id_share(self) -> float | np.ndarray:
        """Chance of holding a chip ID at the start: the commune's figure, else its district's, else the
        population's (resolved per commune in build_communes)."""
        return self.communes.chip_id_share[self.people.commune]

    def _cashout_options(self) -> None:
        """Each account holder's point of every kind near them (-1: none), and the one-way minutes
        to it: ATMs and post offices in the district town, agents and commune post offices in the
        commune (where it has one). Sets `cashout_point`, the fallback until the first choice."""
        people, pts = self.people, self.points
        town = people.travel_town_min
        self._options = {"atm": self.atm, "post_office": self.post_office}
        self._option_min = {"atm": town, "post_office": town}
        draw = self.streams["points.outlet"].uniform(people.id)
        for code, name in ((AGENT, "agent"), (COMMUNE_POST_OFFICE, "commune_post_office")):
            at = np.flatnonzero(pts.kind == code)
            first = int(at[0]) if at.size else 0
            point = outlets.local_point(people.commune.astype(np.int64), pts.commune[at], first, draw)
            self._options[name] = point
            factor = pts.travel_factor[np.maximum(point, 0)] if at.size else np.ones(people.n)
            self._option_min[name] = people.travel_commune_min * factor
        if (pts.kind == ATM).sum() == 0:
            self._options["atm"] = np.full(people.n, -1, np.int64)  # no ATM anywhere: the counter
        self.cashout_point = self.post_office.copy()

    def choose_cashout_points(self, who: np.ndarray) -> None:
        """This month's point for the account holders `who`, by the cost of each kind they can use."""
        if who.size == 0:
            return
        options = {k: v[who] for k, v in self._options.items()}
        minutes = {k: v[who] for k, v in self._option_min.items()}
        fees = dict.fromkeys(options, self.point_fee_vnd)
        u = self.streams["cashout.point_choice"].uniform(self.people.id[who], self.m)
        self.cashout_point[who] = outlets.choose_points(
            self.accounts.type[who], options, minutes, fees, self.assume, u, self.post_office[who]
        )

    def _add_strategies(self) -> None:
        """Build the strategies, and append the cash-out points they open (closed until then)."""
        self.strategies = Strategies(
            self.interventions, self.start, self.communes, self.people, self.streams
        )
        self.campaigns = self.strategies.drives
        # Both kinds count as cash machines ("atm") in the point and wait tables. Neither gets the
        # state's escorted cash runs: an agent holds its own till; a commune post office tops its
        # cash up with its usual deliveries (costed in the strategy's monthly cost).
        def add(placement, **cash) -> None:  # noqa: ANN001, ANN003
            p = placement.params
            self.points, placement.first_point = append_points(
                self.points, ATM, self.communes.district[placement.point_communes()],
                commune=placement.point_communes(), communes=self.communes,
                counters=p.counters, open_min=p.open_min, close_min=p.close_min,
                open_weekdays=p.open_weekdays, service_mean_min=p.service_mean_min,
                service_cv=p.service_cv, downtime_prob=p.downtime_prob, **cash,
            )

        for placement in self.strategies.atm_points:
            add(placement, float_cover=placement.params.float_cover, float_cap_vnd=placement.params.float_cap_vnd)
        for placement in self.strategies.agents:
            add(placement, fixed_float_vnd=placement.params.float_vnd_per_day,
                travel_factor=placement.params.travel_factor)
        fee = self.points.fee_vnd
        self.point_fee_vnd = np.where(fee >= 0, fee, self.assume.costs.withdrawal_fee_vnd).astype(np.int64)
        for placement in self.strategies.agents:
            stop = placement.first_point + placement.n_points
            self.point_fee_vnd[placement.first_point:stop] = placement.params.cashout_fee_vnd
        self.has_strategy_points = bool(self.strategies.placements)
        self.hooks = StageHooks()
        self.strategies.register(self.hooks)

    def strategy_processes(self, env, month_start) -> list:  # noqa: ANN001
        """SimPy processes of the dated strategies (drive visits, points opening), to start."""
        return self.strategies.processes(
            env, month_start, self.drive_contact_prob, self.points.active
        )

    # ------------------------------------------------------------------ calendar

    def month_days(self, month: int) -> list[dt.date]:
        label = month_label(self.start, month)
        year, mon = (int(x) for x in label.split("-"))
        return [dt.date(year, mon, d) for d in range(1, calendar.monthrange(year, mon)[1] + 1)]

    # ------------------------------------------------------------------ the month, by stages

    def begin_month(self, month: int) -> None:
        """The month's first morning: funnel, entitlement, verification, channel split, schedule."""
        stages.begin_month(self, month)

    def run_day(self, day: dt.date) -> dict[str, np.ndarray]:
        """One day: credits (on the credit day), cash planning, cash-out, home delivery."""
        stages.run_day(self, day)
        return {}

    def end_month(self) -> MonthRecord:
        """Reconciliation: suspensions, the ledger to the dong, the month's record."""
        return stages.end_month(self)

    # ------------------------------------------------------------------ shared by the stages

    def _file_cash_trips(self, idx: np.ndarray) -> None:
        """File cash-list members under the day of their next planned trip, so a day's trips are
        found without scanning the whole list (a planned day changes only after that day's trip)."""
        idx = idx[self.next_day[idx] != NO_DAY]
        if idx.size == 0:
            return
        day = self.next_day[idx]
        order = np.argsort(day, kind="stable")
        idx, day = idx[order], day[order]
        cut = np.flatnonzero(day[1:] != day[:-1]) + 1
        for part, first in zip(np.split(idx, cut), day[np.concatenate([[0], cut])], strict=True):
            self._cash_by_day.setdefault(int(first), []).append(part)

    def _scheduled_today(self, d: int) -> np.ndarray:
        """Points with a payment scheduled today: commune points on their days, all others."""
        out = np.ones(self.points.n, bool)
        out[: self.communes.n] = (self.sched_days == d).any(axis=1)
        return out

    def _into_windows(self, idx: np.ndarray, day: np.ndarray, attempt: int) -> np.ndarray:
        """Planned trip days: the commune's next payment day on or after `day`; failing that
        (late, or its days are over) the counter window, on a day the post office is open, for
        those who go there; or no trip."""
        kw = self.run.counter_window
        day = np.array(day, np.float64)
        table = self._next_sched_day  # commune x day: the next payment day on or after it
        at = np.clip(np.ceil(day), 0, table.shape[1] - 1).astype(np.int64)
        nearest = table[self.people.commune[idx], at]
        on_schedule = nearest != NO_DAY
        day = np.where(on_schedule, nearest, np.maximum(day, kw.first_day + 0.0))
        late = np.flatnonzero(~on_schedule)
        if late.size:
            # drawn for the late ones only: each draw is keyed by id, so it is the same draw
            who = idx[late]
            goes = self.streams["collection.counter_visit"].bernoulli(
                self.assume.collection.counter_visit_prob.array()[self.people.terrain[who]],
                self.people.id[who], self.m, attempt,
            )
            office_day = self._office_next_day[np.minimum(day[late], self._office_next_day.size - 1).astype(np.int64)]
            day[late] = np.where(goes, office_day, NO_DAY)
        return day

    def _cash_owed_by(self, point_of: np.ndarray) -> np.ndarray:
        """Cash still owed to the cash list, summed by each member's point of the window (sums of
        integer VND below 2**53: float64 holds them exactly). Kept up to date as cash is paid."""
        cl = self.cash_list
        return np.bincount(point_of[cl], weights=self.owed_vnd[cl], minlength=self.points.n)

    def _withdrawal_point(self, idx: np.ndarray) -> np.ndarray:
        """Where account holders cash out: by account type, or a strategy's local point."""
        point = self.cashout_point[idx]
        if self.has_strategy_points:
            # the strategies' points, the first that serves each holder (agents before commune points)
            types = self.accounts.type[idx]
            local = np.full(idx.size, -1, np.int64)
            for route in self.hooks.get("cash_out", "route"):
                free = local < 0
                if not free.any():
                    break
                local[free] = route(idx[free], self.people.commune[idx[free]], types[free])
            point = np.where(local >= 0, local, point)
        return point

    def _withdrawal_days(self, idx: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Cash-out trips move to the first day on or after `day` that the point opens on (its
        weekdays; downtime cannot be foreseen), or to none if it opens no more this month."""
        table = self._point_next_open
        at = np.minimum(np.asarray(day, np.int64), table.shape[1] - 1)
        return table[self._withdrawal_point(idx), at]

    def _plan_retry(self, idx: np.ndarray, d: int, plan: np.ndarray) -> None:
        if idx.size == 0:
            return
        s, c = self.streams, self.assume.collection
        ids = self.people.id[idx]
        tries = self.trips[idx]
        # the dearer the trip they just made, the less likely they try again
        p = retry_prob(c.retry_prob, self._trip_cost_vnd[idx], self.assume.behaviour)
        again = s["collection.retry"].bernoulli(p, ids, self.m, tries)
        delay = np.floor(s["collection.retry_delay"].exponential(c.mean_retry_delay_days, ids, self.m, tries))
        nxt = d + 1 + delay
        if plan is self.next_day:
            nxt = self._into_windows(idx, nxt, int(d))
        else:
            nxt = self._withdrawal_days(idx, nxt)
        plan[idx] = np.where(again, nxt, NO_DAY).astype(np.int16)

    def check_ledger(self, led: dict[str, int]) -> None:
        """Conservation of money, to the dong. Raises ConservationError."""
        due = led["owed_start"] + led["suspended_start"] + led["entitled"]
        out = (
            led["credited"] + led["paid_cash_commune"] + led["paid_cash_counter"] + led["paid_home"]
            + led["forfeited"] + led["owed_end"] + led["suspended_end"]
        )
        problems = []
        if due != out:
            problems.append(f"treasury: due {due} != paid + carried {out}")
        if led["balance_start"] + led["credited"] != led["withdrawn"] + led["recovered"] + led["balance_end"]:
            problems.append("accounts: balance + credits != withdrawals + recovered + balance")
        if led["after_death_start"] + led["paid_after_death"] != (
            led["recovered"] + led["written_off"] + led["after_death_end"]
        ):
            problems.append("paid after death: carried + paid != recovered + written off + carried")
        if led["float_delivered"] != led["float_paid"] + led["float_paid_others"] + led["float_returned"]:
            problems.append("cash floats: delivered != paid + returned")
        if led["float_paid"] != led["paid_cash_commune"] + led["paid_cash_counter"] + led["withdrawn"]:
            problems.append("cash floats: paid out != cash payments + withdrawals")
        if (self.owed_vnd < 0).any() or (self.accounts.balance_vnd < 0).any():
            problems.append("negative amount owed or balance")
        if problems:
            raise ConservationError(f"month {self.m}: " + "; ".join(problems))

    def start_days(self, month: int) -> list[dt.date]:
        self._days = self.month_days(month)
        self._point_days = []
        self._delivered_days: list[np.ndarray] = []
        return self._days


def _months_between(start: str, month: str) -> int:
    from welfare_sim.models.params import month_offset

    return month_offset(start, month)


__all__ = [
    "CHANNELS", "STATUSES", "FAILED_CREDIT_CAUSES", "Province", "MonthRecord", "ConservationError",
    "NO_CASH", "NOT_REACHED", "PAID_FULL",
]
