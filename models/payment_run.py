"""The monthly payment run, from the payment list to month-end reconciliation.

Each month:
1. suspended beneficiaries may claim again (or are stopped), the account funnel moves, and the
   month's entitlement is added to what each beneficiary is owed;
2. the payment list is verified against the population database: unmatched records are held;
3. the list splits into the account channel and the cash channel (home delivery for the
   eligible who take it up);
4. account credits land the day after the run starts; a failed credit is returned and the
   beneficiary falls back to cash next month; account holders then cash out at an ATM or a
   post office, or keep a balance;
5. cash is paid at commune points on their scheduled days of the commune window (the post
   office's teams go round the communes) and at district post-office counters in the counter
   window; those who come late, or fail on their commune's last day, go to the counter; failed
   trips (down, no cash, not reached) are retried. Each point's cash is planned from what the
   planner knows before the day: the cash list, and last month's withdrawals;
6. at month end, unpaid cash recipients count a month uncollected, and are suspended after
   `suspend_after_months`; the month is reconciled to the dong.

Money is integer VND. Draws come from named streams keyed by beneficiary id and month.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np

from welfare_sim.models import accounts as acc_mod
from welfare_sim.models.cashout import (
    ATM,
    NO_CASH,
    NOT_REACHED,
    PAID_FULL,
    PAID_PART,
    POST_OFFICE,
    DayService,
    Points,
    append_points,
    build_points,
    home_points,
    point_status,
    serve_day,
)
from welfare_sim.models.demography import monthly_death_prob
from welfare_sim.models.geography import remoteness_km
from welfare_sim.models.interventions import STRATEGY_COUNTS, Strategies
from welfare_sim.models.params import (
    ACCOUNT_TYPES,
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
    entitlements,
    one_way,
    plan_trips,
)

# DEAD: the death is known and the person is off the list; PENDING: a new approval not yet arrived
ACTIVE, SUSPENDED, STOPPED, DEAD, PENDING = 0, 1, 2, 3, 4
POPULATION_COUNTS = ("entries", "deaths", "deaths_detected", "reapplications", "records_changed")

CH_NONE, CH_ACCOUNT, CH_CASH_COMMUNE, CH_CASH_COUNTER, CH_HOME, CH_CASH_PENDING = 0, 1, 2, 3, 4, 5
CHANNELS = ("none", "account", "cash_commune", "cash_counter", "home", "cash_unpaid")

ST_PAID, ST_PARTIAL, ST_HELD, ST_RETURNED, ST_UNCOLLECTED, ST_SUSPENDED, ST_STOPPED = range(7)
STATUSES = ("paid", "partial", "held", "returned", "uncollected", "suspended", "stopped")

MODE_ALL, MODE_PARTIAL, MODE_KEEP = 0, 1, 2

# why a credit failed and was returned (a record that does not match the population database is
# reported as a mismatch even when the account is also dormant: fixing the data comes first)
FC_NONE, FC_DATA_MISMATCH, FC_DORMANT, FC_OTHER = 0, 1, 2, 3
FAILED_CREDIT_CAUSES = ("none", "data_mismatch", "dormant_account", "other")
NO_DAY = -1


class ConservationError(AssertionError):
    """Money was created or lost: a bug, never an input problem."""


@dataclass
class MonthRecord:
    """Everything that happened to each beneficiary in one month (arrays over `rows`)."""

    month: int
    rows: np.ndarray  # indices of the beneficiaries with a row this month
    columns: dict[str, np.ndarray]
    ledger: dict[str, int]
    points: dict[str, np.ndarray]
    visits: list[dict]  # per day with visits: day (int), and kind, wait_min, outcome per visit
    funnel: dict[str, int]
    strategies: dict[str, int] = field(default_factory=dict)  # STRATEGY_COUNTS: counts, costs (VND)


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
        self.people = build_beneficiaries(self.geo, self.pop, self.communes, s, self.months)
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
            self.communes.remoteness_km = remoteness_km(self.communes.places, self.points, POST_OFFICE)
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
        self.home_takeup = self.people.home_eligible & s["collection.home_takeup"].bernoulli(
            a.collection.home_delivery_takeup, ids
        )
        shares = np.array([a.cashout.mode_shares.get(m, 0.0) for m in ("all_at_once", "partial", "keep_balance")])
        mode = s["cashout.mode"].categorical(shares, ids).astype(np.int8)
        # a balance kept for spending needs a phone to spend it with
        self.cashout_mode = np.where((mode == MODE_KEEP) & ~self.people.smartphone, MODE_ALL, mode)
        type_point = {"atm": ATM, "post_office": POST_OFFICE}
        self.point_kind_by_type = np.array(
            [type_point[a.cashout.point_by_account_type.get(t, "post_office")] for t in ACCOUNT_TYPES],
            np.int8,
        )
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
        self.point_fee_vnd = np.full(self.points.n, self.assume.costs.withdrawal_fee_vnd, np.int64)
        for placement in self.strategies.agents:
            stop = placement.first_point + placement.n_points
            self.point_fee_vnd[placement.first_point:stop] = placement.params.cashout_fee_vnd
        self.has_strategy_points = bool(self.strategies.placements)

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

    # ------------------------------------------------------------------ month start

    def begin_month(self, month: int) -> None:
        s, a, people = self.streams, self.assume, self.people
        ids = people.id
        n = people.n
        label = month_label(self.start, month)
        self.m = month
        self.ledger = dict.fromkeys(
            ("owed_start", "suspended_start", "entitled", "credited", "paid_cash_commune",
             "paid_cash_counter", "paid_home", "forfeited", "returned", "held",
             "balance_start", "withdrawn", "float_delivered", "float_paid", "float_returned",
             "paid_after_death", "recovered", "written_off", "after_death_start", "after_death_end"), 0)
        self.ledger["after_death_start"] = int(self.after_death_vnd.sum())
        self.ledger["owed_start"] = int(self.owed_vnd.sum())
        self.ledger["suspended_start"] = int(self.suspended_vnd.sum())
        self.ledger["balance_start"] = int(self.accounts.balance_vnd.sum())

        # suspended beneficiaries claim again, or are stopped (Circular 02/2021)
        susp = np.flatnonzero(self.state == SUSPENDED)
        resume = s["collection.resume"].bernoulli(a.collection.resume_prob, ids[susp], month)
        resume &= self.death_month[susp] < 0  # the dead do not claim again
        back = susp[resume]
        self.state[back] = ACTIVE
        self.owed_vnd[back] += self.suspended_vnd[back]
        self.suspended_vnd[back] = 0
        self.months_uncollected[back] = 0
        self.months_suspended[back] = 0
        still = susp[~resume]
        self.months_suspended[still] += 1
        stop = still[self.months_suspended[still] > self.run.stop_after_suspended_months]
        self.ledger["forfeited"] = int(self.suspended_vnd[stop].sum())
        self.suspended_vnd[stop] = 0
        self.state[stop] = STOPPED
        pop_counts = self._population_flows(month)

        self.rows = np.flatnonzero(self.state <= SUSPENDED)
        active = self.state == ACTIVE
        self.counts = dict.fromkeys(STRATEGY_COUNTS, 0)
        self.fee_vnd = np.zeros(n, np.int64)
        assist = self.strategies.account_help(
            month, self.accounts.status, active, self.counts,
            acc_mod.OPEN, acc_mod.APPLIED, acc_mod.DORMANT, acc_mod.NONE,
        )
        self.funnel = acc_mod.monthly_update(
            self.accounts, people, month, a.opening, a.account_life,
            self.rollout_month <= month, self.drive_contact_prob, active, s, assist,
        )
        self.funnel.update(pop_counts)
        self.drive_reached = self.drive_contact_prob > 0
        self.drive_contact_prob[:] = 0.0

        ent = np.where(active, entitlements(people, self.pop, label), 0)
        self.entitled_vnd = ent
        self.owed_vnd += ent
        self.ledger["entitled"] = int(ent.sum())
        self.owed_start_vnd = self.owed_vnd.copy()  # after the entitlement: what is due now

        # verification against the population database: unmatched records are held
        held_now = np.flatnonzero(self.db_mismatch & active)
        fixed = s["verification.fix"].bernoulli(a.verification.monthly_fix_prob, ids[held_now], month)
        self.db_mismatch[held_now[fixed]] = False
        if a.verification.monthly_mismatch_prob > 0:
            # records changed this month (address, ID, household) that the database no longer matches
            matched = np.flatnonzero(active & ~self.db_mismatch)
            changed = s["verification.record_change"].bernoulli(
                a.verification.monthly_mismatch_prob, ids[matched], month
            )
            self.db_mismatch[matched[changed]] = True
            self.funnel["records_changed"] = int(changed.sum())
        held = self.db_mismatch & active

        # per-month working columns
        self.channel = np.full(n, CH_NONE, np.int8)
        self.status = np.where(self.state == SUSPENDED, ST_SUSPENDED, ST_PAID).astype(np.int8)
        self.status[held] = ST_HELD
        self.paid_vnd = np.zeros(n, np.int64)
        self.day_in_hand = np.full(n, NO_DAY, np.int16)
        self.wait_min = np.zeros(n)
        self.travel_min = np.zeros(n)
        self.travel_vnd = np.zeros(n)  # money of the month's trips (by mode and distance)
        self.service_min = np.zeros(n)
        self.trips = np.zeros(n, np.int16)
        self.withdrawals = np.zeros(n, np.int16)
        self.withdrawn_vnd = np.zeros(n, np.int64)
        self.cash_transactions = np.zeros(n, np.int16)
        self.next_day = np.full(n, NO_DAY, np.int16)
        self.withdraw_day = np.full(n, NO_DAY, np.int16)
        self.withdraw_due = np.zeros(n, np.int64)
        self.failed_credit_cause = np.zeros(n, np.int8)  # FAILED_CREDIT_CAUSES

        payable = active & ~held & (self.owed_vnd > 0)
        acct = self.accounts
        self._close_cash(month, active)
        on_list = acct.registered & acct.has_account & ~self.fallback_cash
        self.fallback_cash[:] = False
        self.account_channel = np.flatnonzero(payable & on_list)
        cash = payable & ~on_list
        home = cash & self.home_takeup & ~self._no_proxy
        self.home = np.flatnonzero(home)
        self.channel[self.account_channel] = CH_ACCOUNT
        self.channel[self.home] = CH_HOME
        self.cash_list = np.flatnonzero(cash & ~home)
        self.channel[self.cash_list] = CH_CASH_PENDING
        self.status[cash] = ST_UNCOLLECTED  # until paid

        window = self.run.commune_window
        self.home_day = (
            window.first_day
            + s["collection.home_day"].integers(window.last_day - window.first_day + 1, ids[self.home], month)
        ).astype(np.int16)
        extra, extra_day = self.strategies.home_deliveries(
            month, self.cash_list, window.first_day, window.last_day, self.counts
        )
        if extra.size:
            self.home = np.concatenate([self.home, extra])
            self.home_day = np.concatenate([self.home_day, extra_day])
            self.channel[extra] = CH_HOME
            self.cash_list = self.cash_list[~np.isin(self.cash_list, extra)]
        cl = self.cash_list
        self._schedule_month(self.month_days(month))
        self._cash_owed_at = self._cash_owed_by(self.commune_point)
        self._owed_at_offices = False
        absent = s["collection.absent"].bernoulli(a.collection.monthly_absent_prob, ids[cl], month)
        absent |= self._no_proxy[cl]  # the dead collect nothing themselves
        late = s["collection.late"].bernoulli(self.run.schedule.late_share, ids[cl], month)
        delay = np.floor(s["collection.first_delay"].exponential(a.collection.mean_first_delay_days, ids[cl], month))
        # on time: the commune's first payment day, or (with several) the day the delay falls on;
        # late, or a commune the teams could not fit in: the counter window
        sched = self.sched_days[self.people.commune[cl]]
        n_sched = (sched != NO_DAY).sum(axis=1)
        pick = np.minimum(delay, np.maximum(n_sched - 1, 0)).astype(np.int64)
        on_day = sched[np.arange(cl.size), pick].astype(np.float64)
        counter_day = self.run.counter_window.first_day + delay
        first = np.where(late | (n_sched == 0), counter_day, on_day)
        self.next_day[cl] = np.where(absent, NO_DAY, self._into_windows(cl, first, 0)).astype(np.int16)
        self._cash_by_day: dict[int, list[np.ndarray]] = {}
        self._file_cash_trips(cl)

    def _population_flows(self, month: int) -> dict[str, int]:
        """New approvals arrive, people die, the population database learns of deaths after the
        lag (the person leaves the list; what was paid since the death is recovered from the
        account balance where it can be, the rest written off; what was still owed lapses), and
        stopped beneficiaries re-apply. Sets `_no_proxy`: the dead not yet detected whose cash no
        proxy collects this month."""
        counts = dict.fromkeys(POPULATION_COUNTS, 0)
        n = self.people.n
        self._no_proxy = np.zeros(n, bool)
        demo = self.pop.demography
        if demo is None:
            return counts
        s, ids, state = self.streams, self.people.id, self.state
        arriving = (state == PENDING) & (self.people.entry_month == month)
        state[arriving] = ACTIVE
        counts["entries"] = int(arriving.sum())

        alive = np.flatnonzero((self.death_month < 0) & (state <= STOPPED))
        dies = s["population.death"].bernoulli(self._death_p[alive], ids[alive], month)
        self.death_month[alive[dies]] = month
        counts["deaths"] = int(dies.sum())

        known = np.flatnonzero(
            (self.death_month >= 0) & (self.death_month + demo.detection_lag_months <= month) & (state <= STOPPED)
        )
        led, acct = self.ledger, self.accounts
        led["forfeited"] += int(self.owed_vnd[known].sum() + self.suspended_vnd[known].sum())
        self.owed_vnd[known] = 0
        self.suspended_vnd[known] = 0
        back = np.minimum(acct.balance_vnd[known], self.after_death_vnd[known])
        acct.balance_vnd[known] -= back
        led["recovered"] += int(back.sum())
        led["written_off"] += int((self.after_death_vnd[known] - back).sum())
        self.after_death_vnd[known] = 0
        state[known] = DEAD
        counts["deaths_detected"] = int(known.size)

        stopped = np.flatnonzero((state == STOPPED) & (self.death_month < 0))
        again = s["population.reapply"].bernoulli(demo.reapply_prob, ids[stopped], month)
        back_on = stopped[again]
        state[back_on] = ACTIVE
        self.months_uncollected[back_on] = 0
        self.months_suspended[back_on] = 0
        counts["reapplications"] = int(back_on.size)

        dead = np.flatnonzero((self.death_month >= 0) & (state <= SUSPENDED))
        proxy = s["population.proxy_collects"].bernoulli(demo.proxy_collect_share, ids[dead], month)
        self._no_proxy[dead[~proxy]] = True
        return counts

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

    def _close_cash(self, month: int, active: np.ndarray) -> None:
        """Cash closed to account holders: put every account holder on the account list (where
        the cashless rollout has started), and let failed credits be retried, not paid in cash."""
        closure = self.strategies.closure(month)
        if closure is None:
            return
        closed, fallback, exempt = closure
        district = self.people.district
        here = closed[district] & (self.rollout_month <= month)[district]
        acct = self.accounts
        exempted = exempt[district] & self.home_takeup
        movers = here & acct.has_account & ~acct.registered & active & ~exempted
        acct.registered[movers] = True
        self.counts["cash_closure_listed"] += int(movers.sum())
        self.fallback_cash[here & ~fallback[district] & ~exempted] = False

    def _schedule_month(self, days: list[dt.date]) -> None:
        """The month's announced schedule: each commune point's payment days and session hours,
        each commune's team, and the post offices' open days (trips are planned only on those).

        Sets `sched_days` (commune x days_per_commune, NO_DAY where unscheduled), `team_of`
        (commune -> team, -1 if unscheduled), `_office_next_day` (day of month -> the first post
        office open day on or after it in the counter window, NO_DAY if none), `_counter_open_days`
        and `_day_points` (the points with today's session hours)."""
        cw, kw, sch = self.run.commune_window, self.run.counter_window, self.run.schedule
        kinds = self.assume.points
        cp, po = kinds.commune_point, kinds.post_office
        window_days = np.array(
            [d.day for d in days if cw.first_day <= d.day <= cw.last_day and d.weekday() in cp.open_weekdays],
            np.int64,
        )
        com = self.communes
        n, per_commune, k = com.n, sch.days_per_commune, sch.communes_per_team_day
        offices = np.array([d.post_offices for d in self.geo.groups], np.int64)
        teams = offices * sch.teams_per_post_office
        first_commune = np.concatenate([[0], np.cumsum(np.bincount(com.district, minlength=offices.size))[:-1]])
        first_team = np.concatenate([[0], np.cumsum(teams)[:-1]])
        district = com.district.astype(np.int64)
        # communes in commune order, team by team: a team-day serves k sessions
        pos = np.arange(n) - first_commune[district]
        per_day = teams[district] * k
        block, slot = pos // per_day, pos % per_day
        session = slot // teams[district]
        start = block * per_commune
        sched = np.full((n, per_commune), NO_DAY, np.int16)
        for j in range(per_commune):
            at = start + j
            fits = at < window_days.size
            sched[fits, j] = window_days[at[fits]]
        self.sched_days = sched
        self.team_of = np.where(sched[:, 0] != NO_DAY, first_team[district] + slot % teams[district], -1)
        self.n_teams = int(teams.sum())

        # a day of k sessions: each closes early enough for the move to the next (at most half
        # the session goes on moving)
        span = (cp.close_min - cp.open_min) / k
        opens = cp.open_min + session * span
        closes = opens + np.where(session < k - 1, span - min(sch.move_min, span / 2), span)
        if k == 1:
            self._day_points = self.points
        else:
            open_min, close_min = self.points.open_min.copy(), self.points.close_min.copy()
            open_min[:n], close_min[:n] = opens, closes
            self._day_points = replace(self.points, open_min=open_min, close_min=close_min)

        office_open = np.zeros(len(days) + 2, bool)
        for d in days:
            office_open[d.day] = kw.first_day <= d.day <= kw.last_day and d.weekday() in po.open_weekdays
        nxt = np.full(office_open.size, NO_DAY, np.int64)
        following = NO_DAY
        for x in range(office_open.size - 1, -1, -1):
            following = x if office_open[x] else following
            nxt[x] = following
        self._office_next_day = nxt
        self._counter_open_days = int(office_open.sum())
        self._weekdays = np.array([d.weekday() for d in days], np.int64)
        # each point's next open weekday on or after each day of the month (NO_DAY: none left)
        is_open = self.points.open_weekday[:, self._weekdays]
        point_next = np.full((self.points.n, len(days) + 2), NO_DAY, np.int16)
        for x in range(len(days), 0, -1):
            point_next[:, x] = np.where(is_open[:, x - 1], x, point_next[:, x + 1])
        self._point_next_open = point_next
        self._counter_open_through = np.cumsum(office_open)
        self._paid_at = np.zeros(self.points.n)
        self._wd_month = np.zeros(self.points.n)
        self._wd_plan = np.zeros((self.points.n, len(days) + 1))
        self._cash_runs = 0
        # what the state pays bottom-up per point this month (zero in the fee model)
        self._staff_vnd = np.zeros(self.points.n, np.int64)
        self._transport_vnd = np.zeros(self.points.n, np.int64)
        self._is_office = self.points.kind == POST_OFFICE
        self._safe_vnd = np.zeros(self.points.n, np.int64)  # cash kept overnight in a post office's safe

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
        sched = self.sched_days[self.people.commune[idx]].astype(np.float64)
        sched[sched == NO_DAY] = np.inf
        nearest = np.where(sched >= day[:, None], sched, np.inf).min(axis=1) if idx.size else day
        on_schedule = np.isfinite(nearest)
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

    # ------------------------------------------------------------------ one day

    def run_day(self, day: dt.date) -> dict[str, np.ndarray]:
        """Credits, home deliveries and the day's trips to cash-out points."""
        d = day.day
        s, a, people = self.streams, self.assume, self.people
        self.day_serial += 1
        day_key = self.day_serial
        if d == self.run.run_start_day + 1:
            self._credit(d)
        if self.home.size:
            due = self.home[self.home_day == d]
            due = due[self.owed_vnd[due] > 0]
            self.paid_vnd[due] += self.owed_vnd[due]
            self.ledger["paid_home"] += int(self.owed_vnd[due].sum())
            self.owed_vnd[due] = 0
            self.day_in_hand[due] = d
            self.status[due] = ST_PAID

        filed = self._cash_by_day.pop(d, [])
        cash_today = np.sort(np.concatenate(filed)) if filed else np.empty(0, np.int64)
        cash_today = cash_today[self.next_day[cash_today] == d]  # ascending, as the list is
        wd_all = np.flatnonzero(self.withdraw_day == d)
        cw = self.run.commune_window
        in_commune_window = cw.first_day <= d <= cw.last_day
        cash_point = self.commune_point[cash_today] if in_commune_window else self.post_office[cash_today]
        wd_point = self._withdrawal_point(wd_all)
        who = np.concatenate([cash_today, wd_all])
        point = np.concatenate([cash_point, wd_point])
        demand = np.concatenate([self.owed_vnd[cash_today], self.withdraw_due[wd_all]])

        weekday = day.weekday()
        point_open, point_down = point_status(self.points, weekday, day_key, s, self._scheduled_today(d))
        float_vnd = self._floats(d, point_open)
        result = serve_day(
            self._day_points, point_open, point_down, float_vnd, point, people.id[who], demand, day_key,
            a.points.partial_payout, s, fine_grained=self.fine_grained,
        )

        travel, travel_vnd = one_way(
            people, who, self.points.local[point], self.points.kind[point] == ATM, a.costs.travel_cost_vnd_per_min or 0
        )
        if self.has_strategy_points:
            travel = travel * self.points.travel_factor[point]
            travel_vnd = travel_vnd * self.points.travel_factor[point]
        # `who` has no repeats: cash-list members and account holders cashing out are disjoint
        # sets, and each makes at most one trip a day, so plain fancy-index updates are exact
        self.trips[who] += 1
        self.travel_min[who] += 2.0 * travel
        self.travel_vnd[who] += 2.0 * travel_vnd
        self.wait_min[who] += result.wait_min
        self.service_min[who] += result.service_min
        paid = result.paid_vnd

        # cash recipients
        c = slice(0, cash_today.size)
        ci, cpaid = cash_today, paid[c]
        self.owed_vnd[ci] -= cpaid
        self._cash_owed_at -= np.bincount(cash_point, weights=cpaid, minlength=self.points.n)
        self.paid_vnd[ci] += cpaid
        got = cpaid > 0
        ci_got = ci[got]
        self.cash_transactions[ci_got] += 1
        where = CH_CASH_COMMUNE if in_commune_window else CH_CASH_COUNTER
        self.channel[ci_got] = where
        key = "paid_cash_commune" if in_commune_window else "paid_cash_counter"
        self.ledger[key] += int(cpaid.sum())
        done = self.owed_vnd[ci] == 0
        ci_done = ci[done]
        self.status[ci_done] = ST_PAID
        self.status[ci[got & ~done]] = ST_PARTIAL
        self.day_in_hand[ci_done] = d
        self.next_day[ci_done] = NO_DAY
        self._enrol_on_chip_id(ci_done)
        again = ci[~done]
        self._plan_retry(again, d, self.next_day)
        self._file_cash_trips(again)

        # account holders cashing out
        w = slice(cash_today.size, None)
        wi, wpaid = wd_all, paid[w]
        self.accounts.withdraw(wi, wpaid)
        self.withdrawn_vnd[wi] += wpaid
        self.ledger["withdrawn"] += int(wpaid.sum())
        self._wd_month += np.bincount(wd_point, weights=wpaid, minlength=self.points.n)
        self._paid_at += np.bincount(point, weights=paid, minlength=self.points.n)
        self.withdraw_due[wi] -= wpaid
        self.withdrawals[wi[wpaid > 0]] += 1
        self._charge_fees(wi[wpaid > 0], wd_point[wpaid > 0])
        finished = self.withdraw_due[wi] == 0
        first_cash = finished & (self.day_in_hand[wi] == NO_DAY)
        self.day_in_hand[wi[first_cash]] = d
        self.withdraw_day[wi[finished]] = NO_DAY
        self._plan_retry(wi[~finished], d, self.withdraw_day)

        delivered, returned = self._office_safes(result)
        self.ledger["float_delivered"] += int(delivered.sum())
        self.ledger["float_paid"] += int(paid.sum())
        self.ledger["float_returned"] += int(returned.sum())
        self._point_days.append((d, result, point))
        self._delivered_days.append(delivered)
        return {}

    def _office_safes(self, result: DayService) -> tuple[np.ndarray, np.ndarray]:
        """Cash delivered to and returned from each point today. A post office keeps the evening's
        cash in its safe: the next morning only the top-up to the day's plan is delivered (a surplus
        over the plan goes back), and what is in the safe at the month's end is returned then
        (`_empty_safes`). Every other point gets its whole day's cash and returns what is left.
        Charges the bottom-up cost of a post office's delivery."""
        on_hand, left = result.float_vnd, result.float_left_vnd
        office = self._is_office & result.point_open  # a closed office keeps its safe as it is
        kept = np.where(office, self._safe_vnd, 0)
        delivered = np.where(office, np.maximum(on_hand - kept, 0), on_hand)
        returned = np.where(office, np.maximum(kept - on_hand, 0), left)
        self._safe_vnd = np.where(office, left, self._safe_vnd)
        costs = self.assume.costs
        if costs.model == "bottom_up":
            self._transport_vnd += np.where(office & (delivered > 0), costs.cash_transport_per_point_day_vnd, 0)
        return delivered, returned

    def _empty_safes(self) -> None:
        """At the month's end the post offices return the cash left in their safes."""
        self.ledger["float_returned"] += int(self._safe_vnd.sum())
        self._safe_vnd[:] = 0

    def _charge_fees(self, who: np.ndarray, point: np.ndarray) -> None:
        """Cash-out fees: the beneficiary pays the point's fee, unless a waiver has the state
        pay it."""
        fee = self.point_fee_vnd[point]
        waived = self.strategies.waived(self.m, who, self.accounts.type[who])
        self.fee_vnd[who] += np.where(waived, 0, fee)
        self.counts["fees_waived_vnd"] += int(fee[waived].sum())

    def _enrol_on_chip_id(self, paid: np.ndarray) -> None:
        """Chip ID as the payment card: enrol the ID holders who agree, where they were paid."""
        if paid.size == 0:
            return
        acct = self.accounts
        schemes = self.strategies.chip_id_enrolment(
            self.m, paid, acct.has_account, acct.registered, acct.status == acc_mod.NONE,
            acct.chip_id,
        )
        for scheme, new, linked in schemes:
            # keyed by the ID number, the account matches the population database by construction
            acct.status[new] = acc_mod.OPEN
            acct.type[new] = ACCOUNT_TYPES.index(scheme.account_type)
            acct.mismatch[new] = False
            acct.registered[new] = True
            acct.status[linked] = acc_mod.OPEN  # a dormant account is used again once linked
            acct.mismatch[linked] = False
            acct.registered[linked] = True
            self.counts["chip_id_enrolled"] += int(new.size)
            self.counts["chip_id_linked"] += int(linked.size)
            enrolments = int(new.size) + int(linked.size)
            self.counts["chip_id_vnd"] += enrolments * scheme.cost_per_enrolment_vnd

    def _cash_owed_by(self, point_of: np.ndarray) -> np.ndarray:
        """Cash still owed to the cash list, summed by each member's point of the window (sums of
        integer VND below 2**53: float64 holds them exactly). Kept up to date as cash is paid."""
        cl = self.cash_list
        return np.bincount(point_of[cl], weights=self.owed_vnd[cl], minlength=self.points.n)

    def _withdrawal_point(self, idx: np.ndarray) -> np.ndarray:
        """Where account holders cash out: by account type, or a strategy's local point."""
        kind = self.point_kind_by_type[self.accounts.type[idx]]
        point = np.where(kind == ATM, self.atm[idx], self.post_office[idx])
        if self.has_strategy_points:
            local = self.strategies.local_points(idx, self.accounts.type[idx])
            point = np.where(local >= 0, local, point)
        return point

    def _withdrawal_days(self, idx: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Cash-out trips move to the first day on or after `day` that the point opens on (its
        weekdays; downtime cannot be foreseen), or to none if it opens no more this month."""
        table = self._point_next_open
        at = np.minimum(np.asarray(day, np.int64), table.shape[1] - 1)
        return table[self._withdrawal_point(idx), at]

    def _floats(self, d: int, point_open: np.ndarray) -> np.ndarray:
        """Cash delivered to each point today, from what the planner knows before the day (never
        the day's own visitors): fixed, or planned and rounded up to 100,000 VND.

        * a commune point on its payment day: the cash still owed to its cash list (everyone
          scheduled there), times the cover factor;
        * every other point tops its cash up to the plan so far, times the cover factor, less
          what it has paid out this month (cash planned and not yet paid is still there). The
          plan: for withdrawals, at every kind of point alike, the month's expected withdrawals
          there by the day (`_plan_withdrawals`); at a post office in the counter window, the
          cash owed to its cash list when the window opens, spread evenly over its open days.
        The commune points' cash then goes by escorted run, within the run limits."""
        pts = self.points
        fixed = pts.fixed_float_vnd
        cw, kw = self.run.commune_window, self.run.counter_window
        planned = self._wd_plan[:, d].copy()  # cumulative, to the end of today
        communes = self.communes.n
        if kw.first_day <= d <= kw.last_day:
            if not self._owed_at_offices:
                # the counter window opens: what is still owed, now by post office
                self._cash_owed_at = self._cash_owed_by(self.post_office)
                self._counter_plan = self._cash_owed_at / max(self._counter_open_days, 1)
                self._owed_at_offices = True
            planned += self._counter_plan * self._counter_open_through[d]
        # cash on hand tops up to the plan so far: what was planned and not yet paid out is there
        expected = np.maximum(planned * pts.float_cover - self._paid_at, 0.0)
        if cw.first_day <= d <= cw.last_day:
            expected[:communes] = self._cash_owed_at[:communes] * pts.float_cover[:communes]
        sized = np.ceil(expected / 100_000.0).astype(np.int64) * 100_000
        if self.has_strategy_points:
            sized = np.where(pts.float_cap_vnd >= 0, np.minimum(sized, pts.float_cap_vnd), sized)
        out = np.where(point_open, np.where(fixed >= 0, fixed, sized), 0)
        if cw.first_day <= d <= cw.last_day:
            out[:communes] = self._cash_in_transit(out[:communes])
        return out

    def _cash_in_transit(self, cash: np.ndarray) -> np.ndarray:
        """The commune points' cash as their teams' escorted runs carry it: a team-day carries at
        most `runs_per_team_day` runs of `max_vnd_per_run`; above that every commune of the team
        gets the same share of its plan (rounded down to 100,000 VND). Counts the runs."""
        cit = self.run.cash_in_transit
        team = self.team_of
        has = (cash > 0) & (team >= 0)
        if not has.any():
            return cash
        total = np.bincount(team[has], weights=cash[has], minlength=self.n_teams)
        limit = float(cit.max_vnd_per_run) * cit.runs_per_team_day
        over = total > limit
        if over[team[has]].any():
            share = np.where(over, limit / np.maximum(total, 1.0), 1.0)
            cut = has & over[np.maximum(team, 0)]
            cash = cash.copy()
            cash[cut] = np.floor(cash[cut] * share[team[cut]] / 100_000.0).astype(np.int64) * 100_000
            total = np.bincount(team[has], weights=cash[has], minlength=self.n_teams)
        runs = np.ceil(total / float(cit.max_vnd_per_run)).astype(np.int64)
        self._cash_runs += int(runs.sum())
        costs = self.assume.costs
        if costs.model == "bottom_up":
            # a team-day is paid once, however many communes it serves; its staff and its runs'
            # cost are split over those communes to the dong (the remainder to the first)
            communes = np.flatnonzero(has)
            of = team[communes]
            sessions = np.bincount(of, minlength=self.n_teams)
            staff = np.where(sessions > 0, costs.staff_per_team_day_vnd, 0)
            _split(staff, of, communes, sessions, self._staff_vnd)
            _split(runs * cit.cost_per_run_vnd, of, communes, sessions, self._transport_vnd)
        return cash

    def _plan_withdrawals(self, d: int, cashers: np.ndarray) -> None:
        """Plan the month's withdrawal cash per point and day, on the credit day `d`.

        The month's total at a point is last month's withdrawals there; where there were none
        (the first month, a new point, the rollout's first month) it is the account holders
        credited today who cash out there, times the expected withdrawal (the scenario's
        cash-out mode shares). It is spread over the days by the expected cash-out delay from the
        credit, a closed day's share moving to the point's next open day."""
        a, pts = self.assume.cashout, self.points
        n_days = self._wd_plan.shape[1] - 1
        shares = a.mode_shares
        fraction = shares.get("all_at_once", 0.0) + shares.get("partial", 0.0) * a.partial_fraction
        listed = np.bincount(
            self._withdrawal_point(cashers), weights=self.accounts.balance_vnd[cashers] * fraction, minlength=pts.n
        )
        total = np.where(self._wd_last > 0, self._wd_last, listed)
        # the delay's distribution: floor(exponential(mean)) days after the credit, capped at month end
        k = np.arange(n_days - d + 1)
        mean = self.assume.cashout.mean_delay_days
        with np.errstate(over="ignore"):  # a mean far below a day puts all the mass on day 0, as it should
            mass = np.exp(-k / mean) - np.exp(-(k + 1) / mean) if mean > 0 else (k == 0).astype(np.float64)
        mass[-1] += 1.0 - mass.sum()
        profile = np.zeros(n_days + 1)
        profile[d:] = mass
        plan = np.outer(total, profile)
        is_open = pts.open_weekday[:, self._weekdays]  # points x days 1..n_days
        # a closed day's share waits for the next open day; the plan is kept cumulative
        carry = np.zeros(pts.n)
        for x in range(1, n_days + 1):
            here = plan[:, x] + carry
            open_x = is_open[:, x - 1]
            plan[:, x] = np.where(open_x, here, 0.0)
            carry = np.where(open_x, 0.0, here)
        self._wd_plan = np.cumsum(plan, axis=1)

    def _plan_retry(self, idx: np.ndarray, d: int, plan: np.ndarray) -> None:
        if idx.size == 0:
            return
        s, c = self.streams, self.assume.collection
        ids = self.people.id[idx]
        tries = self.trips[idx]
        again = s["collection.retry"].bernoulli(c.retry_prob, ids, self.m, tries)
        delay = np.floor(s["collection.retry_delay"].exponential(c.mean_retry_delay_days, ids, self.m, tries))
        nxt = d + 1 + delay
        if plan is self.next_day:
            nxt = self._into_windows(idx, nxt, int(d))
        else:
            nxt = self._withdrawal_days(idx, nxt)
        plan[idx] = np.where(again, nxt, NO_DAY).astype(np.int16)

    def _credit(self, d: int) -> None:
        s, a = self.streams, self.assume
        idx = self.account_channel
        acct = self.accounts
        ok = (acct.status[idx] == acc_mod.OPEN) & ~acct.mismatch[idx]
        good, bad = idx[ok], idx[~ok]
        amount = self.owed_vnd[good]
        acct.credit(good, amount)
        self.paid_vnd[good] += amount
        self.owed_vnd[good] = 0
        self.ledger["credited"] += int(amount.sum())
        self.status[good] = ST_PAID
        # a failed credit is returned; the beneficiary falls back to cash next month
        self.status[bad] = ST_RETURNED
        self.ledger["returned"] += int(self.owed_vnd[bad].sum())
        self.fallback_cash[bad] = True
        acct.registered[bad] = False
        self.failed_credit = bad
        self.failed_credit_cause[bad] = np.where(
            acct.mismatch[bad], FC_DATA_MISMATCH, np.where(acct.status[bad] == acc_mod.DORMANT, FC_DORMANT, FC_OTHER)
        )

        mode = self.cashout_mode[good]
        keep = good[mode == MODE_KEEP]
        self.day_in_hand[keep] = d
        cashers = good[mode != MODE_KEEP]
        part = self.cashout_mode[cashers] == MODE_PARTIAL
        balance = acct.balance_vnd[cashers]
        portion = (balance * a.cashout.partial_fraction // 1000 * 1000).astype(np.int64)
        self.withdraw_due[cashers] = np.where(part, np.maximum(portion, np.minimum(balance, 1000)), balance)
        delay = np.floor(
            s["cashout.delay"].exponential(a.cashout.mean_delay_days, self.people.id[cashers], self.m)
        )
        self.withdraw_day[cashers] = self._withdrawal_days(cashers, np.minimum(d + delay, len(self._days)))
        self._plan_withdrawals(d, cashers)

    # ------------------------------------------------------------------ month end

    def end_month(self) -> MonthRecord:
        month = self.m
        cl = self.cash_list
        unpaid = cl[self.status[cl] == ST_UNCOLLECTED]
        collected = np.concatenate([cl[self.status[cl] != ST_UNCOLLECTED], self.home, self.account_channel])
        self.months_uncollected[collected] = 0
        self.months_uncollected[unpaid] += 1
        suspend = unpaid[self.months_uncollected[unpaid] >= self.run.suspend_after_months]
        self.state[suspend] = SUSPENDED
        self.suspended_vnd[suspend] += self.owed_vnd[suspend]
        self.owed_vnd[suspend] = 0
        self.months_suspended[suspend] = 0
        self.channel[cl[self.status[cl] == ST_UNCOLLECTED]] = CH_NONE
        self.channel[cl[self.channel[cl] == CH_CASH_PENDING]] = CH_NONE

        led = self.ledger
        self._empty_safes()
        led["held"] = int(self.owed_vnd[self.status == ST_HELD].sum())
        led["owed_end"] = int(self.owed_vnd.sum())
        led["suspended_end"] = int(self.suspended_vnd.sum())
        led["balance_end"] = int(self.accounts.balance_vnd.sum())
        dead = (self.death_month >= 0) & (self.state <= SUSPENDED)
        self.after_death_vnd[dead] += self.paid_vnd[dead]
        led["paid_after_death"] = int(self.paid_vnd[dead].sum())
        led["after_death_end"] = int(self.after_death_vnd.sum())
        self.check_ledger(led)

        rows = self.rows
        people, acct = self.people, self.accounts
        everyone = rows.size == people.n

        def month_only(a: np.ndarray) -> np.ndarray:
            # arrays made afresh each month can be handed over without a copy when no one is
            # left out; state that lives on (accounts) is always copied
            return a if everyone else a[rows]

        columns = {
            "entitled_vnd": month_only(self.entitled_vnd),
            "due_vnd": month_only(self.owed_start_vnd),
            "paid_vnd": month_only(self.paid_vnd),
            "owed_end_vnd": self.owed_vnd[rows] + self.suspended_vnd[rows],
            "channel": month_only(self.channel),
            "status": month_only(self.status),
            "day_in_hand": month_only(self.day_in_hand),
            "trips": month_only(self.trips),
            "travel_min": month_only(self.travel_min),
            "travel_vnd": month_only(self.travel_vnd),
            "wait_min": month_only(self.wait_min),
            "service_min": month_only(self.service_min),
            "withdrawals": month_only(self.withdrawals),
            "withdrawn_vnd": month_only(self.withdrawn_vnd),
            "cash_transactions": month_only(self.cash_transactions),
            "account_status": acct.status[rows].copy(),
            "account_type": acct.type[rows].copy(),
            "registered": acct.registered[rows].copy(),
            "balance_vnd": acct.balance_vnd[rows].copy(),
            "drive_reached": month_only(self.drive_reached),
            "fee_vnd": month_only(self.fee_vnd),  # cash-out fees the beneficiary paid (waived ones not)
            "failed_credit_cause": month_only(self.failed_credit_cause),  # FAILED_CREDIT_CAUSES
        }
        points = self._summarise_points()
        visits = self._visits()
        self.counts["cash_in_transit_runs"] = self._cash_runs
        self.counts["cash_in_transit_cost_vnd"] = self._cash_runs * self.run.cash_in_transit.cost_per_run_vnd
        self._wd_last = self._wd_month
        self.strategies.month_costs(month, self.counts)
        return MonthRecord(
            month, rows, columns, dict(led), points, visits, dict(self.funnel), dict(self.counts)
        )

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
        if led["float_delivered"] != led["float_paid"] + led["float_returned"]:
            problems.append("cash floats: delivered != paid + returned")
        if led["float_paid"] != led["paid_cash_commune"] + led["paid_cash_counter"] + led["withdrawn"]:
            problems.append("cash floats: paid out != cash payments + withdrawals")
        if (self.owed_vnd < 0).any() or (self.accounts.balance_vnd < 0).any():
            problems.append("negative amount owed or balance")
        if problems:
            raise ConservationError(f"month {self.m}: " + "; ".join(problems))

    # ------------------------------------------------------------------ records

    def start_days(self, month: int) -> list[dt.date]:
        self._days = self.month_days(month)
        self._point_days = []
        self._delivered_days: list[np.ndarray] = []
        return self._days

    def _summarise_points(self) -> dict[str, np.ndarray]:
        """Per point and month: days open and down, visits, cash delivered (new cash, counted once)
        and paid, and what the state pays the point bottom-up (staff, cash transport)."""
        pts = self.points
        n = pts.n
        open_days = np.zeros(n, np.int16)
        down_days = np.zeros(n, np.int16)
        float_days = np.zeros(n, np.int16)
        visits = np.zeros(n, np.int64)
        served = np.zeros(n, np.int64)
        paid = np.zeros(n, np.int64)
        delivered = np.zeros(n, np.int64)
        wait = np.zeros(n)
        for (_d, res, point), new_cash in zip(self._point_days, self._delivered_days, strict=True):
            open_days += res.point_open
            down_days += res.point_down
            float_days += new_cash > 0
            delivered += new_cash
            visits += np.bincount(point, minlength=n)
            served += np.bincount(point, weights=res.outcome <= PAID_PART, minlength=n).astype(np.int64)
            paid += np.bincount(point, weights=res.paid_vnd, minlength=n).round().astype(np.int64)
            wait += np.bincount(point, weights=res.wait_min, minlength=n)
        return {
            "point": np.arange(n, dtype=np.int64),
            "kind": pts.kind,
            "district": pts.district,
            "open_days": open_days,
            "down_days": down_days,
            "float_days": float_days,
            "visits": visits,
            "served": served,
            "paid_vnd": paid,
            "float_vnd": delivered,
            "wait_min_total": wait,
            "staff_cost_vnd": self._staff_vnd.copy(),
            "cash_transport_cost_vnd": self._transport_vnd.copy(),
        }

    def _visits(self) -> list[dict]:
        """Every trip of the month, day by day: point kind, wait and outcome (for wait statistics).
        Kept per day, not joined: the month's visits number in the millions nationally."""
        return [
            {"day": int(d), "kind": self.points.kind[p], "wait_min": r.wait_min,
             "outcome": r.outcome}
            for d, r, p in self._point_days
            if p.size
        ]


def _split(total: np.ndarray, group: np.ndarray, items: np.ndarray, size: np.ndarray, out: np.ndarray) -> None:
    """Add each group's integer `total` to its `items` (ascending; `group` per item, `size` per
    group) in equal shares to the dong, the remainder to the group's first item."""
    if items.size == 0:
        return
    share = total // np.maximum(size, 1)
    out[items] += share[group]
    _, first = np.unique(group, return_index=True)
    head = group[first]
    out[items[first]] += total[head] - share[head] * size[head]


def _months_between(start: str, month: str) -> int:
    from welfare_sim.models.params import month_offset

    return month_offset(start, month)


__all__ = [
    "CHANNELS", "STATUSES", "FAILED_CREDIT_CAUSES", "Province", "MonthRecord", "ConservationError",
    "NO_CASH", "NOT_REACHED", "PAID_FULL",
]
