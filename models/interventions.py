"""Rollout strategies, each a mechanism with dates, places and a capacity, not a changed rate.

* Account-opening drives: teams visit `teams × communes_per_team_per_month` communes a month, in
  the drive's targeting order; in a visited commune the team meets each unbanked beneficiary (of
  the drive's categories) with probability `reach`, who then applies with probability `apply_prob`.
* Commune post-office "ATM" points and mobile-money agents: new cash-out points, opened commune
  by commune in a targeting order. Account holders of the types they serve, living in a commune
  that has one, cash out there (close to home, on any open day) instead of in town. Each point
  has counters, opening hours, downtime and a cash float, and queues like any other point.
* The chip ID card as the payment card: cash recipients holding a chip ID are enrolled, at the
  point where they are paid, into an account keyed by their ID number (listed at once, no data
  mismatch); those who refuse keep refusing.
* Home delivery: couriers with a daily capacity bring the cash to the 80+ and the immobile who ask.
* Fee waiver: the state pays the beneficiaries' cash-out fees.
* Community digital-technology teams: per commune, a capacity of people helped each month
  (applications finished, dormant accounts woken, accounts kept in use).
* Closing the cash channel: account holders are paid only into their accounts.

Each strategy declares the stages of the payment month it changes (`stages`, names from
`models/month/hooks.py`) and registers its hooks on them once, when the province is built
(`register`); the payment month calls them from those stages only:

| strategy | stages it hooks |
|---|---|
| drives | reconciliation (team costs); its SimPy process marks whom the teams meet, read by the funnel |
| digital teams | funnel (applications finished, accounts woken or kept in use) |
| fee waivers | funnel (more applications), cash-out (the state pays the fee) |
| cash closure | channel split (account holders listed, no cash fallback) |
| home delivery | channel split (couriers take cash-list members home, on a day) |
| chip ID payment | cash-out (enrolment where the cash is paid) |
| commune ATM points, agents | cash-out (where account holders cash out), reconciliation (costs) |

Every draw comes from a stream named after the strategy and keyed by a stable id (beneficiary id,
commune index, month), so a strategy never shifts the draws of anything else, and adding a
beneficiary never shifts the draws of the others. Where beneficiaries share a capacity (a
courier's day, a team's month) the order of service is a keyed draw too.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np

from welfare_sim.models.month.hooks import StageHooks
from welfare_sim.models.params import (
    ACCOUNT_TYPES,
    CATEGORIES,
    CashClosure,
    ChipIdPayment,
    CommuneAtmPoints,
    DigitalTeams,
    Drive,
    EnrolmentAccounts,
    FeeWaiver,
    HomeDelivery,
    Interventions,
    MobileMoneyAgents,
    PointRollout,
    month_offset,
)
from welfare_sim.models.population import AGE_80_PLUS, MOUNTAIN, Beneficiaries, Communes

MonthStart = Callable[[int], "float | None"]
NEVER = 10**9  # "no last month": in force to the end of the run


def _months(start: str, first: str, last: str | None) -> tuple[int, int]:
    """(first, last) simulated month of a dated strategy, 0-based from the run's start."""
    return month_offset(start, first), (NEVER if last is None else month_offset(start, last))


def district_mask(names: list[str] | None, district_names: list[str]) -> np.ndarray:
    """Bool per district: named in `names` (None: every district)."""
    if names is None:
        return np.ones(len(district_names), bool)
    chosen = set(names)
    return np.array([d in chosen for d in district_names], bool)


def scoped(listed: list[int] | None, candidates: np.ndarray) -> np.ndarray | None:
    """The listed communes that are candidates, in the listed order; None: no list given."""
    if listed is None:
        return None
    listed_arr = np.asarray(listed, np.int64)
    return listed_arr[np.isin(listed_arr, candidates)]


