"""The payment month, stage by stage, and the driver that runs the stages in order.

A month runs its stages in this order (`STAGES`); each stage has up to three phases, run by the
driver for every stage in order: `start` (the month's first morning), `day` (every day of the
month) and `end` (the month's last evening):

1. funnel: suspended beneficiaries claim again or are stopped, the population moves (entries,
   deaths), and the account funnel moves (applications, openings, dormancy);
2. entitlement: the month's entitlement is added to what each beneficiary is owed;
3. verification: the payment list is checked against the population database; unmatched
   records are held;
4. channel split: the list splits into the account channel, home delivery and the cash list;
5. credits: account credits land the day after the run starts; a failed credit is returned and
   the beneficiary falls back to cash next month;
6. cash planning: the announced schedule (commune points' payment days, teams), each cash list
   member's first trip day, and each day's cash at every point, planned from what the planner
   knows before the day (the cash list, last month's withdrawals), never the day's own demand;
7. cash-out: the day's trips to the cash-out points (cash recipients and account holders),
   queues, payments, fees and retries;
8. home delivery: cash brought home on its day;
9. reconciliation: unpaid cash recipients count a month uncollected and are suspended after
   `suspend_after_months`; the month is reconciled to the dong and recorded.

Each stage works on the province (`Province` in models/payment_run.py), which holds the state that
lives from month to month and the month's working arrays; each stage's docstring says what it
reads and what it writes. The strategies attach to the stages they change through the hook
registry (`models/month/hooks.py`), set up once when the province is built.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import numpy as np

from welfare_sim.models import accounts as acc_mod
from welfare_sim.models import outlets
from welfare_sim.models.behaviour import generalised_cost_vnd
from welfare_sim.models.cashout import ATM, FAILED, PAID_PART, DayService, point_status, serve_day
from welfare_sim.models.demography import age_group_at, monthly_death_prob
from welfare_sim.models.interventions import STRATEGY_COUNTS, AccountHelp
from welfare_sim.models.month.common import (
    ACTIVE,
    CH_ACCOUNT,
    CH_CASH_COMMUNE,
    CH_CASH_COUNTER,
    CH_CASH_PENDING,
    CH_HOME,
    CH_NONE,
    DEAD,
    FC_DATA_MISMATCH,
    FC_DORMANT,
    FC_OTHER,
    MODE_KEEP,
    MODE_PARTIAL,
    NO_DAY,
    PENDING,
    POPULATION_COUNTS,
    ST_HELD,
    ST_PAID,
    ST_PARTIAL,
    ST_RETURNED,
    ST_SUSPENDED,
    ST_UNCOLLECTED,
    STOPPED,
    SUSPENDED,
    MonthRecord,
)
from welfare_sim.models.month.hooks import STAGE_NAMES
from welfare_sim.models.params import ACCOUNT_TYPES, month_label
from welfare_sim.models.population import one_way
from welfare_sim.models.programmes import programme_amounts
from welfare_sim.models.queueing import _KERNEL, numba

# The state every stage works on is models.payment_run.Province. It is named here, not imported:
# payment_run imports this module to drive the month, and the stages must not import it back.
Province = Any

# the account codes a strategy's funnel hook needs: open, applied, dormant, none
ACCOUNT_CODES = (acc_mod.OPEN, acc_mod.APPLIED, acc_mod.DORMANT, acc_mod.NONE)
LEDGER_KEYS = (
    "owed_start", "suspended_start", "entitled", "credited", "paid_cash_commune",
    "paid_cash_counter", "paid_home", "forfeited", "returned", "held",
    "balance_start", "withdrawn", "float_delivered", "float_paid", "float_paid_others", "float_returned",
    "paid_after_death", "recovered", "written_off", "after_death_start", "after_death_end",
)


class Stage:
    """One stage of the month; a phase it has nothing to do in is left as it is here."""

    name = ""

    def start(self, p: Province) -> None:
        """The month's first morning."""

    def day(self, p: Province, day: dt.date) -> None:
        """One day of the month."""

    def end(self, p: Province) -> None:
        """The month's last evening."""


# ---------------------------------------------------------------------------- 1. funnel


class Funnel(Stage):
    """Who is on the list this month, and their accounts.

    Reads: `state`, `death_month`, `suspended_vnd`, `months_suspended`, the accounts,
    `drive_contact_prob` (set by the drives' processes), `rollout_month`.
    Writes: `state`, `owed_vnd` (resumed claims), `suspended_vnd`, `months_uncollected`,
    `months_suspended`, the ledger's `forfeited`, `recovered`, `written_off`, `after_death_vnd`,
    `_no_proxy`, `rows`, `counts`, `fee_vnd`, the accounts, `funnel`, `drive_reached`; people age
    (`people.age_group`, and what follows it: `home_takeup`, `_death_p`); `arrived` (joined this month).
    Hooks: `account_help` (digital teams, fee waivers): changes to the month's funnel;
    `enrolment` (accounts opened at enrolment): accounts for the month's new approvals."""

    name = "funnel"

    def start(self, p: Province) -> None:
        s, a, people = p.streams, p.assume, p.people
        ids = people.id
        month = p.m
        # suspended beneficiaries claim again, or are stopped (Circular 02/2021)
        susp = np.flatnonzero(p.state == SUSPENDED)
        resume = s["collection.resume"].bernoulli(a.collection.resume_prob, ids[susp], month)
        resume &= p.death_month[susp] < 0  # the dead do not claim again
        back = susp[resume]
        p.state[back] = ACTIVE
        p.owed_vnd[back] += p.suspended_vnd[back]
        p.suspended_vnd[back] = 0
        p.months_uncollected[back] = 0
        p.months_suspended[back] = 0
        still = susp[~resume]
        p.months_suspended[still] += 1
        stop = still[p.months_suspended[still] > p.run.stop_after_suspended_months]
        p.ledger["forfeited"] = int(p.suspended_vnd[stop].sum())
        p.suspended_vnd[stop] = 0
        p.state[stop] = STOPPED
        pop_counts = _population_flows(p, month)

        p.rows = np.flatnonzero(p.state <= SUSPENDED)
        active = p.state == ACTIVE
        p.counts = dict.fromkeys(STRATEGY_COUNTS, 0)
        _open_at_enrolment(p, month)
        p.fee_vnd = np.zeros(people.n, np.int64)
        assist = AccountHelp()
        for hook in p.hooks.get("funnel", "account_help"):
            hook(month, p.accounts.status, active, p.counts, assist, ACCOUNT_CODES)
        p.funnel = acc_mod.monthly_update(
            p.accounts, people, month, a.opening, a.account_life,
            p.rollout_month <= month, p.drive_contact_prob, active, s, None if assist.empty() else assist,
        )
        p.funnel.update(pop_counts)
        p.drive_reached = p.drive_contact_prob > 0
        p.drive_contact_prob[:] = 0.0


# ---------------------------------------------------------------------------- 2. entitlement


