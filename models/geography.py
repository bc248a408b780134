"""The province's map as the model sees it: communes by official code and name, with their places.

The scenario layer (`welfare_sim.sim.scenario`) reads the administrative register and the planner's
per-commune file and hands the domain a `Places`: plain arrays, one element per commune, in the
model's commune order (group by group, then by official code). The domain never reads a register.

A *group* is what the model keys post offices, rollout dates and strategy scope on: the scenario's
districts on the legacy map, or, on a map without districts, its named areas and the rest of the
province.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from welfare_sim.models.params import District

URBAN_TYPES = ("Phường", "Thị trấn")  # wards and townships: the urban units of a register


@dataclass(frozen=True)
class Places:
    """Every commune of the scenario, as plain arrays (one element per commune).

    Codes and names are empty strings where the scenario has no register (`register: none`);
    coordinates and area are NaN where the register does not give them."""

    code: tuple[str, ...]
    name: tuple[str, ...]
    type: tuple[str, ...]  # "Phường", "Xã", "Thị trấn", "Đặc khu", or "" without a register
    group: np.ndarray  # int32, index into groups
    groups: tuple[District, ...]  # each group's settings, complete (the district, or the area with the defaults)
    group_codes: tuple[str, ...]  # the official district code of each group, "" where none
    seat_latitude: np.ndarray  # float64 per group: the district seat (register), else the communes' centroid
    seat_longitude: np.ndarray
    latitude: np.ndarray  # float64, degrees
    longitude: np.ndarray  # float64, degrees
    area_km2: np.ndarray  # float64, NaN where unknown
    # per-commune figures from the planner's file; NaN / -1 / None where the file does not give one
    beneficiaries: np.ndarray  # int64, -1: split the group's total
    terrain: np.ndarray  # int8 terrain class, -1: from the group's shares
    ethnic_minority_share: np.ndarray  # float64
    chip_id_share: np.ndarray  # float64
    smartphone_share: np.ndarray  # float64
    facilities: dict[str, np.ndarray] = field(default_factory=dict)  # "post_offices", "atms", "agents": int64, -1

    @property
    def n(self) -> int:
        return int(self.group.size)

    @property
    def group_names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.groups)

    def urban_rank(self) -> np.ndarray:
        """0 for wards and townships, 1 for the rest: the order in which a group's urban share is given out."""
        return np.array([0 if t in URBAN_TYPES else 1 for t in self.type], np.int8)


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split `total` into integers proportional to `weights`, summing exactly to `total`."""
    weights = np.asarray(weights, dtype=np.float64)
    if total == 0 or weights.sum() <= 0:
        out = np.zeros(weights.size, np.int64)
        if total:
            out[0] = total
        return out
    exact = weights / weights.sum() * total
    out = np.floor(exact).astype(np.int64)
    short = total - int(out.sum())
    order = np.argsort(-(exact - out), kind="stable")
    out[order[:short]] += 1
    return out


def assign_terrain(places: Places, shares: np.ndarray) -> np.ndarray:
    """Terrain class of each commune: the file's where it gives one; otherwise the group's shares
    (group × terrain) given out over the group's other communes, urban to wards and townships
    first, then to the communes nearest the group's seat, mountain to the farthest.

    Assumption: distance from the seat stands for remoteness where no terrain is known."""
    terrain = places.terrain.astype(np.int8).copy()
    rank = places.urban_rank()
    g = places.group
    dist = haversine_km(places.latitude, places.longitude, places.seat_latitude[g], places.seat_longitude[g])
    dist = np.where(np.isfinite(dist), dist, 0.0)
    for k in range(len(places.groups)):
        todo = np.flatnonzero((g == k) & (terrain < 0))
        if todo.size == 0:
            continue
        order = todo[np.lexsort((todo, dist[todo], rank[todo]))]
        per = largest_remainder(todo.size, shares[k])
        terrain[order] = np.repeat(np.arange(3, dtype=np.int8), per)
    return terrain


EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:  # noqa: ANN001
    """Great-circle distance in km, element-wise (numpy broadcasting); degrees in."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((np.radians(lon2) - np.radians(lon1)) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def anonymous_places(districts: list[District]) -> Places:
    """The map of a made-up world (`register: none`): each district's communes, counted, with no
    codes, names or coordinates. Communes are numbered district by district."""
    counts = [d.communes or len(d.commune_beneficiaries or ()) for d in districts]
    n = sum(counts)
    group = np.repeat(np.arange(len(districts), dtype=np.int32), counts)
    blank = ("",) * n
    nan = np.full(n, np.nan)
    return Places(
        code=blank,
        name=tuple(f"{districts[g].name} commune {i + 1}" for g, i in zip(group, _within(group), strict=True)),
        type=blank,
        group=group,
        groups=tuple(districts),
        group_codes=("",) * len(districts),
        seat_latitude=np.full(len(districts), np.nan),
        seat_longitude=np.full(len(districts), np.nan),
        latitude=nan,
        longitude=nan.copy(),
        area_km2=nan.copy(),
        beneficiaries=np.full(n, -1, np.int64),
        terrain=np.full(n, -1, np.int8),
        ethnic_minority_share=nan.copy(),
        chip_id_share=nan.copy(),
        smartphone_share=nan.copy(),
    )