def commune_order(
    targeting: str,
    communes: Communes,
    candidates: np.ndarray,
    tiebreak: np.ndarray,
    priority_count: np.ndarray | None = None,
) -> np.ndarray:
    """`candidates` (commune indices) in the order a strategy reaches them.

    largest_first: most beneficiaries first; remote_first: farthest from a post office first where the
    communes have places (without: mountain communes first, then largest);
    by_category: most beneficiaries of the priority categories first; random: by the keyed draw
    `tiebreak`, which also breaks every tie.
    """
    if targeting == "largest_first":
        keys = (tiebreak, -communes.beneficiaries[candidates])
    elif targeting == "remote_first" and communes.remoteness_km is not None:
        # farthest from a post office first (the map's distance, not the terrain label)
        keys = (tiebreak, -communes.beneficiaries[candidates], -communes.remoteness_km[candidates])
    elif targeting == "remote_first":
        keys = (
            tiebreak,
            -communes.beneficiaries[candidates],
            communes.terrain[candidates] != MOUNTAIN,
        )
    elif targeting == "by_category":
        assert priority_count is not None
        keys = (tiebreak, -priority_count[candidates])
    else:
        keys = (tiebreak,)
    return candidates[np.lexsort(keys)]


def monthly_process(
    env,
    month_start: MonthStart,
    first: int,
    last: int,
    action: Callable[[int], None],  # noqa: ANN001
) -> Generator:
    """SimPy process: call `action(month)` at the start of each month from `first` to `last`."""
    month = max(first, 0)
    while month <= last:
        at = month_start(month)
        if at is None:
            return
        if at > env.now:
            yield env.timeout(at - env.now)
        action(month)
        month += 1


# --------------------------------------------------------------------------- drives


class DriveCampaign:
    """One drive. `visit_order` is fixed up front, so visits are reproducible."""

    stages = ("reconciliation",)

    def __init__(
        self,
        drive: Drive,
        communes: Communes,
        start: str,
        streams,  # noqa: ANN001
        people: Beneficiaries | None = None,
    ) -> None:
        self.drive = drive
        self.name = f"drives.{drive.name}"
        self.first_month = month_offset(start, drive.start)
        self.last_month = month_offset(start, drive.end)
        allowed = district_mask(drive.districts, communes.district_names)[communes.district]
        candidates = np.flatnonzero(allowed)
        tiebreak = streams[f"interventions.drive.{drive.name}.order"].uniform(candidates)
        self.meets: np.ndarray | None = None
        priority_count = None
        if drive.categories is not None:
            if people is None:
                raise ValueError("a drive for given categories needs the beneficiaries")
            codes = [CATEGORIES.index(c) for c in drive.categories]
            self.meets = np.isin(people.category, codes)
            priority_count = np.bincount(people.commune[self.meets], minlength=communes.n)
        listed = scoped(drive.communes, candidates)
        self.visit_order = (
            commune_order(drive.targeting, communes, candidates, tiebreak, priority_count)
            if listed is None
            else listed
        )
        self.visits_per_month = drive.teams * drive.communes_per_team_per_month
        self.visited_in: dict[int, np.ndarray] = {}

    def communes_for_month(self, month: int) -> np.ndarray:
        """Communes the teams visit in simulated month `month` (0-based)."""
        if not self.first_month <= month <= self.last_month or self.visit_order.size == 0:
            return np.empty(0, np.int64)
        step = month - self.first_month
        n = self.visit_order.size
        first = step * self.visits_per_month
        if first >= n and not self.drive.revisit:
            return np.empty(0, np.int64)
        positions = np.arange(first, first + self.visits_per_month)
        if not self.drive.revisit:
            positions = positions[positions < n]
        return self.visit_order[positions % n]

    def cost_vnd(self, month: int) -> int:
        """Team-months paid: every team, in a month it has communes to visit."""
        if self.communes_for_month(month).size == 0:
            return 0
        return self.drive.teams * self.drive.cost_per_team_month_vnd

    def month_cost(self, month: int, counts: dict[str, int]) -> None:
        cost = self.cost_vnd(month)
        counts["drive_team_months"] += self.drive.teams if cost else 0
        counts["drives_vnd"] += cost

    def register(self, hooks: StageHooks) -> None:
        hooks.register(self, "reconciliation", "costs", self.month_cost)

    def process(
        self, env, month_start: MonthStart, contact_prob: np.ndarray, commune_of: np.ndarray
    ) -> Generator:  # noqa: ANN001
        """SimPy process: at each month's start, mark who the teams can meet this month."""

        def visit(month: int) -> None:
            visited = self.communes_for_month(month)
            self.visited_in[month] = visited
            if visited.size:
                reached = np.isin(commune_of, visited)
                if self.meets is not None:
                    reached &= self.meets
                p_meet = self.drive.reach * self.drive.apply_prob
                contact_prob[reached] = 1.0 - (1.0 - contact_prob[reached]) * (1.0 - p_meet)

        return monthly_process(env, month_start, self.first_month, self.last_month, visit)


