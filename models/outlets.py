"""Where account holders cash out: mobile-money agents and outlets, commune post offices, bank
ATMs and district post offices; and what makes an ATM visit more than a free withdrawal (the
daytime hours people go, other customers, visits that fail).

An account type can use some kinds of point (`assumptions.cashout.point_by_account_type`); each
person picks, among the kinds present in their commune (agents, commune post offices) or their
district (ATMs, post offices), by the generalised cost of the trip (`models.behaviour`).
"""

from __future__ import annotations

import numpy as np

from welfare_sim.models import behaviour
from welfare_sim.models.params import ACCOUNT_TYPES, AGE_GROUPS, Assumptions, AtmKind, OutletKind

AGE_80_PLUS = AGE_GROUPS.index("age_80_plus")


def communes_with(n_communes: int, share: float) -> np.ndarray:
    """Which communes have a kind of point held by `share` of them: spread evenly over the commune
    order (so over the districts, which number their communes in turn), the same every run."""
    c = np.arange(n_communes)
    return np.floor((c + 1) * share + 1e-9) > np.floor(c * share + 1e-9)


def outlet_layout(n_communes: int, params: OutletKind) -> np.ndarray:
    """The commune of each point of an outlet kind, in point order."""
    has = np.flatnonzero(communes_with(n_communes, params.share_of_communes))
    return np.repeat(has, params.per_commune)


def hour_cdf(params: AtmKind) -> np.ndarray | None:
    """Cumulative share of visits by hour (24 values), or None where visits are not by hour."""
    if params.visit_hour_shares is None:
        return None
    cdf = np.cumsum(np.asarray(params.visit_hour_shares, np.float64))
    cdf[-1] = 1.0
    return cdf


def daytime_arrival(cdf: np.ndarray, u_hour: np.ndarray, u_within: np.ndarray) -> np.ndarray:
    """Arrival minutes after midnight: an hour drawn from the cumulative shares `cdf` (rows per
    visit), then a uniform moment in it. An hour with no share is never drawn."""
    hour = (cdf <= u_hour[:, None]).sum(axis=1)
    return (np.minimum(hour, 23) + u_within) * 60.0


def visit_fail_prob(base: np.ndarray, age_group: np.ndarray, disabled: np.ndarray, atm: AtmKind) -> np.ndarray:
    """Chance each visit fails (card, PIN, literacy): the point's chance, times the multipliers of
    the 80+ and the disabled (both for someone who is both), at most 1."""
    m = atm.fail_multipliers
    factor = np.where(age_group == AGE_80_PLUS, m.age_80_plus, 1.0) * np.where(disabled, m.disabled, 1.0)
    return np.minimum(base * factor, 1.0)


def local_point(commune: np.ndarray, point_commune: np.ndarray, first: int, key_draw: np.ndarray) -> np.ndarray:
    """Each person's point of one outlet kind in their commune (-1 where their commune has none).
    The kind's points are `first`, `first` + 1, ... with `point_commune` their communes (ascending);
    where a commune has several, `key_draw` (uniform, keyed by the person) picks one."""
    if point_commune.size == 0:
        return np.full(commune.size, -1, np.int64)
    lo = np.searchsorted(point_commune, commune, side="left")
    hi = np.searchsorted(point_commune, commune, side="right")
    count = hi - lo
    slot = np.minimum((key_draw * count).astype(np.int64), np.maximum(count - 1, 0))
    return np.where(count > 0, first + lo + slot, -1)


def choose_points(
    account_type: np.ndarray,
    options: dict[str, np.ndarray],
    travel_min: dict[str, np.ndarray],
    fee_vnd: dict[str, np.ndarray],
    assume: Assumptions,
    u: np.ndarray,
    fallback: np.ndarray,
) -> np.ndarray:
    """The point each person cashes out at, among the kinds their account type can use.

    `options[kind]`: each person's point of that kind (-1: none near them); `travel_min[kind]`:
    one-way minutes to it; `fee_vnd[kind]`: its fee. The money cost is the fee plus the fare
    (`costs.travel_cost_vnd_per_min` × minutes both ways); the time cost the value of time ×
    (both ways + the expected wait). Someone with none of their kinds near goes to `fallback`."""
    cb, beh, costs = assume.cashout, assume.behaviour, assume.costs
    out = fallback.astype(np.int64).copy()
    for t, name in enumerate(ACCOUNT_TYPES):
        kinds = cb.point_by_account_type.get(name, ["post_office"])
        who = np.flatnonzero(account_type == t)
        if who.size == 0:
            continue
        point = np.stack([options[k][who] for k in kinds], axis=1)
        available = point >= 0
        both_ways = np.stack([2.0 * travel_min[k][who] for k in kinds], axis=1)
        money = np.stack([fee_vnd[k][point[:, j]] for j, k in enumerate(kinds)], axis=1)
        money = money + both_ways * costs.travel_cost_vnd_per_min
        wait = np.array([beh.expected_wait_min.get(k, 0.0) for k in kinds])
        cost = behaviour.generalised_cost_vnd(money, both_ways, wait[None, :], costs.value_of_time_vnd_per_hour)
        some = available.any(axis=1)
        pick = behaviour.choose(cost[some], available[some], beh.choice_scale_vnd, u[who[some]])
        out[who[some]] = point[some][np.arange(pick.size), pick]
    return out


def courier_days(district: np.ndarray, order: np.ndarray, first: int, last: int, per_day: int, none: int) -> np.ndarray:
    """The day the couriers bring each home recipient's cash: each district's couriers go down
    its list in the drawn `order`, `per_day` homes a day from day `first`; those not reached on a
    day wait for the next, and those left when the window closes after `last` get `none`."""
    district = np.asarray(district, np.int64)
    by = np.lexsort((order, district))
    start = np.searchsorted(district[by], district[by], side="left")
    rank = np.empty(district.size, np.int64)
    rank[by] = np.arange(district.size) - start
    day = first + rank // per_day
    return np.where(day <= last, day, none).astype(np.int16)