def _within(group: np.ndarray) -> np.ndarray:
    """Each commune's number within its group, from 0 (communes are stored group by group)."""
    return np.arange(group.size) - np.searchsorted(group, group)


# --------------------------------------------------------------------------- places of people and points

KM_PER_DEGREE = np.pi * EARTH_RADIUS_KM / 180.0
MIN_RADIUS_KM = 0.3  # a ward of a few hundred metres across: nobody lives on the centroid itself


def commune_radius_km(places: Places) -> np.ndarray:
    """Radius of the disc of each commune's area, km. The 2025 register gives the area; on the legacy
    map it is estimated from the distance d to the nearest other commune's centre, as the cell of a
    hexagonal packing, area = (√3/2)·d² (assumption)."""
    area = places.area_km2.astype(np.float64).copy()
    missing = ~np.isfinite(area)
    if missing.any() and places.n > 1:
        lat, lon = places.latitude, places.longitude
        for start in range(0, places.n, 512):  # communes × communes in slices: bounded memory
            rows = np.arange(start, min(start + 512, places.n))
            d = haversine_km(lat[rows, None], lon[rows, None], lat[None, :], lon[None, :])
            d[np.arange(rows.size), rows] = np.inf
            nn = np.nanmin(np.where(np.isfinite(d), d, np.inf), axis=1)
            area[rows] = np.where(missing[rows], np.sqrt(3.0) / 2.0 * nn**2, area[rows])
    return np.maximum(np.sqrt(np.where(np.isfinite(area), area, 0.0) / np.pi), MIN_RADIUS_KM)


def scatter_homes(
    places: Places,
    radius_km: np.ndarray,
    commune: np.ndarray,
    ids: np.ndarray,
    streams,  # noqa: ANN001
) -> tuple[np.ndarray, np.ndarray]:
    """Each beneficiary's home: a point uniform in the disc of the commune's area around its centre,
    drawn from streams keyed by the beneficiary's id (assumption: a disc stands for the commune's shape)."""
    r = radius_km[commune] * np.sqrt(streams["population.home_distance"].uniform(ids))
    theta = 2.0 * np.pi * streams["population.home_bearing"].uniform(ids)
    lat0 = places.latitude[commune]
    lat = lat0 + r * np.cos(theta) / KM_PER_DEGREE
    lon = places.longitude[commune] + r * np.sin(theta) / (KM_PER_DEGREE * np.cos(np.radians(lat0)))
    return lat, lon