class Entitlement(Stage):
    """The month's entitlement of every active beneficiary.

    Reads: `state`, the people, the population's benefit rules. Writes: `entitled_vnd`,
    `second_vnd` (everyone's second-programme amount, for the record), `owed_vnd`, `owed_start_vnd`
    (what is due this month), the ledger's `entitled`."""

    name = "entitlement"

    def start(self, p: Province) -> None:
        active = p.state == ACTIVE
        first, second = programme_amounts(p.people, p.pop, month_label(p.start, p.m), p.m)
        ent = np.where(active, first + second, 0)  # all programmes, integer VND
        p.entitled_vnd = ent
        p.second_vnd = second  # everyone's second programme's amount, for the record's split by programme
        p.owed_vnd += ent
        p.ledger["entitled"] = int(ent.sum())
        p.owed_start_vnd = p.owed_vnd.copy()  # after the entitlement: what is due now


# ---------------------------------------------------------------------------- 3. verification


class Verification(Stage):
    """The payment list against the population database: unmatched records are held.

    Reads: `state`, `db_mismatch`. Writes: `db_mismatch`, `funnel["records_changed"]`, `held`,
    and the month's working columns (`channel`, `status`, `paid_vnd`, `day_in_hand`, trips, waits,
    withdrawals, `next_day`, `withdraw_day`, `withdraw_due`, `failed_credit_cause`)."""

    name = "verification"

    def start(self, p: Province) -> None:
        s, a, ids, month = p.streams, p.assume, p.people.id, p.m
        active = p.state == ACTIVE
        held_now = np.flatnonzero(p.db_mismatch & active)
        fixed = s["verification.fix"].bernoulli(a.verification.monthly_fix_prob, ids[held_now], month)
        p.db_mismatch[held_now[fixed]] = False
        if a.verification.monthly_mismatch_prob > 0:
            # records changed this month (address, ID, household) that the database no longer matches
            matched = np.flatnonzero(active & ~p.db_mismatch)
            changed = s["verification.record_change"].bernoulli(
                a.verification.monthly_mismatch_prob, ids[matched], month
            )
            p.db_mismatch[matched[changed]] = True
            p.funnel["records_changed"] = int(changed.sum())
        p.held = p.db_mismatch & active

        n = p.people.n
        p.channel = np.full(n, CH_NONE, np.int8)
        p.status = np.where(p.state == SUSPENDED, ST_SUSPENDED, ST_PAID).astype(np.int8)
        p.status[p.held] = ST_HELD
        p.paid_vnd = np.zeros(n, np.int64)
        p.day_in_hand = np.full(n, NO_DAY, np.int16)
        p.wait_min = np.zeros(n)
        p.travel_min = np.zeros(n)
        # money of the month's trips, by mode and distance; without places the recorder prices the minutes
        p.travel_vnd = np.zeros(n) if p.people.travel_commune_vnd is not None else None
        p.service_min = np.zeros(n)
        p.trips = np.zeros(n, np.int16)
        p.withdrawals = np.zeros(n, np.int16)
        p.withdrawn_vnd = np.zeros(n, np.int64)
        p.cash_transactions = np.zeros(n, np.int16)
        p.next_day = np.full(n, NO_DAY, np.int16)
        p.withdraw_day = np.full(n, NO_DAY, np.int16)
        p.withdraw_due = np.zeros(n, np.int64)
        p.failed_credit_cause = np.zeros(n, np.int8)  # FAILED_CREDIT_CAUSES
        p.atm_failures = np.zeros(n, np.int16)  # cash-out visits that failed (card, PIN, literacy)
        p.home_cashouts = np.zeros(n, np.int16)  # withdrawals the home cash-out service brought
        p._trip_cost_vnd = np.zeros(n)  # generalised cost of each person's latest trip
        p._home_cashout = np.zeros(0, np.int64)
        p._home_cashout_day = np.zeros(0, np.int64)


# ---------------------------------------------------------------------------- 4. channel split


class ChannelSplit(Stage):
    """The payable split into the account channel, home delivery and the cash list.

    Reads: `state`, `held`, `owed_vnd`, the accounts' listing, `fallback_cash`, `home_takeup`,
    `_no_proxy`. Writes: `account_channel`, `home`, `home_day`, `cash_list`, `channel`, `status`
    (cash: uncollected until paid), `fallback_cash` (used up), the accounts' listing (closure).
    Hooks: `closure` (cash closed to account holders), `home_delivery` (couriers take cash-list
    members home)."""

    name = "channel_split"

    def start(self, p: Province) -> None:
        s, ids, month = p.streams, p.people.id, p.m
        active = p.state == ACTIVE
        payable = active & ~p.held & (p.owed_vnd > 0)
        acct = p.accounts
        for hook in p.hooks.get("channel_split", "closure"):
            _close_cash(p, hook(month), active)
        on_list = acct.registered & acct.has_account & ~p.fallback_cash
        p.fallback_cash[:] = False
        p.account_channel = np.flatnonzero(payable & on_list)
        cash = payable & ~on_list
        home = cash & p.home_takeup & ~p._no_proxy
        p.home = np.flatnonzero(home)
        p.channel[p.account_channel] = CH_ACCOUNT
        p.channel[p.home] = CH_HOME
        p.cash_list = np.flatnonzero(cash & ~home)
        p.channel[p.cash_list] = CH_CASH_PENDING
        p.status[cash] = ST_UNCOLLECTED  # until paid

        window = p.run.commune_window
        couriers = p.assume.home.couriers_per_district
        if couriers is None:
            p.home_day = (
                window.first_day
                + s["collection.home_day"].integers(window.last_day - window.first_day + 1, ids[p.home], month)
            ).astype(np.int16)
        else:
            p.home_day = outlets.courier_days(
                p.people.district[p.home], s["collection.home_day"].uniform(ids[p.home], month),
                window.first_day, window.last_day, couriers * p.assume.home.deliveries_per_courier_day, NO_DAY,
            )
        for hook in p.hooks.get("channel_split", "home_delivery"):
            extra, extra_day = hook(month, p.cash_list, window.first_day, window.last_day, p.counts)
            if extra.size:
                p.home = np.concatenate([p.home, extra])
                p.home_day = np.concatenate([p.home_day, extra_day])
                p.channel[extra] = CH_HOME
                p.cash_list = p.cash_list[~np.isin(p.cash_list, extra)]


# ---------------------------------------------------------------------------- 5. credits


class Credits(Stage):
    """Account credits, the day after the run starts.

    Reads: `account_channel`, the accounts, `owed_vnd`, `cashout_mode`. Writes: the accounts'
    balances (and listing: a failed credit is taken off), `paid_vnd`, `owed_vnd`, `status`,
    `fallback_cash`, `failed_credit`, `failed_credit_cause`, the ledger's `credited` and
    `returned`, `day_in_hand` (those who keep the balance), `withdraw_due`, `withdraw_day`,
    `cashers` (who will cash out: for the cash planning)."""

    name = "credits"

    def start(self, p: Province) -> None:
        p.cashers = None

    def day(self, p: Province, day: dt.date) -> None:
        if day.day == p.run.run_start_day + 1:
            _credit(p, day.day)


# ---------------------------------------------------------------------------- 6. cash planning


