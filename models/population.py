"""Beneficiaries and the communes they live in, held as columns (numpy arrays).

Every attribute is drawn once, up front, from a named stream keyed by the beneficiary's
stable id, so adding someone never changes anyone else's attributes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from welfare_sim.models.demography import ID_STRIDE, entrants
from welfare_sim.models.geography import Places, anonymous_places, assign_terrain, largest_remainder  # noqa: F401
from welfare_sim.models.params import (
    AGE_GROUPS,
    CATEGORIES,
    TERRAINS,
    Geography,
    Population,
    month_index,
)

URBAN, RURAL, MOUNTAIN = 0, 1, 2
SOCIAL, MERIT, PENSION = 0, 1, 2
UNDER_60, AGE_60_79, AGE_80_PLUS = 0, 1, 2


@dataclass
class Communes:
    district: np.ndarray  # int32, index into geography.groups (the districts, or the areas and the rest)
    terrain: np.ndarray  # int8: URBAN, RURAL, MOUNTAIN
    beneficiaries: np.ndarray  # int64
    district_names: list[str]
    # set by build_communes; a hand-built Communes (tests of one mechanism) may leave them out
    places: Places | None = None  # official codes, names and coordinates, in this commune order
    ethnic_minority_share: np.ndarray | None = None  # float64 per commune (the file's, else the group's)
    smartphone_share: np.ndarray | None = None  # float64 per commune (the file's, else the group's, by terrain)
    chip_id_share: np.ndarray | None = None  # float64 per commune (the file's, else the group's, else the population's)

    @property
    def n(self) -> int:
        return int(self.district.size)


@dataclass
class Beneficiaries:
    """Fixed attributes of each beneficiary, one array element per person."""

    id: np.ndarray  # int64, stable across scenario changes
    commune: np.ndarray  # int32
    district: np.ndarray  # int32
    terrain: np.ndarray  # int8
    category: np.ndarray  # int8: SOCIAL, MERIT, PENSION
    coefficient: np.ndarray  # float64, social assistance: allowance = base × coefficient
    age_group: np.ndarray  # int8
    disabled: np.ndarray  # bool
    immobile: np.ndarray  # bool: cannot travel, home delivery eligible
    ethnic_minority: np.ndarray  # bool
    smartphone: np.ndarray  # bool
    travel_commune_min: np.ndarray  # float64, one way to the commune payment point
    travel_town_min: np.ndarray  # float64, one way to the district post office or an ATM
    female: np.ndarray  # bool
    entry_month: np.ndarray  # int16: month a new approval arrives; -1 for those there at the start

    @property
    def n(self) -> int:
        return int(self.id.size)

    @property
    def home_eligible(self) -> np.ndarray:
        return self.immobile | (self.age_group == AGE_80_PLUS)


def build_communes(geo: Geography, streams, pop: Population | None = None) -> Communes:  # noqa: ANN001
    """The scenario's communes, from the map the scenario layer resolved (or, for a Geography built
    without one, the districts' anonymous communes): terrain, beneficiaries and per-commune shares."""
    places = geo.places if geo.places is not None else anonymous_places(geo.districts or [])
    groups = places.groups
    shares = np.array([[getattr(g.terrain, t) if g.terrain else 0.0 for t in TERRAINS] for g in groups])
    terrain = assign_terrain(places, shares.reshape(len(groups), len(TERRAINS)))
    size_stream = streams["geography.commune_size"]
    counts = places.beneficiaries.astype(np.int64).copy()
    for k, group in enumerate(groups):
        here = np.flatnonzero(places.group == k)
        if group.commune_beneficiaries is not None:
            counts[here] = np.asarray(group.commune_beneficiaries, np.int64)
            continue
        todo = here[counts[here] < 0]
        if todo.size:
            # keyed by the commune's index, so a commune's size does not depend on its neighbours'
            weights = size_stream.lognormal_mean_cv(1.0, 0.5, todo.astype(np.int64))
            counts[todo] = largest_remainder(group.beneficiaries - int(counts[here][counts[here] >= 0].sum()), weights)
    if geo.sample_fraction < 1.0:
        # the first ranks of each commune: the same people, with the same draws, as the full run
        counts = np.floor(counts * geo.sample_fraction + 0.5).astype(np.int64)
    g = places.group
    ethnic = np.array([grp.ethnic_minority_share for grp in groups], np.float64)[g]
    default_phone = pop.smartphone_share if pop is not None else None
    phone_by_terrain = np.array([
        (grp.smartphone_share or default_phone).array() if (grp.smartphone_share or default_phone) else np.zeros(3)
        for grp in groups
    ]).reshape(len(groups), 3)
    default_chip = pop.chip_id_share if pop is not None else np.nan
    chip = np.array([default_chip if grp.chip_id_share is None else grp.chip_id_share for grp in groups], np.float64)
    return Communes(
        district=g.astype(np.int32),
        terrain=terrain,
        beneficiaries=counts,
        district_names=list(places.group_names),
        places=places,
        ethnic_minority_share=_filled(places.ethnic_minority_share, ethnic),
        smartphone_share=_filled(places.smartphone_share, phone_by_terrain[g, terrain]),
        chip_id_share=_filled(places.chip_id_share, chip[g]),
    )