def nearest(
    lat: np.ndarray,
    lon: np.ndarray,
    commune: np.ndarray,
    places: Places,
    radius_km: np.ndarray,
    point_lat: np.ndarray,
    point_lon: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest point (great-circle) of each person, and its distance in km; ties go to the
    lower index, as a brute-force argmin over all points would.

    Exact with few distances: a k-d tree on the unit sphere (scipy.spatial.cKDTree; the chord is a
    monotone function of the great-circle distance) gives each person's few nearest points by chord;
    their great-circle distances are measured as the brute force would, and the person is settled
    when the farthest of them is beyond the nearest one's chord with a margin (so no point outside
    can tie or win). The others are asked again with more neighbours, then measured against every
    point. `commune` and `radius_km` are kept for the callers; the search needs neither."""
    n = lat.size
    best = np.full(n, -1, np.int64)
    dist = np.full(n, np.inf)
    m = point_lat.size
    if m == 0 or n == 0:
        return best, dist
    from scipy.spatial import cKDTree

    # points at one place (several ATMs of a commune) tie for everyone: the place's lowest index stands
    # for them all, so a few neighbours are enough
    _, first = np.unique(np.column_stack((point_lat, point_lon)), axis=0, return_index=True)
    first = np.sort(first)
    point_lat, point_lon, m = point_lat[first], point_lon[first], first.size
    tree = cKDTree(_unit_xyz(point_lat, point_lon))
    todo = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if m > 1:  # most people: one point clearly nearest by chord, so by great circle; one distance each
        chord, idx = tree.query(_unit_xyz(lat[todo], lon[todo]), k=2)
        settled = chord[:, 1] > chord[:, 0] * (1 + 1e-6) + 1e-12
        who, pick = todo[settled], idx[settled, 0]
        best[who] = pick
        dist[who] = haversine_km(lat[who], lon[who], point_lat[pick], point_lon[pick])
        todo = todo[~settled]
    for k in (4, 32):
        if todo.size == 0:
            break
        k = min(k, m)
        chord, idx = tree.query(_unit_xyz(lat[todo], lon[todo]), k=k)
        chord, idx = chord.reshape(todo.size, k), idx.reshape(todo.size, k)
        d = haversine_km(lat[todo, None], lon[todo, None], point_lat[idx], point_lon[idx])
        low = d.min(axis=1)
        # the lowest index among the candidates at the least distance
        pick = np.where(d == low[:, None], idx, m).min(axis=1)
        settled = np.full(todo.size, True) if k == m else chord[:, -1] > _chord(low) * (1 + 1e-6) + 1e-12
        best[todo[settled]] = pick[settled]
        dist[todo[settled]] = low[settled]
        todo = todo[~settled]
    rest = np.flatnonzero(best < 0)
    for start in range(0, rest.size, 1024):  # the unsettled and the unlocated: against every point
        who = rest[start : start + 1024]
        d = haversine_km(lat[who, None], lon[who, None], point_lat[None, :], point_lon[None, :])
        pick = np.argmin(d, axis=1)
        best[who] = pick
        dist[who] = d[np.arange(who.size), pick]
    return first[best], dist


def _unit_xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, (n, 3), from degrees."""
    p, q = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(p) * np.cos(q), np.cos(p) * np.sin(q), np.sin(p)))


def _chord(km: np.ndarray) -> np.ndarray:
    """Chord on the unit sphere of a great-circle distance in km."""
    return 2.0 * np.sin(np.minimum(km / (2.0 * EARTH_RADIUS_KM), np.pi / 2))


def seat_communes(places: Places) -> np.ndarray:
    """The seat of each group, a commune index: the group's township or ward nearest the register's
    district seat (the district town), else its commune nearest the seat (assumption for areas: the
    seat is the communes' centroid)."""
    seats = np.full(len(places.groups), -1, np.int64)
    rank = places.urban_rank()
    for k in range(len(places.groups)):
        here = np.flatnonzero(places.group == k)
        if here.size == 0:
            continue
        d = haversine_km(
            places.latitude[here], places.longitude[here], places.seat_latitude[k], places.seat_longitude[k]
        )
        d = np.where(np.isfinite(d), d, 0.0)
        seats[k] = here[np.lexsort((here, d, rank[here]))[0]]
    return seats