class CashPlanning(Stage):
    """The announced schedule, the cash list's first trip days, and each day's cash per point.

    Start reads: the cash list, the schedule settings, the post offices' open days; writes:
    `sched_days`, `team_of`, `n_teams`, `_day_points`, the open-day tables, the month's cash
    and cost accumulators, `_cash_owed_at`, `next_day` and the trips filed by day.
    Day reads: `cashers` (on the credit day), `_wd_plan`, `_cash_owed_at`, `_paid_at`, the
    points; writes: `_wd_plan` (credit day), `point_open`, `point_down`, `float_vnd` (today's
    cash per point, carried by the escorted runs within their limits), `_cash_runs`, the
    bottom-up staff and transport costs."""

    name = "cash_planning"

    def start(self, p: Province) -> None:
        s, a, ids, month = p.streams, p.assume, p.people.id, p.m
        cl = p.cash_list
        _schedule_month(p, p.month_days(month))
        p._cash_owed_at = p._cash_owed_by(p.commune_point)
        p._owed_at_offices = False
        absent = s["collection.absent"].bernoulli(a.collection.monthly_absent_prob, ids[cl], month)
        absent |= p._no_proxy[cl]  # the dead collect nothing themselves
        late = s["collection.late"].bernoulli(p.run.schedule.late_share, ids[cl], month)
        delay = np.floor(s["collection.first_delay"].exponential(a.collection.mean_first_delay_days, ids[cl], month))
        # on time: the commune's first payment day, or (with several) the day the delay falls on;
        # late, or a commune the teams could not fit in: the counter window
        commune = p.people.commune[cl]
        n_sched = (p.sched_days != NO_DAY).sum(axis=1)[commune]  # per commune, then per member
        pick = np.minimum(delay, np.maximum(n_sched - 1, 0)).astype(np.int64)
        on_day = p.sched_days[commune, pick].astype(np.float64)
        counter_day = p.run.counter_window.first_day + delay
        first = np.where(late | (n_sched == 0), counter_day, on_day)
        p.next_day[cl] = np.where(absent, NO_DAY, p._into_windows(cl, first, 0)).astype(np.int16)
        p._cash_by_day = {}
        p._file_cash_trips(cl)

    def day(self, p: Province, day: dt.date) -> None:
        d = day.day
        if p.cashers is not None:
            _plan_withdrawals(p, d, p.cashers)
            p.cashers = None
        scheduled = p._scheduled_today(d)
        p.point_open, p.point_down = point_status(p.points, day.weekday(), p.day_serial, p.streams, scheduled)
        p.float_vnd = _floats(p, d, p.point_open, day.weekday())


# ---------------------------------------------------------------------------- 7. cash-out


class CashOut(Stage):
    """The day's trips to the cash-out points: cash recipients and account holders cashing out.

    Reads: the trips filed for today, `next_day`, `withdraw_day`, `withdraw_due`, `owed_vnd`,
    `point_open`, `point_down`, `float_vnd`, the points and travel times. Writes: `trips`,
    `travel_min`, `wait_min`, `service_min`, `owed_vnd`, `paid_vnd`, `cash_transactions`,
    `channel`, `status`, `day_in_hand`, `next_day` and `withdraw_day` (retries), the accounts'
    balances, `withdrawn_vnd`, `withdrawals`, `fee_vnd`, the ledger's cash and float entries,
    `_cash_owed_at`, `_paid_at`, `_wd_month`, the post offices' safes, the day's point record.
    Hooks: `route` (strategy points where account holders cash out), `fee_waiver` (the state
    pays the fee), `enrolment` (chip-ID accounts opened where the cash is paid)."""

    name = "cash_out"

    def day(self, p: Province, day: dt.date) -> None:
        d = day.day
        s, a, people = p.streams, p.assume, p.people
        filed = p._cash_by_day.pop(d, [])
        cash_today = np.sort(np.concatenate(filed)) if filed else np.empty(0, np.int64)
        cash_today = cash_today[p.next_day[cash_today] == d]  # ascending, as the list is
        wd_all = np.flatnonzero(p.withdraw_day == d)
        cw = p.run.commune_window
        in_commune_window = cw.first_day <= d <= cw.last_day
        cash_point = p.commune_point[cash_today] if in_commune_window else p.post_office[cash_today]
        wd_point = p._withdrawal_point(wd_all)
        who = np.concatenate([cash_today, wd_all])
        point = np.concatenate([cash_point, wd_point])
        demand = np.concatenate([p.owed_vnd[cash_today], p.withdraw_due[wd_all]])

        fail_p = p.points.fail_prob[point]
        fail_p = (
            outlets.visit_fail_prob(fail_p, people.age_group[who], people.disabled[who], a.points.atm)
            if fail_p.any() else None
        )
        result = serve_day(
            p._day_points, p.point_open, p.point_down, p.float_vnd, point, people.id[who], demand, p.day_serial,
            a.points.partial_payout, s, fine_grained=p.fine_grained, fail_prob=fail_p,
        )
        if who.size:  # on a day nobody came (about half the days) there is nothing of theirs to settle
            _settle_visits(p, d, result, cash_today, cash_point, wd_all, wd_point, point, who, in_commune_window)

        delivered, returned = _office_safes(p, result)
        p.ledger["float_delivered"] += int(delivered.sum())
        p.ledger["float_paid"] += int(result.paid_vnd.sum())
        p.ledger["float_paid_others"] += int(result.others_paid_vnd.sum())
        p.ledger["float_returned"] += int(returned.sum())
        p._point_days.append((d, result, point))
        p._delivered_days.append(delivered)


