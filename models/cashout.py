"""Cash-out points: commune payment points, district post-office counters and bank ATMs.

Points are numbered in one index: commune points first (point = commune), then the post offices
of each district (district by district), then the ATMs. Each point-day is open or closed (weekday, downtime), carries a
cash float, and serves its arrivals FIFO at its counters (`models.queueing.serve_fifo`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from welfare_sim.models.params import POINT_KINDS, CashoutPoints, Geography
from welfare_sim.models.population import Beneficiaries, Communes
from welfare_sim.models.queueing import serve_fifo, serve_fifo_simpy

COMMUNE_POINT, POST_OFFICE, ATM = 0, 1, 2

# outcomes of one visit, per beneficiary trip
PAID_FULL, PAID_PART, NO_CASH, NOT_REACHED, CLOSED = 0, 1, 2, 3, 4
VISIT_OUTCOMES = ("paid_full", "paid_part", "no_cash", "not_reached", "closed")


@dataclass
class Points:
    kind: np.ndarray  # int8, COMMUNE_POINT / POST_OFFICE / ATM
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

    @property
    def n(self) -> int:
        return int(self.kind.size)


def build_points(geo: Geography, communes: Communes, params: CashoutPoints) -> Points:
    kinds = [np.full(communes.n, COMMUNE_POINT, np.int8)]
    district = [communes.district]
    counters = [np.full(communes.n, params.commune_point.counters, np.int64)]
    n_districts = len(geo.groups)
    offices = np.array([d.post_offices for d in geo.groups], np.int64)
    kinds.append(np.full(int(offices.sum()), POST_OFFICE, np.int8))
    district.append(np.repeat(np.arange(n_districts, dtype=np.int32), offices))
    counters.append(np.repeat(np.array([d.post_office_counters for d in geo.groups], np.int64), offices))
    atms = np.array([d.atms for d in geo.groups], np.int64)
    kinds.append(np.full(int(atms.sum()), ATM, np.int8))
    district.append(np.repeat(np.arange(n_districts, dtype=np.int32), atms))
    counters.append(np.full(int(atms.sum()), params.atm.counters, np.int64))
    kind = np.concatenate(kinds)

    by_kind = [getattr(params, name) for name in POINT_KINDS]

    def per_point(attr: str, dtype: type) -> np.ndarray:
        return np.array([getattr(k, attr) for k in by_kind], dtype=dtype)[kind]

    weekday = np.zeros((3, 7), bool)
    for k, kind_params in enumerate(by_kind):
        weekday[k, kind_params.open_weekdays] = True
    fixed = np.array(
        [-1 if k.float_vnd_per_day is None else k.float_vnd_per_day for k in by_kind], np.int64
    )
    n = int(kind.size)
    return Points(
        kind=kind,
        district=np.concatenate(district),
        counters=np.concatenate(counters),
        open_min=per_point("open_min", np.float64),
        close_min=per_point("close_min", np.float64),
        service_mean_min=per_point("service_mean_min", np.float64),
        service_cv=per_point("service_cv", np.float64),
        early_min=per_point("early_arrival_min", np.float64),
        downtime_prob=per_point("downtime_prob", np.float64),
        open_weekday=weekday[kind],
        fixed_float_vnd=fixed[kind],
        float_cover=per_point("float_cover", np.float64),
        float_cap_vnd=np.full(n, -1, np.int64),
        active=np.ones(n, bool),
        local=kind == COMMUNE_POINT,
        travel_factor=np.ones(n),
    )


def append_points(
    points: Points, kind: int, district: np.ndarray, *, counters: int, open_min: float,
    close_min: float, open_weekdays: list[int], service_mean_min: float, service_cv: float,
    downtime_prob: float, fixed_float_vnd: int = -1, float_cover: float = 1.0,
    float_cap_vnd: int = -1, travel_factor: float = 1.0,
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
    }
    merged = {name: np.concatenate([getattr(points, name), extra[name]]) for name in extra}
    return Points(**merged), points.n


def home_points(
    people: Beneficiaries, communes: Communes, points: Points, streams  # noqa: ANN001
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(commune point, district post office, nearest ATM) of each beneficiary.

    Where a district has several post offices, each beneficiary is assigned one of them (a draw
    keyed by their id, so it never changes with the rest of the population). A district without
    ATMs sends its bank customers to the ATMs of the district that has most.
    """
    commune_point = people.commune.astype(np.int64)
    office_index = np.flatnonzero(points.kind == POST_OFFICE)
    n_districts = int(points.district.max()) + 1 if points.n else 0
    offices = np.bincount(points.district[office_index], minlength=n_districts)
    office_first = office_index[0] + np.concatenate([[0], np.cumsum(offices)[:-1]])
    district_of = people.district.astype(np.int64)
    post_office = office_first[district_of]
    if (offices > 1).any():
        post_office = post_office + streams["points.post_office"].integers(offices[district_of], people.id)
    atm_index = np.flatnonzero(points.kind == ATM)
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
) -> DayService:
    """Serve one day's visits. `visit_key` is the visitor's id, keying their draws.

    `fine_grained` serves the queues with one SimPy process per visit (`serve_fifo_simpy`)
    instead of the vectorised kernel: the same results, far slower; for checking small runs."""
    n = visit_point.size
    # arrivals bunch in the morning; nobody sets out for the last tenth of the opening hours
    # (per point: first arrival, and 0.9 x the span from it to closing)
    earliest = points.open_min - points.early_min
    spread = 0.9 * (points.close_min - points.open_min + points.early_min)
    u = streams["points.arrival"].uniform(visit_key, day_key)
    u **= 1.5
    u *= spread[visit_point]
    arrival = np.add(earliest[visit_point], u, out=u)
    service = streams["points.service"].lognormal_mean_cv(
        points.service_mean_min, points.service_cv, visit_key, day_key, at=visit_point
    )
    wait = np.zeros(n)
    paid = np.zeros(n, np.int64)
    outcome = np.full(n, CLOSED, np.int8)
    left = float_vnd.copy()
    at_open = point_open[visit_point]
    if at_open.any():
        sel = np.flatnonzero(at_open)
        serve = serve_fifo_simpy if fine_grained else serve_fifo
        result = serve(
            visit_point[sel],
            arrival[sel],
            service[sel],
            demand_vnd[sel],
            points.counters,
            points.open_min,
            points.close_min,
            left,
            partial_payout,
        )
        result.put("wait_min", wait, sel)
        result.put("paid_vnd", paid, sel)
        result.put("outcome", outcome, sel)
    left[~point_open] = 0
    return DayService(
        wait_min=wait,
        service_min=np.where(outcome <= PAID_PART, service, 0.0),
        paid_vnd=paid,
        outcome=outcome,
        point_open=point_open,
        point_down=point_down,
        float_vnd=np.where(point_open, float_vnd, 0),
        float_left_vnd=left,
        arrival_min=arrival,
        close_min=points.close_min,
    )