# --------------------------------------------------------------------------- new cash-out points


class PointPlacement:
    """Cash-out points (commune "ATM" points or agents) opened commune by commune.

    The order of communes is fixed up front; the commune of rank r opens in month
    first + r // communes_per_month and stays open until the strategy ends. The points of the
    placement are numbered `first_point + rank × per_commune + j` in the province's point index.
    """

    stages = ("cash_out", "reconciliation")

    def __init__(
        self,
        kind: str,
        params: PointRollout,
        per_commune: int,
        communes: Communes,
        people: Beneficiaries,
        start: str,
        streams,  # noqa: ANN001
    ) -> None:
        self.kind, self.params, self.per_commune = kind, params, per_commune
        self.name = f"{kind}.{params.name}"
        self.first_month, self.last_month = _months(start, params.start, params.end)
        allowed = district_mask(params.districts, communes.district_names)[communes.district]
        candidates = np.flatnonzero(allowed)
        tiebreak = streams[f"interventions.{kind}.{params.name}.order"].uniform(candidates)
        listed = scoped(params.communes, candidates)
        order = commune_order(params.targeting, communes, candidates, tiebreak) if listed is None else listed
        if params.max_communes is not None:
            order = order[: params.max_communes]
        self.communes = order.astype(np.int64)
        self.open_month = self.first_month + np.arange(order.size) // params.communes_per_month
        self.rank_of_commune = np.full(communes.n, -1, np.int64)
        self.rank_of_commune[self.communes] = np.arange(order.size)
        self.serves = np.isin(
            np.arange(len(ACCOUNT_TYPES)), [ACCOUNT_TYPES.index(t) for t in params.account_types]
        )
        # which of the commune's points each beneficiary uses: a keyed draw, fixed for the run
        self.slot = (
            streams[f"interventions.{kind}.{params.name}.slot"].integers(per_commune, people.id)
            if per_commune > 1
            else np.zeros(people.n, np.int64)
        )
        self.first_point = -1
        self.open_communes = np.zeros(communes.n, bool)

    @property
    def n_points(self) -> int:
        return int(self.communes.size) * self.per_commune

    def point_communes(self) -> np.ndarray:
        return np.repeat(self.communes, self.per_commune)

    def opened_by(self, month: int) -> np.ndarray:
        """Bool per placed commune: its points are open in `month`."""
        if not self.first_month <= month <= self.last_month:
            return np.zeros(self.communes.size, bool)
        return self.open_month <= month

    def on_month(self, month: int, point_active: np.ndarray) -> None:
        opened = self.opened_by(month)
        self.open_communes[:] = False
        self.open_communes[self.communes[opened]] = True
        if self.n_points:
            point_active[self.first_point : self.first_point + self.n_points] = np.repeat(
                opened, self.per_commune
            )

    def process(self, env, month_start: MonthStart, point_active: np.ndarray) -> Generator:  # noqa: ANN001
        """SimPy process: at each month's start, open the communes whose turn has come."""
        last = NEVER if self.last_month == NEVER else self.last_month + 1  # and close after the end
        return monthly_process(
            env, month_start, self.first_month, last, lambda m: self.on_month(m, point_active)
        )

    def route(self, who: np.ndarray, commune: np.ndarray, account_type: np.ndarray) -> np.ndarray:
        """Point each of `who` cashes out at, or -1 where this placement does not serve them."""
        ok = self.open_communes[commune] & self.serves[account_type]
        rank = self.rank_of_commune[commune]
        point = self.first_point + rank * self.per_commune + self.slot[who]
        return np.where(ok, point, -1)

    def opened_in(self, month: int) -> int:
        """Communes whose points open for the first time in `month`."""
        if not self.first_month <= month <= self.last_month:
            return 0
        return int((self.open_month == month).sum())

    def month_cost(self, month: int, counts: dict[str, int]) -> None:
        """Points converted and running (commune ATM points), agents paid (agents)."""
        params = self.params
        if isinstance(params, CommuneAtmPoints):
            running = int(self.opened_by(month).sum())
            counts["atm_points_open"] += running
            counts["atm_points_vnd"] += (
                self.opened_in(month) * params.conversion_cost_vnd + running * params.monthly_cost_vnd
            )
        else:
            assert isinstance(params, MobileMoneyAgents)
            running = int(self.opened_by(month).sum()) * self.per_commune
            counts["agents_open"] += running
            counts["agents_vnd"] += running * params.state_cost_per_agent_month_vnd

    def register(self, hooks: StageHooks) -> None:
        hooks.register(self, "cash_out", "route", self.route)
        hooks.register(self, "reconciliation", "costs", self.month_cost)