def _settle_visits(
    p: Province, d: int, result: DayService, cash_today: np.ndarray, cash_point: np.ndarray, wd_all: np.ndarray,
    wd_point: np.ndarray, point: np.ndarray, who: np.ndarray, in_commune_window: bool,
) -> None:
    """The day's visits by beneficiaries, settled: their travel, time and cost, what the cash-list
    members were paid (and their next try), what the account holders withdrew (fees, failed
    ATM visits, the next try). On a day nobody came every update here is a no-op, so it is skipped."""
    s, a, people = p.streams, p.assume, p.people
    travel, travel_vnd = one_way(
        people, who, p.points.local[point], p.points.kind[point] == ATM, a.costs.travel_cost_vnd_per_min or 0
    )
    travel = travel * p.points.travel_factor[point]
    travel_vnd = travel_vnd * p.points.travel_factor[point]
    # what the trip cost them (its fare by mode and distance, and fees), for the choice to try again
    costs = a.costs
    fee = np.concatenate([np.zeros(cash_today.size, np.int64), p.point_fee_vnd[wd_point]])
    fare = 2.0 * travel_vnd + fee
    p._trip_cost_vnd[who] = generalised_cost_vnd(
        fare, 2.0 * travel, result.wait_min, costs.value_of_time_vnd_per_hour
    )
    # `who` has no repeats: cash-list members and account holders cashing out are disjoint
    # sets, and each makes at most one trip a day, so plain fancy-index updates are exact
    _add_trips(p, who, travel, travel_vnd, result.wait_min, result.service_min)
    paid = result.paid_vnd

    # cash recipients
    c = slice(0, cash_today.size)
    ci, cpaid = cash_today, paid[c]
    p.owed_vnd[ci] -= cpaid
    p._cash_owed_at -= np.bincount(cash_point, weights=cpaid, minlength=p.points.n)
    p.paid_vnd[ci] += cpaid
    got = cpaid > 0
    ci_got = ci[got]
    p.cash_transactions[ci_got] += 1
    where = CH_CASH_COMMUNE if in_commune_window else CH_CASH_COUNTER
    p.channel[ci_got] = where
    key = "paid_cash_commune" if in_commune_window else "paid_cash_counter"
    p.ledger[key] += int(cpaid.sum())
    done = p.owed_vnd[ci] == 0
    ci_done = ci[done]
    p.status[ci_done] = ST_PAID
    p.status[ci[got & ~done]] = ST_PARTIAL
    p.day_in_hand[ci_done] = d
    p.next_day[ci_done] = NO_DAY
    _enrol_on_chip_id(p, ci_done)
    again = ci[~done]
    p._plan_retry(again, d, p.next_day)
    p._file_cash_trips(again)

    # account holders cashing out
    w = slice(cash_today.size, None)
    wi, wpaid = wd_all, paid[w]
    p.accounts.withdraw(wi, wpaid)
    p.withdrawn_vnd[wi] += wpaid
    p.ledger["withdrawn"] += int(wpaid.sum())
    p._wd_month += np.bincount(wd_point, weights=wpaid, minlength=p.points.n)
    p._paid_at += np.bincount(point, weights=paid, minlength=p.points.n)
    p.withdraw_due[wi] -= wpaid
    p.withdrawals[wi[wpaid > 0]] += 1
    failed = wi[result.outcome[w] == FAILED]
    if failed.size:
        p.atm_failures[failed] += 1
        # some go to their post-office counter next, where a clerk pays them
        to_counter = s["cashout.failed_to_counter"].bernoulli(
            a.points.atm.failed_to_counter_prob, people.id[failed], p.m, p.trips[failed]
        )
        p.cashout_point[failed[to_counter]] = p.post_office[failed[to_counter]]
    _charge_fees(p, wi[wpaid > 0], wd_point[wpaid > 0])
    finished = p.withdraw_due[wi] == 0
    first_cash = finished & (p.day_in_hand[wi] == NO_DAY)
    p.day_in_hand[wi[first_cash]] = d
    p.withdraw_day[wi[finished]] = NO_DAY
    p._plan_retry(wi[~finished], d, p.withdraw_day)


def _add_trips(
    p: Province, who: np.ndarray, travel: np.ndarray, travel_vnd: np.ndarray, wait: np.ndarray, service: np.ndarray
) -> None:
    """Each visitor's trip added to their month: a trip, its travel both ways (minutes, and VND
    where fares are kept), its wait and service. `who` has no repeats."""
    if _trips_compiled is not None:  # compiled unless numba is missing or WELFARE_SIM_NO_NUMBA is set
        keep_vnd = p.travel_vnd is not None
        _trips_compiled(
            np.ascontiguousarray(who, np.int64), np.ascontiguousarray(travel, np.float64),
            np.ascontiguousarray(travel_vnd, np.float64), np.ascontiguousarray(wait, np.float64),
            np.ascontiguousarray(service, np.float64), p.trips, p.travel_min,
            p.travel_vnd if keep_vnd else _NO_VND, keep_vnd, p.wait_min, p.service_min,
        )
        return
    p.trips[who] += 1
    p.travel_min[who] += 2.0 * travel
    if p.travel_vnd is not None:
        p.travel_vnd[who] += 2.0 * travel_vnd
    p.wait_min[who] += wait
    p.service_min[who] += service


def _add_trips_py(
    who: np.ndarray, travel: np.ndarray, travel_vnd: np.ndarray, wait: np.ndarray, service: np.ndarray,
    trips: np.ndarray, travel_min: np.ndarray, travel_vnd_sum: np.ndarray, keep_vnd: bool, wait_min: np.ndarray,
    service_min: np.ndarray,
) -> None:
    """The compiled body of `_add_trips`: one pass over the visitors, the same additions."""
    for i in range(who.shape[0]):
        j = who[i]
        trips[j] += 1
        travel_min[j] += 2.0 * travel[i]
        if keep_vnd:
            travel_vnd_sum[j] += 2.0 * travel_vnd[i]
        wait_min[j] += wait[i]
        service_min[j] += service[i]


_NO_VND = np.zeros(0)
_trips_compiled = (
    numba.njit(
        "void(int64[::1], float64[::1], float64[::1], float64[::1], float64[::1], int16[::1], float64[::1], "
        "float64[::1], boolean, float64[::1], float64[::1])",
        cache=True,
        nogil=True,
    )(_add_trips_py)
    if numba is not None and _KERNEL == "numba"
    else None
)


# ---------------------------------------------------------------------------- 8. home delivery


class HomeDelivery(Stage):
    """Cash brought home on its day (the status quo's takers, and the couriers' scheduled ones).

    Reads: `home`, `home_day`, `owed_vnd`. Writes: `paid_vnd`, `owed_vnd`, `day_in_hand`,
    `status`, the ledger's `paid_home`."""

    name = "home_delivery"

    def day(self, p: Province, day: dt.date) -> None:
        _cash_out_at_home(p, day.day)
        if not p.home.size:
            return
        d = day.day
        due = p.home[p.home_day == d]
        due = due[p.owed_vnd[due] > 0]
        p.paid_vnd[due] += p.owed_vnd[due]
        p.ledger["paid_home"] += int(p.owed_vnd[due].sum())
        p.owed_vnd[due] = 0
        p.day_in_hand[due] = d
        p.status[due] = ST_PAID


# ---------------------------------------------------------------------------- 9. reconciliation


class Reconciliation(Stage):
    """Month end: months uncollected and suspensions, the ledger checked to the dong, the record.

    Reads: the cash list, `home`, `account_channel`, `status`, `owed_vnd`, `paid_vnd`, the
    accounts, the post offices' safes, the day records. Writes: `months_uncollected`, `state`,
    `suspended_vnd`, `owed_vnd`, `months_suspended`, `channel`, `after_death_vnd`, the ledger's
    closing entries, `counts` (cash runs, strategy costs), `_wd_last` (for next month's cash
    plan), `record` (the month's `MonthRecord`).
    Hooks: `costs` (the strategies' fixed costs of the month)."""

    name = "reconciliation"

    def end(self, p: Province) -> None:
        cl = p.cash_list
        unpaid = cl[p.status[cl] == ST_UNCOLLECTED]
        # a home recipient the couriers did not reach is owed still, and not counted against them
        reached = p.home[p.status[p.home] != ST_UNCOLLECTED]
        collected = np.concatenate([cl[p.status[cl] != ST_UNCOLLECTED], reached, p.account_channel])
        p.months_uncollected[collected] = 0
        p.months_uncollected[unpaid] += 1
        suspend = unpaid[p.months_uncollected[unpaid] >= p.run.suspend_after_months]
        p.state[suspend] = SUSPENDED
        p.suspended_vnd[suspend] += p.owed_vnd[suspend]
        p.owed_vnd[suspend] = 0
        p.months_suspended[suspend] = 0
        p.channel[cl[p.status[cl] == ST_UNCOLLECTED]] = CH_NONE
        p.channel[cl[p.channel[cl] == CH_CASH_PENDING]] = CH_NONE

        led = p.ledger
        _empty_safes(p)
        led["held"] = int(p.owed_vnd[p.status == ST_HELD].sum())
        led["owed_end"] = int(p.owed_vnd.sum())
        led["suspended_end"] = int(p.suspended_vnd.sum())
        led["balance_end"] = int(p.accounts.balance_vnd.sum())
        dead = (p.death_month >= 0) & (p.state <= SUSPENDED)
        p.after_death_vnd[dead] += p.paid_vnd[dead]
        led["paid_after_death"] = int(p.paid_vnd[dead].sum())
        led["after_death_end"] = int(p.after_death_vnd.sum())
        p.check_ledger(led)
        p.record = _record(p)