def _filled(per_commune: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(per_commune), fallback, per_commune)


def build_beneficiaries(
    geo: Geography, pop: Population, communes: Communes, streams, months: int = 0  # noqa: ANN001
) -> Beneficiaries:
    """Everyone there at the start, and the run's new approvals (drawn alike, keyed by their own
    ids; they join in their entry month)."""
    commune = np.repeat(np.arange(communes.n, dtype=np.int32), communes.beneficiaries)
    starts = np.cumsum(communes.beneficiaries) - communes.beneficiaries
    rank = np.arange(commune.size, dtype=np.int64) - np.repeat(starts, communes.beneficiaries)
    new_commune, new_rank, new_month = entrants(pop.demography, communes.n, months, geo.sample_fraction, streams)
    entry_month = np.concatenate([np.full(commune.size, -1, np.int16), new_month])
    commune = np.concatenate([commune, new_commune])
    rank = np.concatenate([rank, new_rank])
    ids = commune.astype(np.int64) * ID_STRIDE + rank
    district = communes.district[commune]
    terrain = communes.terrain[commune]

    category_shares = np.array(
        [pop.categories[c].share if c in pop.categories else 0.0 for c in CATEGORIES]
    )
    category = streams["population.category"].categorical(category_shares, ids).astype(np.int8)
    # Store people grouped by (commune, category), ids ascending within each group, so per-group
    # tables are sums over contiguous runs (np.add.reduceat). Every draw is keyed by id, so the
    # storage order changes no one's values.
    order = np.argsort(commune.astype(np.int64) * len(CATEGORIES) + category, kind="stable")
    ids, commune, district, terrain, category, entry_month = (
        a[order] for a in (ids, commune, district, terrain, category, entry_month)
    )

    coefficient = np.ones(ids.size)
    social = pop.categories.get("social_assistance")
    if social is not None and social.coefficients:
        values = np.array([float(k) for k in social.coefficients])
        shares = np.array(list(social.coefficients.values()))
        drawn = values[streams["population.coefficient"].categorical(shares, ids)]
        coefficient = np.where(category == SOCIAL, drawn, 1.0)

    age_shares = np.array([pop.age_groups.get(a, 0.0) for a in AGE_GROUPS])
    age_group = streams["population.age_group"].categorical(age_shares, ids).astype(np.int8)
    disabled = streams["population.disabled"].bernoulli(pop.disabled_share, ids)
    immobile = streams["population.immobile"].bernoulli(pop.immobile_share, ids)
    ethnic = streams["population.ethnic_minority"].bernoulli(communes.ethnic_minority_share[commune], ids)
    smartphone = streams["population.smartphone"].bernoulli(communes.smartphone_share[commune], ids)

    to_point = geo.travel_to_commune_point
    to_town = geo.travel_to_town
    travel_commune = streams["population.travel_commune"].lognormal_mean_cv(
        to_point.mean_min.array()[terrain], to_point.cv, ids
    )
    travel_town = streams["population.travel_town"].lognormal_mean_cv(
        to_town.mean_min.array()[terrain], to_town.cv, ids
    )
    return Beneficiaries(
        id=ids,
        commune=commune,
        district=district,
        terrain=terrain,
        category=category,
        coefficient=coefficient,
        age_group=age_group,
        disabled=disabled,
        immobile=immobile,
        ethnic_minority=ethnic,
        smartphone=smartphone,
        travel_commune_min=travel_commune,
        travel_town_min=travel_town,
        female=_female(pop, ids, streams),
        entry_month=entry_month,
    )


def _female(pop: Population, ids: np.ndarray, streams) -> np.ndarray:  # noqa: ANN001
    demo = pop.demography
    if demo is None:
        return np.zeros(ids.size, bool)
    return streams["population.female"].bernoulli(demo.female_share, ids)


def dated_amount(amounts, month: str) -> int:  # noqa: ANN001
    """The amount in force in `month` from a list of DatedAmount (latest start ≤ month)."""
    current = None
    best = -1
    target = month_index(month)
    for entry in amounts:
        start = month_index(entry.start)
        if best < start <= target:
            best, current = start, entry.vnd
    if current is None:
        raise ValueError(f"no amount in force in {month}")
    return int(current)


def entitlements(people: Beneficiaries, pop: Population, month: str) -> np.ndarray:
    """Monthly entitlement of each beneficiary in `month`, integer VND."""
    base = dated_amount(pop.base_level, month)
    amount = np.rint(people.coefficient * base).astype(np.int64)
    for code, name in ((MERIT, "merit"), (PENSION, "pension")):
        params = pop.categories.get(name)
        if params is not None and params.amount:
            amount[people.category == code] = dated_amount(params.amount, month)
    return amount
