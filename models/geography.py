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