def _record(p: Province) -> MonthRecord:
    """The month's record; adds the cash runs and the strategies' fixed costs to `counts`."""
    month = p.m
    led = p.ledger

    rows = p.rows
    people, acct = p.people, p.accounts
    everyone = rows.size == people.n

    def month_only(a: np.ndarray) -> np.ndarray:
        # arrays made afresh each month can be handed over without a copy when no one is
        # left out; state that lives on (accounts) is always copied
        return a if everyone else a[rows]

    columns = {
        "entitled_vnd": month_only(p.entitled_vnd),
        "second_vnd": month_only(p.second_vnd),  # the second programme's amount, were it paid (0: none)
        "due_vnd": month_only(p.owed_start_vnd),
        "paid_vnd": month_only(p.paid_vnd),
        "owed_end_vnd": p.owed_vnd[rows] + p.suspended_vnd[rows],
        "channel": month_only(p.channel),
        "status": month_only(p.status),
        "day_in_hand": month_only(p.day_in_hand),
        "trips": month_only(p.trips),
        "travel_min": month_only(p.travel_min),
        "wait_min": month_only(p.wait_min),
        "service_min": month_only(p.service_min),
        "withdrawals": month_only(p.withdrawals),
        "withdrawn_vnd": month_only(p.withdrawn_vnd),
        "cash_transactions": month_only(p.cash_transactions),
        "account_status": acct.status[rows].copy(),
        "account_type": acct.type[rows].copy(),
        "registered": acct.registered[rows].copy(),
        "balance_vnd": acct.balance_vnd[rows].copy(),
        "drive_reached": month_only(p.drive_reached),
        "fee_vnd": month_only(p.fee_vnd),  # cash-out fees the beneficiary paid (waived ones not)
        "failed_credit_cause": month_only(p.failed_credit_cause),  # FAILED_CREDIT_CAUSES
        "atm_failures": month_only(p.atm_failures),
        "home_cashouts": month_only(p.home_cashouts),
    }
    if p.travel_vnd is not None:
        columns["travel_vnd"] = month_only(p.travel_vnd)
    points = _summarise_points(p)
    visits = _visits(p)
    p.counts["cash_in_transit_runs"] = p._cash_runs
    p.counts["cash_in_transit_cost_vnd"] = p._cash_runs * p.run.cash_in_transit.cost_per_run_vnd
    p._wd_last = p._wd_month
    for hook in p.hooks.get("reconciliation", "costs"):
        hook(month, p.counts)
    return MonthRecord(month, rows, columns, dict(led), points, visits, dict(p.funnel), dict(p.counts))


# ---------------------------------------------------------------------------- the driver

STAGES: tuple[Stage, ...] = (
    Funnel(),
    Entitlement(),
    Verification(),
    ChannelSplit(),
    Credits(),
    CashPlanning(),
    CashOut(),
    HomeDelivery(),
    Reconciliation(),
)
"""The month's stages in the order they run; their names are `hooks.STAGE_NAMES`."""
assert tuple(st.name for st in STAGES) == STAGE_NAMES


def begin_month(p: Province, month: int) -> None:
    """The month's first morning: the ledger opens, then every stage's `start` in order."""
    p.m = month
    p.ledger = dict.fromkeys(LEDGER_KEYS, 0)
    p.ledger["after_death_start"] = int(p.after_death_vnd.sum())
    p.ledger["owed_start"] = int(p.owed_vnd.sum())
    p.ledger["suspended_start"] = int(p.suspended_vnd.sum())
    p.ledger["balance_start"] = int(p.accounts.balance_vnd.sum())
    for stage in STAGES:
        stage.start(p)


def run_day(p: Province, day: dt.date) -> None:
    """One day: every stage's `day` in order (credits, cash planning, cash-out, home delivery)."""
    p.day_serial += 1  # numbers the day in the run: it keys the day's draws
    for stage in STAGES:
        stage.day(p, day)


def end_month(p: Province) -> MonthRecord:
    """The month's last evening: every stage's `end` in order; the month's record."""
    for stage in STAGES:
        stage.end(p)
    return p.record


# ---------------------------------------------------------------------------- stage helpers


def _population_flows(p: Province, month: int) -> dict[str, int]:
    """New approvals arrive, people die, the population database learns of deaths after the
    lag (the person leaves the list; what was paid since the death is recovered from the
    account balance where it can be, the rest written off; what was still owed lapses), and
    stopped beneficiaries re-apply. Sets `_no_proxy`: the dead not yet detected whose cash no
    proxy collects this month."""
    counts = dict.fromkeys(POPULATION_COUNTS, 0)
    n = p.people.n
    p._no_proxy = np.zeros(n, bool)
    # people age: a birthday moves them up a group, and what follows the group follows it
    p.people.age_group[:] = age_group_at(p.people.born, month)
    p.home_takeup = p.people.home_eligible & p._home_draw
    s, ids, state = p.streams, p.people.id, p.state
    # new approvals, and social-pension members who reach its age, join the list
    arriving = (state == PENDING) & (p.people.entry_month == month)
    state[arriving] = ACTIVE
    p.arrived = np.flatnonzero(arriving)
    counts["entries"] = int(arriving.sum())
    demo = p.pop.demography
    if demo is None:
        return counts
    p._death_p = monthly_death_prob(demo, p.people.age_group, p.people.female)

    alive = np.flatnonzero((p.death_month < 0) & (state <= STOPPED))
    dies = s["population.death"].bernoulli(p._death_p[alive], ids[alive], month)
    p.death_month[alive[dies]] = month
    counts["deaths"] = int(dies.sum())

    known = np.flatnonzero(
        (p.death_month >= 0) & (p.death_month + demo.detection_lag_months <= month) & (state <= STOPPED)
    )
    led, acct = p.ledger, p.accounts
    led["forfeited"] += int(p.owed_vnd[known].sum() + p.suspended_vnd[known].sum())
    p.owed_vnd[known] = 0
    p.suspended_vnd[known] = 0
    back = np.minimum(acct.balance_vnd[known], p.after_death_vnd[known])
    acct.balance_vnd[known] -= back
    led["recovered"] += int(back.sum())
    led["written_off"] += int((p.after_death_vnd[known] - back).sum())
    p.after_death_vnd[known] = 0
    state[known] = DEAD
    counts["deaths_detected"] = int(known.size)

    stopped = np.flatnonzero((state == STOPPED) & (p.death_month < 0))
    again = s["population.reapply"].bernoulli(demo.reapply_prob, ids[stopped], month)
    back_on = stopped[again]
    state[back_on] = ACTIVE
    p.months_uncollected[back_on] = 0
    p.months_suspended[back_on] = 0
    counts["reapplications"] = int(back_on.size)

    dead = np.flatnonzero((p.death_month >= 0) & (state <= SUSPENDED))
    proxy = s["population.proxy_collects"].bernoulli(demo.proxy_collect_share, ids[dead], month)
    p._no_proxy[dead[~proxy]] = True
    return counts


