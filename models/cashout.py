"""Cash-out points: commune payment points, district post-office counters and bank ATMs.

Points are numbered in one index: commune points first (point = commune), then the post offices
of each district (district by district), then the ATMs. Each point-day is open or closed (weekday, downtime), carries a
cash float, and serves its arrivals FIFO at its counters (`models.queueing.serve_fifo`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from welfare_sim.models.geography import commune_radius_km, nearest, place_facilities
from welfare_sim.models.outlets import daytime_arrival, hour_cdf, outlet_layout
from welfare_sim.models.params import AtmKind, CashoutPoints, Geography
from welfare_sim.models.population import Beneficiaries, Communes
from welfare_sim.models.queueing import _KERNEL, numba, serve_fifo, serve_fifo_simpy

# codes in POINT_KINDS order
COMMUNE_POINT, POST_OFFICE, ATM, AGENT, COMMUNE_POST_OFFICE = 0, 1, 2, 3, 4

# outcomes of one visit, per beneficiary trip ("failed": the card, PIN or reading failed; paid 0)
PAID_FULL, PAID_PART, NO_CASH, NOT_REACHED, CLOSED, FAILED = 0, 1, 2, 3, 4, 5
VISIT_OUTCOMES = ("paid_full", "paid_part", "no_cash", "not_reached", "closed", "failed")


@dataclass
class Points:
    kind: np.ndarray  # int8, COMMUNE_POINT / POST_OFFICE / ATM / AGENT / COMMUNE_POST_OFFICE
    district: np.ndarray  # int32
    counters: np.ndarray  # int64
    open_min: np.ndarray  # float64
    close_min: np.ndarray  # float64
    service_mean_min: np.ndarray  # float64
    service_cv: np.ndarray  # float64
    early_min: np.ndarray  # float64
    downtime_prob: np.ndarray  # float64
    open_weekday: np.ndarray  # bool, shape (n_points, 7)
    fixed_float_vnd: np.ndarray  # int64, -1 where the float is sized from expected demand
    float_cover: np.ndarray  # float64
    float_cap_vnd: np.ndarray  # int64, most cash a sized float may hold; -1: no cap
    active: np.ndarray  # bool: in service this month (strategy points open commune by commune)
    local: np.ndarray  # bool: in the commune, reached at the commune travel time
    travel_factor: np.ndarray  # float64, trip ÷ the beneficiary's usual trip to such a point
    commune: np.ndarray  # int64, the commune of a point in one; -1 for a town point
    fee_vnd: np.ndarray  # int64, the beneficiary's fee per cash-out; -1: costs.withdrawal_fee_vnd
    keeps_cash: np.ndarray  # bool: cash left at night stays (a safe, a till, a cassette) for tomorrow
    reload_weekday: np.ndarray  # bool (n_points, 7): a cassette reloaded on these days only
    hour_cdf: np.ndarray  # float64 (n_points, 24): visits by hour; all 1.0 where not by hour
    by_hour: np.ndarray  # bool: visits drawn by hour from hour_cdf
    others_per_day: np.ndarray  # float64: other customers' visits per open day
    other_vnd: np.ndarray  # int64: cash each other customer takes
    fail_prob: np.ndarray  # float64: chance a visit fails (card, PIN, literacy)
    site: np.ndarray  # int64, the commune the point stands in (models.geography.place_facilities)
    latitude: np.ndarray  # float64, degrees; NaN without coordinates
    longitude: np.ndarray  # float64

    @property
    def n(self) -> int:
        return int(self.kind.size)


def build_points(geo: Geography, communes: Communes, params: CashoutPoints) -> Points:
    """Commune payment points, district post offices, ATMs, then the commune outlets the scenario
    has (agents, commune post offices), in that order."""
    offices = np.array([d.post_offices for d in geo.groups], np.int64)
    atms = np.array([d.atms for d in geo.groups], np.int64)
    # where each post office and ATM stands, group by group (the point order stays), placed by the
    # full run's counts so that a sampled run has its points where the full run has them
    size = communes.beneficiaries if communes.full_beneficiaries is None else communes.full_beneficiaries
    office_at = place_facilities(communes.places, size, offices, "post_offices")
    atm_at = place_facilities(communes.places, size, atms, "atms")
    office_district = communes.district[office_at].astype(np.int32)
    atm_district = communes.district[atm_at].astype(np.int32)
    sites = [np.arange(communes.n), office_at, atm_at]
    # per kind: (kind code, its parameters, district, commune (-1: in town), counters)
    blocks = [
        (COMMUNE_POINT, params.commune_point, communes.district, np.arange(communes.n),
         np.full(communes.n, params.commune_point.counters, np.int64)),
        (POST_OFFICE, params.post_office, office_district, np.full(office_district.size, -1),
         np.repeat(np.array([d.post_office_counters for d in geo.groups], np.int64), offices)),
        (ATM, params.atm, atm_district, np.full(atm_district.size, -1),
         np.full(atm_district.size, params.atm.counters)),
    ]
    for code, name in ((AGENT, "agent"), (COMMUNE_POST_OFFICE, "commune_post_office")):
        kind_params = getattr(params, name)
        if kind_params is not None:
            at = outlet_layout(communes.n, kind_params)
            blocks.append((code, kind_params, communes.district[at], at, np.full(at.size, kind_params.counters)))
            sites.append(at)

    def cat(values: list, dtype: type) -> np.ndarray:
        return np.concatenate([np.asarray(v, dtype) for v in values]) if values else np.zeros(0, dtype)

    def each(attr: str, dtype: type) -> np.ndarray:
        return cat([np.full(b[2].size, getattr(b[1], attr)) for b in blocks], dtype)

    sizes = [b[2].size for b in blocks]
    weekday, reload = [], []
    for _, p, district, _, _ in blocks:
        w = np.zeros((district.size, 7), bool)
        w[:, p.open_weekdays] = True
        weekday.append(w)
        r = np.zeros((district.size, 7), bool)
        if isinstance(p, AtmKind) and p.replenish_weekdays is not None:
            r[:, p.replenish_weekdays] = True
        reload.append(r)
    cdf = []
    for size, (_, p, _, _, _) in zip(sizes, blocks, strict=True):
        hours = hour_cdf(p) if isinstance(p, AtmKind) else None
        cdf.append(np.tile(np.ones(24) if hours is None else hours, (size, 1)))
    kind = cat([np.full(s, b[0]) for s, b in zip(sizes, blocks, strict=True)], np.int8)
    reload_weekday = np.concatenate(reload)

    def atm_only(attr: str, dtype: type, none: object) -> np.ndarray:
        return cat([np.full(s, getattr(b[1], attr) if isinstance(b[1], AtmKind) else none)
                    for s, b in zip(sizes, blocks, strict=True)], dtype)

    def optional(attr: str) -> np.ndarray:
        return cat([np.full(s, -1 if getattr(b[1], attr) is None else getattr(b[1], attr))
                    for s, b in zip(sizes, blocks, strict=True)], np.int64)

    n = int(kind.size)
    return Points(
        kind=kind,
        district=cat([b[2] for b in blocks], np.int32),
        counters=cat([b[4] for b in blocks], np.int64),
        open_min=each("open_min", np.float64),
        close_min=each("close_min", np.float64),
        service_mean_min=each("service_mean_min", np.float64),
        service_cv=each("service_cv", np.float64),
        early_min=each("early_arrival_min", np.float64),
        downtime_prob=each("downtime_prob", np.float64),
        open_weekday=np.concatenate(weekday),
        fixed_float_vnd=optional("float_vnd_per_day"),
        float_cover=each("float_cover", np.float64),
        float_cap_vnd=optional("float_cap_vnd"),
        active=np.ones(n, bool),
        local=np.isin(kind, (COMMUNE_POINT, AGENT, COMMUNE_POST_OFFICE)),
        travel_factor=cat([np.full(s, getattr(b[1], "travel_factor", 1.0)) for s, b in zip(sizes, blocks, strict=True)],
                          np.float64),
        commune=cat([b[3] for b in blocks], np.int64),
        fee_vnd=optional("fee_vnd"),
        keeps_cash=np.isin(kind, (POST_OFFICE, AGENT, COMMUNE_POST_OFFICE)) | reload_weekday.any(axis=1),
        reload_weekday=reload_weekday,
        hour_cdf=np.concatenate(cdf),
        by_hour=cat([np.full(s, isinstance(b[1], AtmKind) and b[1].visit_hour_shares is not None)
                     for s, b in zip(sizes, blocks, strict=True)], bool),
        others_per_day=atm_only("other_customers_per_day", np.float64, 0.0),
        other_vnd=atm_only("other_withdrawal_vnd", np.int64, 0),
        fail_prob=atm_only("fail_prob", np.float64, 0.0),
        site=cat(sites, np.int64),
        latitude=communes.places.latitude[cat(sites, np.int64)],
        longitude=communes.places.longitude[cat(sites, np.int64)],
    )


def append_points(
    points: Points, kind: int, district: np.ndarray, *, counters: int, open_min: float,
    close_min: float, open_weekdays: list[int], service_mean_min: float, service_cv: float,
    downtime_prob: float, fixed_float_vnd: int = -1, float_cover: float = 1.0,
    float_cap_vnd: int = -1, travel_factor: float = 1.0, commune: np.ndarray | None = None,
    communes: Communes | None = None,
) -> tuple[Points, int]:
    """Points with new commune-level points (closed until a strategy opens them) appended at the
    end, so existing points keep their index and their draws; and the index of the first new one."""
    n = int(district.size)
    weekday = np.zeros((n, 7), bool)
    weekday[:, open_weekdays] = True
    extra = {
        "kind": np.full(n, kind, np.int8),
        "district": district.astype(np.int32),
        "counters": np.full(n, counters, np.int64),
        "open_min": np.full(n, float(open_min)),
        "close_min": np.full(n, float(close_min)),
        "service_mean_min": np.full(n, float(service_mean_min)),
        "service_cv": np.full(n, float(service_cv)),
        "early_min": np.zeros(n),
        "downtime_prob": np.full(n, float(downtime_prob)),
        "open_weekday": weekday,
        "fixed_float_vnd": np.full(n, fixed_float_vnd, np.int64),
        "float_cover": np.full(n, float(float_cover)),
        "float_cap_vnd": np.full(n, float_cap_vnd, np.int64),
        "active": np.zeros(n, bool),
        "local": np.ones(n, bool),
        "travel_factor": np.full(n, float(travel_factor)),
        "commune": np.full(n, -1, np.int64),  # strategies route their own holders (local_points)
        "fee_vnd": np.full(n, -1, np.int64),
        "keeps_cash": np.zeros(n, bool),
        "reload_weekday": np.zeros((n, 7), bool),
        "hour_cdf": np.ones((n, 24)),
        "by_hour": np.zeros(n, bool),
        "others_per_day": np.zeros(n),
        "other_vnd": np.zeros(n, np.int64),
        "fail_prob": np.zeros(n),
        "site": np.full(n, -1, np.int64) if commune is None else commune.astype(np.int64),
        "latitude": np.full(n, np.nan),
        "longitude": np.full(n, np.nan),
    }
    if commune is not None and communes is not None and communes.places is not None:
        extra["latitude"] = communes.places.latitude[commune]
        extra["longitude"] = communes.places.longitude[commune]
    merged = {name: np.concatenate([getattr(points, name), extra[name]]) for name in extra}
    return Points(**merged), points.n


def home_points(
    people: Beneficiaries, communes: Communes, points: Points, streams  # noqa: ANN001
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(commune point, post office, ATM) of each beneficiary.

    Where people are located (a register): the nearest post office and the nearest ATM from home,
    anywhere in the scenario (models.geography.nearest); with no ATM at all, the post office. The
    distances go to `people.distance_km` through plan_trips. Without coordinates (register none): a
    post office of the district drawn by id, and an ATM of the district, or of the district with most.
    """
    commune_point = people.commune.astype(np.int64)
    office_index = np.flatnonzero(points.kind == POST_OFFICE)
    atm_index = np.flatnonzero(points.kind == ATM)
    if people.home_lat is not None:
        radius = commune_radius_km(communes.places)
        args = (people.home_lat, people.home_lon, people.commune, communes.places, radius)
        office, office_km = nearest(*args, points.latitude[office_index], points.longitude[office_index])
        atm, atm_km = nearest(*args, points.latitude[atm_index], points.longitude[atm_index])
        people.distance_km = {"post_office": office_km, "atm": atm_km if atm_index.size else office_km}
        post_office = office_index[office]
        return commune_point, post_office, atm_index[atm] if atm_index.size else post_office.copy()
    n_districts = int(points.district.max()) + 1 if points.n else 0
    offices = np.bincount(points.district[office_index], minlength=n_districts)
    office_first = office_index[0] + np.concatenate([[0], np.cumsum(offices)[:-1]])
    district_of = people.district.astype(np.int64)
    post_office = office_first[district_of]
    if (offices > 1).any():
        post_office = post_office + streams["points.post_office"].integers(offices[district_of], people.id)
    counts = np.bincount(points.district[atm_index], minlength=n_districts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    if atm_index.size == 0:
        return commune_point, post_office, post_office.copy()
    fallback = int(np.argmax(counts))
    district = np.where(counts[people.district] > 0, people.district, fallback)
    slot = streams["points.nearest_atm"].integers(counts[district], people.id)
    atm = atm_index[first[district] + slot]
    return commune_point, post_office, atm


@dataclass
class DayService:
    """What happened at the points on one day: per visit, and per point."""

    wait_min: np.ndarray
    service_min: np.ndarray
    paid_vnd: np.ndarray
    outcome: np.ndarray  # VISIT_OUTCOMES codes
    point_open: np.ndarray  # bool per point
    point_down: np.ndarray  # bool per point
    float_vnd: np.ndarray  # int64 per point, cash delivered today
    float_left_vnd: np.ndarray  # int64 per point, cash returned to the vault at day's end
    arrival_min: np.ndarray  # float64 per visit, minutes after midnight
    close_min: np.ndarray  # float64 per point, closing time today (a session may close early)
    others_paid_vnd: np.ndarray  # int64 per point, cash other customers took (ATMs)


def _hours_py(cdf: np.ndarray, point: np.ndarray, u_hour: np.ndarray) -> np.ndarray:
    """Per visit, how many of its point's cumulative hour shares are <= its draw: the hour
    `outlets.daytime_arrival` draws, without gathering a 24-wide row per visit."""
    hour = np.empty(point.shape[0], np.int64)
    for i in range(point.shape[0]):
        h = 0
        u = u_hour[i]
        for j in range(cdf.shape[1]):
            if cdf[point[i], j] <= u:
                h += 1
        hour[i] = h
    return hour


_hours = (
    numba.njit("int64[::1](float64[:, ::1], int64[::1], float64[::1])", cache=True, nogil=True)(_hours_py)
    if numba is not None
    else None
)


def _daytime_arrival(points: Points, point: np.ndarray, u_hour: np.ndarray, u_within: np.ndarray) -> np.ndarray:
    """`outlets.daytime_arrival(points.hour_cdf[point], u_hour, u_within)`, the same numbers."""
    if _hours is None or _KERNEL != "numba":
        return daytime_arrival(points.hour_cdf[point], u_hour, u_within)
    hour = _hours(np.ascontiguousarray(points.hour_cdf, np.float64), np.ascontiguousarray(point, np.int64),
                  np.ascontiguousarray(u_hour, np.float64))
    return (np.minimum(hour, 23) + u_within) * 60.0


def point_status(
    points: Points, weekday: int, day_key: int, streams, scheduled: np.ndarray | None = None  # noqa: ANN001
) -> tuple[np.ndarray, np.ndarray]:
    """(open, down) per point for one day; `day_key` numbers the day in the run. `scheduled`
    (bool per point) closes the points with no payment scheduled today (commune points)."""
    planned = points.open_weekday[:, weekday] & points.active
    scheduled = planned if scheduled is None else planned & scheduled
    down = streams["points.downtime"].bernoulli(points.downtime_prob, np.arange(points.n), day_key)
    down &= scheduled
    return scheduled & ~down, down


def serve_day(
    points: Points,
    point_open: np.ndarray,
    point_down: np.ndarray,
    float_vnd: np.ndarray,
    visit_point: np.ndarray,
    visit_key: np.ndarray,
    demand_vnd: np.ndarray,
    day_key: int,
    partial_payout: bool,
    streams,  # noqa: ANN001
    fine_grained: bool = False,
    fail_prob: np.ndarray | None = None,
) -> DayService:
    """Serve one day's visits. `visit_key` is the visitor's id, keying their draws; `fail_prob`
    (per visit) the chance the visit fails at the machine.

    Points that carry other customers (ATMs) serve them in the same queues, from the same cash.
    A failed visit takes its turn and the machine's time, and no cash.

    `fine_grained` serves the queues with one SimPy process per visit (`serve_fifo_simpy`)
    instead of the vectorised kernel: the same results, far slower; for checking small runs."""
    n = visit_point.size
    # arrivals bunch in the morning; nobody sets out for the last tenth of the opening hours
    # (per point: first arrival, and 0.9 x the span from it to closing)
    earliest = points.open_min - points.early_min
    spread = 0.9 * (points.close_min - points.open_min + points.early_min)
    u = streams["points.arrival"].uniform(visit_key, day_key)
    by_hour = points.by_hour[visit_point]
    if by_hour.any():
        # ATM visits come in the daytime hours the scenario gives, not round the clock
        at = np.flatnonzero(by_hour)
        u_hour = streams["points.arrival_hour"].uniform(visit_key[at], day_key)
        hourly = _daytime_arrival(points, visit_point[at], u_hour, u[at])
    u **= 1.5
    u *= spread[visit_point]
    arrival = np.add(earliest[visit_point], u, out=u)
    if by_hour.any():
        arrival[at] = hourly
    service = streams["points.service"].lognormal_mean_cv(
        points.service_mean_min, points.service_cv, visit_key, day_key, at=visit_point
    )
    failed = np.zeros(n, bool)
    if fail_prob is not None and n:
        failed = streams["points.visit_fail"].bernoulli(fail_prob, visit_key, day_key)
    wait = np.zeros(n)
    paid = np.zeros(n, np.int64)
    outcome = np.full(n, CLOSED, np.int8)
    left = float_vnd.copy()
    others_paid = np.zeros(points.n, np.int64)
    at_open = point_open[visit_point]
    o_point, o_arrival, o_service, o_demand = _other_customers(points, point_open, day_key, streams)
    if at_open.any() or o_point.size:
        sel = np.flatnonzero(at_open)
        serve = serve_fifo_simpy if fine_grained else serve_fifo
        result = serve(
            np.concatenate([visit_point[sel], o_point]),
            np.concatenate([arrival[sel], o_arrival]),
            np.concatenate([service[sel], o_service]),
            np.concatenate([np.where(failed[sel], 0, demand_vnd[sel]), o_demand]),
            points.counters,
            points.open_min,
            points.close_min,
            left,
            partial_payout,
        )
        mine = np.arange(sel.size)
        wait[sel] = result.wait_min[mine]
        paid[sel] = result.paid_vnd[mine]
        outcome[sel] = result.outcome[mine]
        if o_point.size:
            others_paid = np.bincount(o_point, weights=result.paid_vnd[sel.size:], minlength=points.n).astype(np.int64)
    # a failed visit was "served" nothing: it took its turn, and no cash
    outcome[failed & (outcome <= PAID_PART)] = FAILED
    left[~point_open] = 0
    return DayService(
        wait_min=wait,
        service_min=np.where((outcome <= PAID_PART) | (outcome == FAILED), service, 0.0),
        paid_vnd=paid,
        outcome=outcome,
        point_open=point_open,
        point_down=point_down,
        float_vnd=np.where(point_open, float_vnd, 0),
        float_left_vnd=left,
        arrival_min=arrival,
        close_min=points.close_min,
        others_paid_vnd=others_paid,
    )


def _other_customers(
    points: Points, point_open: np.ndarray, day_key: int, streams  # noqa: ANN001
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Other customers of the open points that have them (ATMs): their point, arrival, service
    and cash. Each point-day gets floor(rate + u) of them (the rate on average), keyed by the
    point and the day, at the hours its beneficiary visits come."""
    has = np.flatnonzero(point_open & (points.others_per_day > 0))
    if has.size == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
    count = np.floor(points.others_per_day[has] + streams["points.others.count"].uniform(has, day_key))
    point = np.repeat(has, count.astype(np.int64))
    # a key per other customer: their point and their rank there, apart from beneficiaries' ids (>= 0)
    rank = np.arange(point.size) - np.repeat(np.cumsum(count.astype(np.int64)) - count.astype(np.int64),
                                             count.astype(np.int64))
    key = -(point * 100_000 + rank + 1)
    u = streams["points.others.arrival"].uniform(key, day_key)
    u_hour = streams["points.others.arrival_hour"].uniform(key, day_key)
    span = points.close_min[point] - points.open_min[point]
    arrival = points.open_min[point] + u * span
    hourly = np.flatnonzero(points.by_hour[point])
    if hourly.size:
        arrival[hourly] = _daytime_arrival(points, point[hourly], u_hour[hourly], u[hourly])
    service = streams["points.others.service"].lognormal_mean_cv(
        points.service_mean_min, points.service_cv, key, day_key, at=point
    )
    return point.astype(np.int64), arrival, service, points.other_vnd[point]