def place_facilities(places: Places, beneficiaries: np.ndarray, per_group: np.ndarray, kind: str) -> np.ndarray:
    """The commune of each facility of a kind ("post_offices" or "atms"), group by group.

    Where the planner's file counts the kind in a group's communes, those counts are used (the group's
    total is theirs, see the scenario layer). Otherwise, by a keyed rule (assumption): post offices first
    at the group's seat, then in the urban units (wards, townships), then in the communes with most
    beneficiaries, one commune each in turn; ATMs in the urban units in proportion to their beneficiaries
    (largest remainder), or at the seat where the group has no urban unit."""
    counts = places.facilities.get(kind)
    seats = seat_communes(places)
    rank = places.urban_rank()
    out: list[np.ndarray] = []
    for k in range(len(places.groups)):
        here = np.flatnonzero(places.group == k)
        n = int(per_group[k])
        if n == 0 or here.size == 0:
            continue
        if counts is not None and (counts[here] >= 0).any():
            out.append(np.repeat(here, np.maximum(counts[here], 0)))
            continue
        if kind == "atms":
            urban = here[rank[here] == 0]
            if urban.size == 0:
                out.append(np.full(n, seats[k], np.int64))
                continue
            weights = beneficiaries[urban].astype(np.float64) + 1.0
            out.append(np.repeat(urban, largest_remainder(n, weights)))
            continue
        others = here[here != seats[k]]
        others = others[np.lexsort((others, -beneficiaries[others], rank[others]))]
        order = np.concatenate([[seats[k]], others])
        out.append(np.sort(order[np.arange(n) % order.size]))
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, np.int64)


# --------------------------------------------------------------------------- trips

WALK, MOTORBIKE, XE_OM, BUS = 0, 1, 2, 3
MODES = ("walk", "motorbike", "xe_om", "bus")


def trip(road_km: np.ndarray, terrain: np.ndarray, has_motorbike: np.ndarray, travel, vnd_per_hour: float):  # noqa: ANN001, ANN201
    """One-way trips: (minutes, money VND, mode) for each road distance. Each mode's minutes and money
    rise with distance; the traveller takes the mode of least money + value of time × minutes among
    those open to them: walking up to `walk_max_km`, their own or a relative's motorbike if the
    household has one, a hired xe ôm, and the bus from `bus_min_km`."""
    road_km = np.asarray(road_km, np.float64)
    minutes = np.full((len(MODES), road_km.size), np.inf)
    money = np.zeros((len(MODES), road_km.size))
    for m, name in enumerate(MODES):
        mode = getattr(travel, name)
        minutes[m] = mode.wait_min + road_km / mode.speed_kmh.array()[terrain] * 60.0
        money[m] = mode.fixed_vnd + mode.vnd_per_km * road_km
    closed = np.stack(
        [road_km > travel.walk_max_km, ~has_motorbike, np.zeros(road_km.size, bool), road_km < travel.bus_min_km]
    )
    generalised = np.where(closed, np.inf, money + minutes * (vnd_per_hour / 60.0))
    mode = np.argmin(generalised, axis=0)
    cols = np.arange(road_km.size)
    return minutes[mode, cols], money[mode, cols], mode.astype(np.int8)


def remoteness_km(places: Places, points, kind: int) -> np.ndarray:  # noqa: ANN001 (models.cashout.Points)
    """Great-circle km from each commune's centre to the nearest point of `kind` (NaN without coordinates)."""
    at = np.flatnonzero(points.kind == kind)
    if at.size == 0:
        return np.full(places.n, np.inf)
    out = np.empty(places.n)
    for start in range(0, places.n, 512):
        rows = slice(start, min(start + 512, places.n))
        d = haversine_km(
            places.latitude[rows, None],
            places.longitude[rows, None],
            points.latitude[None, at],
            points.longitude[None, at],
        )
        out[rows] = d.min(axis=1)
    return out