def _open_at_enrolment(p: Province, month: int) -> None:
    """New approvals who leave enrolment with an account (hook `funnel`/`enrolment`): open, of
    the scheme's provider, on the payment list at once, its data matching the record it was
    opened from."""
    acct = p.accounts
    for hook in p.hooks.get("funnel", "enrolment"):
        for scheme, who in hook(month, p.arrived, acct.status, acc_mod.NONE, p.counts):
            acct.status[who] = acc_mod.OPEN
            acct.type[who] = ACCOUNT_TYPES.index(scheme.account_type)
            acct.registered[who] = True
            acct.mismatch[who] = False


def _close_cash(
    p: Province, closure: tuple[np.ndarray, np.ndarray, np.ndarray] | None, active: np.ndarray
) -> None:
    """Cash closed to account holders: put every account holder on the account list (where
    the cashless rollout has started), and let failed credits be retried, not paid in cash.
    `closure`: bool per district (closed, failed credits fall back to cash, home delivery
    exempt), or None when no closure is in force."""
    if closure is None:
        return
    month = p.m
    closed, fallback, exempt = closure
    district = p.people.district
    here = closed[district] & (p.rollout_month <= month)[district]
    acct = p.accounts
    exempted = exempt[district] & p.home_takeup
    movers = here & acct.has_account & ~acct.registered & active & ~exempted
    acct.registered[movers] = True
    p.counts["cash_closure_listed"] += int(movers.sum())
    p.fallback_cash[here & ~fallback[district] & ~exempted] = False