# --------------------------------------------------------------------------- help with accounts


@dataclass
class AccountHelp:
    """Per-beneficiary changes to the month's account funnel (None: no change)."""

    success_prob: np.ndarray | None = None  # NaN where not helped
    dormancy_factor: np.ndarray | None = None
    reactivation_prob: np.ndarray | None = None  # NaN where not helped
    apply_multiplier: np.ndarray | None = None

    def empty(self) -> bool:
        """No strategy changes the funnel this month."""
        return all(
            x is None for x in (self.success_prob, self.dormancy_factor, self.reactivation_prob, self.apply_multiplier)
        )


def _rank_within(groups: np.ndarray, *keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order of items by (groups, *keys) and each item's rank within its group (0-based)."""
    order = np.lexsort((*reversed(keys), groups))
    g = groups[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    lengths = np.diff(np.r_[starts, g.size])
    rank = np.arange(g.size) - np.repeat(starts, lengths)
    return order, rank


# --------------------------------------------------------------------------- dated strategies


class DatedStrategy:
    """The scenario's strategies of one dated kind, each with its months and districts."""

    kind = ""
    stages: tuple[str, ...] = ()

    def __init__(self, items: list, start: str, communes: Communes, people: Beneficiaries, streams) -> None:  # noqa: ANN001
        self.name = self.kind
        self.communes, self.people, self.streams = communes, people, streams
        names = communes.district_names
        self._dated = [(s, *_months(start, s.start, s.end), district_mask(s.districts, names)) for s in items]

    def in_force(self, month: int) -> list[tuple[object, np.ndarray]]:
        """(strategy, districts mask) of each strategy of the kind in force in `month`."""
        return [(s, mask) for s, first, last, mask in self._dated if first <= month <= last]

    def register(self, hooks: StageHooks) -> None:
        """Attach the kind's hooks to its stages (nothing when the scenario has none of it)."""
        if self._dated:
            for stage, point, fn in self.hooks():
                hooks.register(self, stage, point, fn)

    def hooks(self) -> list[tuple[str, str, Callable]]:
        return []


class DigitalTeamsStrategy(DatedStrategy):
    """Community digital-technology teams: per commune, a capacity of people helped a month."""

    kind = "digital_teams"
    stages = ("funnel",)

    def hooks(self) -> list[tuple[str, str, Callable]]:
        return [("funnel", "account_help", self.account_help)]

    def account_help(
        self, month: int, status: np.ndarray, eligible: np.ndarray, counts: dict[str, int], help_: AccountHelp,
        codes: tuple[int, int, int, int],
    ) -> None:
        """Adds the teams in force to `help_`: who is helped, and how; counts the team-months."""
        teams = self.in_force(month)
        if not teams:
            return
        open_code, applied_code, dormant_code, _none = codes
        people = self.people
        n = people.n
        help_.success_prob = np.full(n, np.nan)
        help_.dormancy_factor = np.ones(n)
        help_.reactivation_prob = np.full(n, np.nan)
        for team, districts in teams:
            assert isinstance(team, DigitalTeams)
            here = districts[people.district] & eligible
            cls = np.full(n, -1, np.int8)
            cls[here & (status == applied_code)] = 0
            cls[here & (status == dormant_code)] = 1
            cls[here & (status == open_code) & ~people.smartphone] = 2
            cand = np.flatnonzero(cls >= 0)
            priority = self.streams[f"interventions.digital_teams.{team.name}.priority"].uniform(
                people.id[cand], month
            )
            order, rank = _rank_within(people.commune[cand], cls[cand], priority)
            capacity = team.teams_per_commune * team.helps_per_team_per_month
            helped = cand[order[rank < capacity]]
            c = cls[helped]
            help_.success_prob[helped[c == 0]] = team.helped_success_prob
            help_.reactivation_prob[helped[c == 1]] = team.helped_reactivation_prob
            help_.dormancy_factor[helped[c == 2]] = team.helped_dormancy_factor
            counts["digital_teams_helped"] += int(helped.size)
            n_communes = int(districts[self.communes.district].sum())
            counts["digital_team_months"] += n_communes * team.teams_per_commune
            counts["digital_teams_vnd"] += (
                n_communes * team.teams_per_commune * team.cost_per_team_month_vnd
            )


class FeeWaiverStrategy(DatedStrategy):
    """Fee waivers: the state pays the cash-out fees; the unbanked may apply more readily."""

    kind = "fee_waivers"
    stages = ("funnel", "cash_out")

    def hooks(self) -> list[tuple[str, str, Callable]]:
        return [("funnel", "account_help", self.account_help), ("cash_out", "fee_waiver", self.waived)]

    def account_help(
        self, month: int, status: np.ndarray, eligible: np.ndarray, counts: dict[str, int], help_: AccountHelp,
        codes: tuple[int, int, int, int],
    ) -> None:
        """Multiplies the unbanked's chance of applying, where a waiver says so."""
        waivers = [(s, m) for s, m in self.in_force(month) if s.apply_multiplier != 1.0]
        if not waivers:
            return
        people = self.people
        none_code = codes[3]
        help_.apply_multiplier = np.ones(people.n)
        for waiver, districts in waivers:
            assert isinstance(waiver, FeeWaiver)
            unbanked = districts[people.district] & (status == none_code)
            help_.apply_multiplier[unbanked] *= waiver.apply_multiplier

    def waived(self, month: int, who: np.ndarray, account_type: np.ndarray) -> np.ndarray:
        """Bool per `who`: their cash-out fee is paid by the state this month."""
        out = np.zeros(who.size, bool)
        district = self.people.district[who]
        for waiver, districts in self.in_force(month):
            assert isinstance(waiver, FeeWaiver)
            types = waiver.account_types
            ok = (
                np.ones(who.size, bool)
                if types is None
                else np.isin(account_type, [ACCOUNT_TYPES.index(t) for t in types])
            )
            out |= districts[district] & ok
        return out


class CashClosureStrategy(DatedStrategy):
    """Closing the cash channel: account holders are paid only into their accounts."""

    kind = "cash_closure"
    stages = ("channel_split",)

    def hooks(self) -> list[tuple[str, str, Callable]]:
        return [("channel_split", "closure", self.closure)]

    def closure(self, month: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Bool per district: cash closed to account holders; failed credits still fall back to
        cash; home delivery exempt. None when no closure is in force."""
        in_force = self.in_force(month)
        if not in_force:
            return None
        k = len(self.communes.district_names)
        closed, fallback, exempt = np.zeros(k, bool), np.zeros(k, bool), np.zeros(k, bool)
        for rule, districts in in_force:
            assert isinstance(rule, CashClosure)
            closed |= districts
            fallback |= districts & rule.cash_after_failed_credit
            exempt |= districts & rule.exempt_home_delivery
        return closed, fallback, exempt


class HomeDeliveryStrategy(DatedStrategy):
    """Couriers with a daily capacity bring the cash to the 80+ and the immobile who ask."""

    kind = "home_delivery"
    stages = ("channel_split",)

    def hooks(self) -> list[tuple[str, str, Callable]]:
        return [("channel_split", "home_delivery", self.home_deliveries)]

    def home_deliveries(
        self,
        month: int,
        cash_list: np.ndarray,
        first_day: int,
        last_day: int,
        counts: dict[str, int],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cash recipients the couriers will serve at home this month, and the day of each."""
        people = self.people
        taken: list[np.ndarray] = []
        days: list[np.ndarray] = []
        remaining = cash_list
        window_days = last_day - first_day + 1
        for service, districts in self.in_force(month):
            assert isinstance(service, HomeDelivery)
            group = np.zeros(remaining.size, bool)
            for name in service.groups:
                if name == "age_80_plus":
                    group |= people.age_group[remaining] == AGE_80_PLUS
                elif name == "immobile":
                    group |= people.immobile[remaining]
                else:
                    group |= people.disabled[remaining]
            cand = remaining[group & districts[people.district[remaining]]]
            ids = people.id[cand]
            asks = self.streams[f"interventions.home_delivery.{service.name}.request"].bernoulli(
                service.request_prob, ids, month
            )
            cand = cand[asks]
            priority = self.streams[f"interventions.home_delivery.{service.name}.priority"].uniform(
                people.id[cand], month
            )
            order, rank = _rank_within(people.district[cand], priority)
            per_day = service.couriers_per_district * service.deliveries_per_courier_day
            served = rank < per_day * window_days
            chosen = cand[order[served]]
            taken.append(chosen)
            days.append((first_day + rank[served] // per_day).astype(np.int16))
            counts["home_delivery_requests"] += int(cand.size)
            counts["home_delivery_scheduled"] += int(chosen.size)
            remaining = remaining[~np.isin(remaining, chosen)]
        if not taken:
            return np.empty(0, np.int64), np.empty(0, np.int16)
        return np.concatenate(taken), np.concatenate(days)


class ChipIdStrategy(DatedStrategy):
    """The chip ID card as the payment card: cash recipients enrolled where they are paid."""

    kind = "chip_id_payment"
    stages = ("cash_out",)

    def hooks(self) -> list[tuple[str, str, Callable]]:
        return [("cash_out", "enrolment", self.chip_id_enrolment)]

    def chip_id_enrolment(
        self,
        month: int,
        paid: np.ndarray,
        has_account: np.ndarray,
        registered: np.ndarray,
        none_mask: np.ndarray,
        chip_id: np.ndarray,
    ) -> list[tuple[ChipIdPayment, np.ndarray, np.ndarray]]:
        """For each chip-ID scheme in force: (scheme, newly enrolled unbanked, linked account
        holders) among `paid` (just paid in cash at a point)."""
        out = []
        people = self.people
        for scheme, districts in self.in_force(month):
            assert isinstance(scheme, ChipIdPayment)
            cand = paid[chip_id[paid] & districts[people.district[paid]]]
            new = none_mask[cand]
            link = has_account[cand] & ~registered[cand] & scheme.link_existing
            cand = cand[new | link]
            # a lasting preference: asked again next month, the same person gives the same answer
            agrees = self.streams[f"interventions.chip_id_payment.{scheme.name}.agrees"].bernoulli(
                scheme.enrol_prob, people.id[cand]
            )
            cand = cand[agrees]
            out.append((scheme, cand[none_mask[cand]], cand[~none_mask[cand]]))
        return out


class EnrolmentAccountsStrategy(DatedStrategy):
    """Accounts opened at enrolment: new approvals leave it with an account listed for payment."""

    kind = "enrolment_accounts"
    stages = ("funnel",)

    def hooks(self) -> list[tuple[str, str, Callable]]:
        return [("funnel", "enrolment", self.open_at_enrolment)]

    def open_at_enrolment(
        self, month: int, arrived: np.ndarray, status: np.ndarray, none_code: int, counts: dict[str, int]
    ) -> list[tuple[EnrolmentAccounts, np.ndarray]]:
        """For each scheme in force: (scheme, the new approvals of `arrived` without an account
        who leave enrolment with one). Counts them and their cost."""
        out = []
        people = self.people
        for scheme, districts in self.in_force(month):
            assert isinstance(scheme, EnrolmentAccounts)
            cand = arrived[districts[people.district[arrived]] & (status[arrived] == none_code)]
            opens = self.streams[f"interventions.enrolment_accounts.{scheme.name}.opens"].bernoulli(
                scheme.share, people.id[cand]
            )
            who = cand[opens]
            counts["enrolment_accounts_opened"] += int(who.size)
            counts["enrolment_accounts_vnd"] += int(who.size) * scheme.cost_per_account_vnd
            out.append((scheme, who))
        return out


# --------------------------------------------------------------------------- the set of strategies


class Strategies:
    """The scenario's strategies, built against the province's communes and people."""

    def __init__(
        self,
        interventions: Interventions,
        start: str,
        communes: Communes,
        people: Beneficiaries,
        streams,  # noqa: ANN001
    ) -> None:
        self.iv = interventions
        self.start = start
        self.communes = communes
        self.people = people
        self.streams = streams
        self.drives = [
            DriveCampaign(d, communes, start, streams, people) for d in interventions.drives
        ]
        self.atm_points = [
            PointPlacement("atm_points", p, 1, communes, people, start, streams)
            for p in interventions.atm_points
        ]
        self.agents = [
            PointPlacement("agents", p, p.agents_per_commune, communes, people, start, streams)
            for p in interventions.agents
        ]
        self.dated = [
            kind(getattr(interventions, kind.kind), start, communes, people, streams)
            for kind in (DigitalTeamsStrategy, FeeWaiverStrategy, CashClosureStrategy, HomeDeliveryStrategy,
                         ChipIdStrategy, EnrolmentAccountsStrategy)
        ]

    @property
    def placements(self) -> list[PointPlacement]:
        # agents first: a village agent is nearer than the commune post office
        return [*self.agents, *self.atm_points]

    def register(self, hooks: StageHooks) -> None:
        """Attach every strategy's hooks to the stages it declares, once, in a fixed order (the
        order a stage calls them in: agents' points are tried before commune ATM points)."""
        for strategy in [*self.drives, *self.dated, *self.placements]:
            strategy.register(hooks)

    def processes(
        self,
        env,
        month_start: MonthStart,
        contact_prob: np.ndarray,
        point_active: np.ndarray,  # noqa: ANN001
    ) -> list[Generator]:
        commune_of = self.people.commune
        procs = [d.process(env, month_start, contact_prob, commune_of) for d in self.drives]
        procs += [p.process(env, month_start, point_active) for p in self.placements]
        return procs

STRATEGY_COUNTS = (
    "drive_team_months",
    "drives_vnd",
    "atm_points_open",
    "atm_points_vnd",
    "agents_open",
    "agents_vnd",
    "chip_id_enrolled",
    "chip_id_linked",
    "chip_id_vnd",
    "home_delivery_requests",
    "home_delivery_scheduled",
    "fees_waived_vnd",
    "digital_team_months",
    "digital_teams_helped",
    "digital_teams_vnd",
    "cash_closure_listed",
    "cash_in_transit_runs",
    "cash_in_transit_cost_vnd",
    "enrolment_accounts_opened",
    "enrolment_accounts_vnd",
)
"""Keys of each month's strategy record; the *_vnd keys are costs to the state."""

LOGISTICS_COST_KEYS = ("cash_in_transit_cost_vnd",)
"""Costs of the status quo's own cash logistics, recorded beside the strategies' for information: what
the month's escorted cash runs cost. They are not strategy spending: under the `fee` cost model the
post office's fee per cash payment covers them, and under `bottom_up` the points table charges them
(`cash_transport_cost_vnd`), so they are never added again."""

STRATEGY_COST_KEYS = tuple(k for k in STRATEGY_COUNTS if k.endswith("_vnd") and k not in LOGISTICS_COST_KEYS)