def _credit(p: Province, d: int) -> None:
    """Credit the account channel on day `d`; a failed credit is returned, with its cause."""
    s, a = p.streams, p.assume
    idx = p.account_channel
    acct = p.accounts
    ok = (acct.status[idx] == acc_mod.OPEN) & ~acct.mismatch[idx]
    good, bad = idx[ok], idx[~ok]
    amount = p.owed_vnd[good]
    acct.credit(good, amount)
    p.paid_vnd[good] += amount
    p.owed_vnd[good] = 0
    p.ledger["credited"] += int(amount.sum())
    p.status[good] = ST_PAID
    # a failed credit is returned; the beneficiary falls back to cash next month
    p.status[bad] = ST_RETURNED
    p.ledger["returned"] += int(p.owed_vnd[bad].sum())
    p.fallback_cash[bad] = True
    acct.registered[bad] = False
    p.failed_credit = bad
    p.failed_credit_cause[bad] = np.where(
        acct.mismatch[bad], FC_DATA_MISMATCH, np.where(acct.status[bad] == acc_mod.DORMANT, FC_DORMANT, FC_OTHER)
    )

    mode = p.cashout_mode[good]
    keep = good[mode == MODE_KEEP]
    p.day_in_hand[keep] = d
    cashers = good[mode != MODE_KEEP]
    part = p.cashout_mode[cashers] == MODE_PARTIAL
    balance = acct.balance_vnd[cashers]
    portion = (balance * a.cashout.partial_fraction // 1000 * 1000).astype(np.int64)
    p.withdraw_due[cashers] = np.where(part, np.maximum(portion, np.minimum(balance, 1000)), balance)
    delay = np.floor(
        s["cashout.delay"].exponential(a.cashout.mean_delay_days, p.people.id[cashers], p.m)
    )
    p.choose_cashout_points(cashers)
    cashers, delay = _immobile_cashouts(p, cashers, delay, d)
    p.withdraw_day[cashers] = p._withdrawal_days(cashers, np.minimum(d + delay, len(p._days)))
    p.cashers = cashers  # the cash planning plans their withdrawal cash today


def _immobile_cashouts(p: Province, cashers: np.ndarray, delay: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Immobile account holders: a proxy (a family member) cashes out for them at their point,
    with a chance; without one, a home cash-out service brings the cash on the day they would
    have gone, if the scenario has one, or they keep their balance this month. Returns the
    cashers who travel (themselves or by proxy), and their delays."""
    home = p.assume.home
    if home.proxy_prob is None:
        return cashers, delay
    stuck = p.people.immobile[cashers]
    if not stuck.any():
        return cashers, delay
    who = cashers[stuck]
    proxy = p.streams["cashout.proxy"].bernoulli(home.proxy_prob, p.people.id[who], p.m)
    if home.home_cashout_fee_vnd is None:
        p.withdraw_due[who[~proxy]] = 0  # nobody comes for their cash this month
    else:
        p._home_cashout = who[~proxy]
        p._home_cashout_day = np.minimum(d + delay[stuck][~proxy], len(p._days)).astype(np.int64)
    go = ~stuck
    go[np.flatnonzero(stuck)[proxy]] = True
    return cashers[go], delay[go]


def _cash_out_at_home(p: Province, d: int) -> None:
    """The home cash-out service pays immobile account holders without a proxy their
    withdrawal at home: the courier brings exactly that cash (delivered and paid out)."""
    who = p._home_cashout[p._home_cashout_day == d]
    if who.size == 0:
        return
    amount = np.minimum(p.withdraw_due[who], p.accounts.balance_vnd[who])
    p.accounts.withdraw(who, amount)
    p.withdrawn_vnd[who] += amount
    p.withdraw_due[who] -= amount
    p.withdrawals[who] += 1
    p.home_cashouts[who] += 1
    p.fee_vnd[who] += p.assume.home.home_cashout_fee_vnd
    first = p.day_in_hand[who] == NO_DAY
    p.day_in_hand[who[first]] = d
    total = int(amount.sum())
    p.ledger["withdrawn"] += total
    p.ledger["float_delivered"] += total
    p.ledger["float_paid"] += total


def next_payment_days(sched: np.ndarray) -> np.ndarray:
    """Commune x day d (0 to the last payment day + 1): the commune's first payment day on or after
    d, NO_DAY when none is left. Where a trip planned for day d goes is then one lookup
    (`Province._into_windows`), not a minimum over the commune's days for every traveller."""
    never = np.iinfo(np.int16).max
    ahead = np.arange(max(int(sched.max(initial=NO_DAY)), 0) + 2, dtype=np.int16)
    days_left = np.where(sched == NO_DAY, never, sched)[:, :, None]
    first = np.where(days_left >= ahead, days_left, never).min(axis=1, initial=never)
    return np.where(first == never, NO_DAY, first).astype(np.int16)


def _schedule_month(p: Province, days: list[dt.date]) -> None:
    """The month's announced schedule: each commune point's payment days and session hours,
    each commune's team, and the post offices' open days (trips are planned only on those).

    Sets `sched_days` (commune x days_per_commune, NO_DAY where unscheduled), `team_of`
    (commune -> team, -1 if unscheduled), `_office_next_day` (day of month -> the first post
    office open day on or after it in the counter window, NO_DAY if none), `_counter_open_days`
    and `_day_points` (the points with today's session hours)."""
    cw, kw, sch = p.run.commune_window, p.run.counter_window, p.run.schedule
    kinds = p.assume.points
    cp, po = kinds.commune_point, kinds.post_office
    window_days = np.array(
        [d.day for d in days if cw.first_day <= d.day <= cw.last_day and d.weekday() in cp.open_weekdays],
        np.int64,
    )
    com = p.communes
    n, per_commune, k = com.n, sch.days_per_commune, sch.communes_per_team_day
    offices = np.array([d.post_offices for d in p.geo.groups], np.int64)
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
    p.sched_days = sched
    p._next_sched_day = next_payment_days(sched)
    p.team_of = np.where(sched[:, 0] != NO_DAY, first_team[district] + slot % teams[district], -1)
    p.n_teams = int(teams.sum())

    # a day of k sessions: each closes early enough for the move to the next (at most half
    # the session goes on moving)
    span = (cp.close_min - cp.open_min) / k
    opens = cp.open_min + session * span
    closes = opens + np.where(session < k - 1, span - min(sch.move_min, span / 2), span)
    if k == 1:
        p._day_points = p.points
    else:
        open_min, close_min = p.points.open_min.copy(), p.points.close_min.copy()
        open_min[:n], close_min[:n] = opens, closes
        p._day_points = replace(p.points, open_min=open_min, close_min=close_min)

    office_open = np.zeros(len(days) + 2, bool)
    for d in days:
        office_open[d.day] = kw.first_day <= d.day <= kw.last_day and d.weekday() in po.open_weekdays
    nxt = np.full(office_open.size, NO_DAY, np.int64)
    following = NO_DAY
    for x in range(office_open.size - 1, -1, -1):
        following = x if office_open[x] else following
        nxt[x] = following
    p._office_next_day = nxt
    p._counter_open_days = int(office_open.sum())
    p._weekdays = np.array([d.weekday() for d in days], np.int64)
    # each point's next open weekday on or after each day of the month (NO_DAY: none left)
    is_open = p.points.open_weekday[:, p._weekdays]
    point_next = np.full((p.points.n, len(days) + 2), NO_DAY, np.int16)
    for x in range(len(days), 0, -1):
        point_next[:, x] = np.where(is_open[:, x - 1], x, point_next[:, x + 1])
    p._point_next_open = point_next
    p._counter_open_through = np.cumsum(office_open)
    p._paid_at = np.zeros(p.points.n)
    p._wd_month = np.zeros(p.points.n)
    p._wd_plan = np.zeros((p.points.n, len(days) + 1))
    p._cash_runs = 0
    # what the state pays bottom-up per point this month (zero in the fee model)
    p._staff_vnd = np.zeros(p.points.n, np.int64)
    p._transport_vnd = np.zeros(p.points.n, np.int64)
    p._keeps_cash = p.points.keeps_cash
    p._reloads = p.points.reload_weekday.any(axis=1)
    p._loaded = np.zeros(p.points.n, bool)
    p._safe_vnd = np.zeros(p.points.n, np.int64)  # cash kept overnight in a post office's safe


def _plan_withdrawals(p: Province, d: int, cashers: np.ndarray) -> None:
    """Plan the month's withdrawal cash per point and day, on the credit day `d`.

    The month's total at a point is last month's withdrawals there; where there were none
    (the first month, a new point, the rollout's first month) it is the account holders
    credited today who cash out there, times the expected withdrawal (the scenario's
    cash-out mode shares). It is spread over the days by the expected cash-out delay from the
    credit, a closed day's share moving to the point's next open day."""
    a, pts = p.assume.cashout, p.points
    n_days = p._wd_plan.shape[1] - 1
    shares = a.mode_shares
    fraction = shares.get("all_at_once", 0.0) + shares.get("partial", 0.0) * a.partial_fraction
    listed = np.bincount(
        p._withdrawal_point(cashers), weights=p.accounts.balance_vnd[cashers] * fraction, minlength=pts.n
    )
    # the larger of the two, so a month whose withdrawals ran short does not shrink the next plan
    total = np.maximum(p._wd_last, listed)
    # the delay's distribution: floor(exponential(mean)) days after the credit, capped at month end
    k = np.arange(n_days - d + 1)
    mean = p.assume.cashout.mean_delay_days
    with np.errstate(over="ignore"):  # a mean far below a day puts all the mass on day 0, as it should
        mass = np.exp(-k / mean) - np.exp(-(k + 1) / mean) if mean > 0 else (k == 0).astype(np.float64)
    mass[-1] += 1.0 - mass.sum()
    profile = np.zeros(n_days + 1)
    profile[d:] = mass
    plan = np.outer(total, profile)
    is_open = pts.open_weekday[:, p._weekdays]  # points x days 1..n_days
    # a closed day's share waits for the next open day; the plan is kept cumulative
    carry = np.zeros(pts.n)
    for x in range(1, n_days + 1):
        here = plan[:, x] + carry
        open_x = is_open[:, x - 1]
        plan[:, x] = np.where(open_x, here, 0.0)
        carry = np.where(open_x, 0.0, here)
    p._wd_plan = np.cumsum(plan, axis=1)


def _floats(p: Province, d: int, point_open: np.ndarray, weekday: int) -> np.ndarray:
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
    pts = p.points
    fixed = pts.fixed_float_vnd
    cw, kw = p.run.commune_window, p.run.counter_window
    planned = p._wd_plan[:, d].copy()  # cumulative, to the end of today
    communes = p.communes.n
    if kw.first_day <= d <= kw.last_day:
        if not p._owed_at_offices:
            # the counter window opens: what is still owed, now by post office
            p._cash_owed_at = p._cash_owed_by(p.post_office)
            p._counter_plan = p._cash_owed_at / max(p._counter_open_days, 1)
            p._owed_at_offices = True
        planned += p._counter_plan * p._counter_open_through[d]
    # cash on hand tops up to the plan so far: what was planned and not yet paid out is there
    expected = np.maximum(planned * pts.float_cover - p._paid_at, 0.0)
    if cw.first_day <= d <= cw.last_day:
        expected[:communes] = p._cash_owed_at[:communes] * pts.float_cover[:communes]
    sized = np.ceil(expected / 100_000.0).astype(np.int64) * 100_000
    sized = np.where(pts.float_cap_vnd >= 0, np.minimum(sized, pts.float_cap_vnd), sized)
    out = np.where(point_open, np.where(fixed >= 0, fixed, sized), 0)
    if p._reloads.any():
        # an ATM is reloaded on the bank's days (and the month's first open day); on the others
        # it has what is left in it
        reload = p._reloads & (pts.reload_weekday[:, weekday] | ~p._loaded)
        out = np.where(p._reloads & point_open & ~reload, p._safe_vnd, out)
        p._loaded |= reload & point_open
    if cw.first_day <= d <= cw.last_day:
        out[:communes] = _cash_in_transit(p, out[:communes])
    return out


def _cash_in_transit(p: Province, cash: np.ndarray) -> np.ndarray:
    """The commune points' cash as their teams' escorted runs carry it: a team-day carries at
    most `runs_per_team_day` runs of `max_vnd_per_run`; above that every commune of the team
    gets the same share of its plan (rounded down to 100,000 VND). Counts the runs."""
    cit = p.run.cash_in_transit
    team = p.team_of
    has = (cash > 0) & (team >= 0)
    if not has.any():
        return cash
    total = np.bincount(team[has], weights=cash[has], minlength=p.n_teams)
    limit = float(cit.max_vnd_per_run) * cit.runs_per_team_day
    over = total > limit
    if over[team[has]].any():
        share = np.where(over, limit / np.maximum(total, 1.0), 1.0)
        cut = has & over[np.maximum(team, 0)]
        cash = cash.copy()
        cash[cut] = np.floor(cash[cut] * share[team[cut]] / 100_000.0).astype(np.int64) * 100_000
        total = np.bincount(team[has], weights=cash[has], minlength=p.n_teams)
    runs = np.ceil(total / float(cit.max_vnd_per_run)).astype(np.int64)
    p._cash_runs += int(runs.sum())
    costs = p.assume.costs
    if costs.model == "bottom_up":
        # a team-day is paid once, however many communes it serves; its staff and its runs'
        # cost are split over those communes to the dong (the remainder to the first)
        communes = np.flatnonzero(has)
        of = team[communes]
        sessions = np.bincount(of, minlength=p.n_teams)
        staff = np.where(sessions > 0, costs.staff_per_team_day_vnd, 0)
        _split(staff, of, communes, sessions, p._staff_vnd)
        _split(runs * cit.cost_per_run_vnd, of, communes, sessions, p._transport_vnd)
    return cash


def _office_safes(p: Province, result: DayService) -> tuple[np.ndarray, np.ndarray]:
    """Cash delivered to and returned from each point today. A post office keeps the evening's
    cash in its safe (an agent or a commune post office in its till, a reloaded ATM in its
    cassette): the next morning only the top-up to the day's plan is delivered (a surplus over
    the plan goes back), and what is there at the month's end is returned then
    (`_empty_safes`). Every other point gets its whole day's cash and returns what is left.
    Charges the bottom-up cost of a post office's delivery."""
    on_hand, left = result.float_vnd, result.float_left_vnd
    office = p._keeps_cash & result.point_open  # a closed point keeps its cash as it is
    kept = np.where(office, p._safe_vnd, 0)
    delivered = np.where(office, np.maximum(on_hand - kept, 0), on_hand)
    returned = np.where(office, np.maximum(kept - on_hand, 0), left)
    p._safe_vnd = np.where(office, left, p._safe_vnd)
    costs = p.assume.costs
    if costs.model == "bottom_up":
        p._transport_vnd += np.where(office & (delivered > 0), costs.cash_transport_per_point_day_vnd, 0)
    return delivered, returned


def _empty_safes(p: Province) -> None:
    """At the month's end the post offices return the cash left in their safes."""
    p.ledger["float_returned"] += int(p._safe_vnd.sum())
    p._safe_vnd[:] = 0


def _charge_fees(p: Province, who: np.ndarray, point: np.ndarray) -> None:
    """Cash-out fees: the beneficiary pays the point's fee, unless a waiver has the state
    pay it."""
    fee = p.point_fee_vnd[point]
    waived = np.zeros(who.size, bool)
    for hook in p.hooks.get("cash_out", "fee_waiver"):
        waived |= hook(p.m, who, p.accounts.type[who])
    p.fee_vnd[who] += np.where(waived, 0, fee)
    p.counts["fees_waived_vnd"] += int(fee[waived].sum())


def _enrol_on_chip_id(p: Province, paid: np.ndarray) -> None:
    """Chip ID as the payment card: enrol the ID holders who agree, where they were paid."""
    if paid.size == 0:
        return
    acct = p.accounts
    schemes = [
        scheme
        for hook in p.hooks.get("cash_out", "enrolment")
        for scheme in hook(p.m, paid, acct.has_account, acct.registered, acct.status == acc_mod.NONE, acct.chip_id)
    ]
    for scheme, new, linked in schemes:
        # keyed by the ID number, the account matches the population database by construction
        acct.status[new] = acc_mod.OPEN
        acct.type[new] = ACCOUNT_TYPES.index(scheme.account_type)
        acct.mismatch[new] = False
        acct.registered[new] = True
        acct.status[linked] = acc_mod.OPEN  # a dormant account is used again once linked
        acct.mismatch[linked] = False
        acct.registered[linked] = True
        p.counts["chip_id_enrolled"] += int(new.size)
        p.counts["chip_id_linked"] += int(linked.size)
        enrolments = int(new.size) + int(linked.size)
        p.counts["chip_id_vnd"] += enrolments * scheme.cost_per_enrolment_vnd


def _summarise_points(p: Province) -> dict[str, np.ndarray]:
    """Per point and month: days open and down, visits, cash delivered (new cash, counted once)
    and paid, and what the state pays the point bottom-up (staff, cash transport).

    The month's days at once: counts and whole-dong sums by one bincount over the month's visits
    (exact in any order); the waits, floats, by one bincount per (day, point) and the days then
    added in day order, as adding day by day would."""
    pts = p.points
    n = pts.n
    days = p._point_days
    if days:
        n_days = len(days)
        open_days = np.stack([res.point_open for _d, res, _pt in days]).sum(axis=0, dtype=np.int16)
        down_days = np.stack([res.point_down for _d, res, _pt in days]).sum(axis=0, dtype=np.int16)
        new_cash = np.stack(p._delivered_days)
        float_days = (new_cash > 0).sum(axis=0, dtype=np.int16)
        delivered = new_cash.sum(axis=0, dtype=np.int64)
        per_day = np.array([pt.size for _d, _res, pt in days], np.int64)
        point = np.concatenate([pt for _d, _res, pt in days]).astype(np.int64)
        outcome = np.concatenate([res.outcome for _d, res, _pt in days])
        paid_vnd = np.concatenate([res.paid_vnd for _d, res, _pt in days])
        wait_min = np.concatenate([res.wait_min for _d, res, _pt in days])
        visits = np.bincount(point, minlength=n).astype(np.int64)
        served = np.bincount(point[outcome <= PAID_PART], minlength=n).astype(np.int64)
        # integer VND summed as float64 is exact below 2**53, as the day-by-day sums were
        paid = np.bincount(point, weights=paid_vnd, minlength=n).round().astype(np.int64)
        day_point = np.repeat(np.arange(n_days, dtype=np.int64) * n, per_day) + point
        wait = np.bincount(day_point, weights=wait_min, minlength=n_days * n).reshape(n_days, n).sum(axis=0)
    else:
        open_days = np.zeros(n, np.int16)
        down_days = np.zeros(n, np.int16)
        float_days = np.zeros(n, np.int16)
        visits = np.zeros(n, np.int64)
        served = np.zeros(n, np.int64)
        paid = np.zeros(n, np.int64)
        delivered = np.zeros(n, np.int64)
        wait = np.zeros(n)
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
        "staff_cost_vnd": p._staff_vnd.copy(),
        "cash_transport_cost_vnd": p._transport_vnd.copy(),
    }


def _visits(p: Province) -> list[dict]:
    """Every trip of the month, day by day: point kind, wait and outcome (for wait statistics).
    Kept per day, not joined: the month's visits number in the millions nationally."""
    return [
        {"day": int(d), "kind": p.points.kind[pt], "wait_min": r.wait_min, "outcome": r.outcome}
        for d, r, pt in p._point_days
        if pt.size
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
