"""Beneficiaries and the communes they live in, held as columns (numpy arrays).

Every attribute is drawn once, up front, from a named stream keyed by the beneficiary's
stable id, so adding someone never changes anyone else's attributes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from welfare_sim.models import roster as roster_mod
from welfare_sim.models.demography import ID_STRIDE, age_group_at, age_span_months, draw_born, entrants, joiners
from welfare_sim.models.geography import (  # noqa: F401 (largest_remainder is imported from here too)
    Places,
    anonymous_places,
    assign_terrain,
    commune_radius_km,
    haversine_km,
    largest_remainder,
    scatter_homes,
    trip,
)
from welfare_sim.models.params import (
    AGE_GROUPS,
    CATEGORIES,
    MAX_AGE_YEARS,
    TERRAINS,
    Geography,
    Population,
    Travel,
    month_label,
)
from welfare_sim.models.programmes import MERIT, NO_SECOND, SOCIAL, SOCIAL_PENSION, join_month, min_age_months

URBAN, RURAL, MOUNTAIN = 0, 1, 2
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
    remoteness_km: np.ndarray | None = None  # km from the centre to the nearest post office (with coordinates)
    full_beneficiaries: np.ndarray | None = None  # int64, before any sample fraction: where the points stand

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
    category: np.ndarray  # int8: the first programme (models.programmes: SOCIAL, MERIT, PENSION, SOCIAL_PENSION)
    second: np.ndarray  # int8: a second programme also received (amounts add), or NO_SECOND
    coefficient: np.ndarray  # float64, social assistance: allowance = base × coefficient
    merit_coefficient: np.ndarray  # float64, merit: allowance = the standard × the type's coefficient
    age_group: np.ndarray  # int8: this month's (people age: see born)
    born: np.ndarray  # int32: run month of birth (negative: before the run); the age group follows it
    disabled: np.ndarray  # bool
    immobile: np.ndarray  # bool: cannot travel, home delivery eligible
    ethnic_minority: np.ndarray  # bool
    smartphone: np.ndarray  # bool
    travel_commune_min: np.ndarray  # float64, one way to the commune payment point
    travel_town_min: np.ndarray  # float64, one way to the post office (and, without coordinates, an ATM)
    female: np.ndarray  # bool
    entry_month: np.ndarray  # int16: month a new approval arrives; -1 for those there at the start
    # With coordinates (a register), set by plan_trips: home, and each trip's minutes and money by distance.
    # Without, None: trips are drawn by terrain and cost costs.travel_cost_vnd_per_min.
    home_lat: np.ndarray | None = None  # float64, degrees
    home_lon: np.ndarray | None = None
    travel_atm_min: np.ndarray | None = None  # float64, one way to the nearest ATM
    travel_commune_vnd: np.ndarray | None = None  # float64, money of a one-way trip to the commune point
    travel_town_vnd: np.ndarray | None = None  # to the post office
    travel_atm_vnd: np.ndarray | None = None  # to the ATM
    distance_km: dict[str, np.ndarray] | None = None  # great-circle km to the commune point, post office, ATM
    roster_filled: dict[str, int] | None = None  # a roster run: per attribute, people filled from the shares

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
    full = counts
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
        full_beneficiaries=full,
    )


def _filled(per_commune: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(per_commune), fallback, per_commune)


def build_beneficiaries(
    geo: Geography, pop: Population, communes: Communes, streams, months: int = 0, start: str = "2000-01"  # noqa: ANN001
) -> Beneficiaries:
    """Everyone there at the start, and the run's new approvals (drawn alike, keyed by their own
    ids; they join in their entry month)."""
    commune = np.repeat(np.arange(communes.n, dtype=np.int32), communes.beneficiaries)
    starts = np.cumsum(communes.beneficiaries) - communes.beneficiaries
    rank = np.arange(commune.size, dtype=np.int64) - np.repeat(starts, communes.beneficiaries)
    new_commune, new_rank, new_month = entrants(pop.demography, communes.n, months, geo.sample_fraction, streams)
    j_commune, j_rank, j_month, j_programme, j_lo, j_hi = joiners(
        pop, communes.n, start, months, geo.sample_fraction, streams
    )
    entry_month = np.concatenate([np.full(commune.size, -1, np.int16), new_month, j_month])
    # a joiner's programme and ages are its wave's; everyone else's are drawn (-1: drawn)
    n_drawn = commune.size + new_commune.size
    wave_programme = np.concatenate([np.full(n_drawn, -1, np.int8), j_programme])
    wave_lo = np.concatenate([np.full(n_drawn, -1, np.int64), j_lo])
    wave_hi = np.concatenate([np.full(n_drawn, -1, np.int64), j_hi])
    commune = np.concatenate([commune, new_commune, j_commune])
    rank = np.concatenate([rank, new_rank, j_rank])
    ids = commune.astype(np.int64) * ID_STRIDE + rank
    district = communes.district[commune]
    terrain = communes.terrain[commune]

    category_shares = np.array(
        [pop.categories[c].share if c in pop.categories else 0.0 for c in CATEGORIES]
    )
    category = streams["population.category"].categorical(category_shares, ids).astype(np.int8)
    if geo.roster is not None:  # a real roster says who is in which programme
        category = roster_mod.given(geo.roster.category, category, *roster_mod.positions(geo.roster, ids))[0]
    category = np.where(wave_programme >= 0, wave_programme, category).astype(np.int8)
    # Store people grouped by (commune, category), ids ascending within each group, so per-group
    # tables are sums over contiguous runs (np.add.reduceat). Every draw is keyed by id, so the
    # storage order changes no one's values.
    order = np.argsort(commune.astype(np.int64) * len(CATEGORIES) + category, kind="stable")
    ids, commune, district, terrain, category, entry_month, wave_lo, wave_hi = (
        a[order] for a in (ids, commune, district, terrain, category, entry_month, wave_lo, wave_hi)
    )

    # a real roster's people: where each stands in the stored order, and which roster person that is
    listed = roster_mod.positions(geo.roster, ids) if geo.roster is not None else None
    second = _second_programme(pop, category, ids, streams)
    if listed is not None:  # a person with two rows receives both allowances (the roster always says)
        second[listed[0]] = geo.roster.second[listed[1]]
    coefficient = np.ones(ids.size)
    social = pop.categories.get("social_assistance")
    if social is not None and social.coefficients:
        values = np.array([float(k) for k in social.coefficients])
        shares = np.array(list(social.coefficients.values()))
        drawn = values[streams["population.coefficient"].categorical(shares, ids)]
        coefficient = np.where((category == SOCIAL) | (second == SOCIAL), drawn, 1.0)
    merit_coefficient = np.ones(ids.size)
    merit = pop.categories.get("merit")
    if merit is not None and merit.types:
        values = np.array([t.coefficient for t in merit.types.values()])
        shares = np.array([t.share for t in merit.types.values()])
        drawn = values[streams["population.merit_type"].categorical(shares, ids)]
        merit_coefficient = np.where((category == MERIT) | (second == MERIT), drawn, 1.0)

    age_shares = np.array([pop.age_groups.get(a, 0.0) for a in AGE_GROUPS])
    age_group = streams["population.age_group"].categorical(age_shares, ids).astype(np.int8)
    lo, hi = age_span_months(age_group)
    min_age = _min_age_years(pop, category, entry_month, start, months)
    lo, hi = np.where(min_age > 0, 12 * min_age, lo), np.where(min_age > 0, 12 * MAX_AGE_YEARS, hi)
    lo, hi = np.where(wave_lo >= 0, wave_lo, lo), np.where(wave_hi >= 0, wave_hi, hi)
    born = draw_born(lo, hi, entry_month, ids, streams)
    if listed is not None:  # the roster's birth month (its date of birth's), else the draw
        born = roster_mod.given(geo.roster.born, born, *listed, missing=roster_mod.NO_BORN)[0]
    age_group = age_group_at(born, np.maximum(entry_month, 0))
    disabled = streams["population.disabled"].bernoulli(pop.disabled_share, ids)
    immobile = streams["population.immobile"].bernoulli(pop.immobile_share, ids)
    ethnic = streams["population.ethnic_minority"].bernoulli(communes.ethnic_minority_share[commune], ids)
    smartphone = streams["population.smartphone"].bernoulli(communes.smartphone_share[commune], ids)

    places = communes.places
    located = places is not None and bool(np.isfinite(places.latitude).all()) and places.n > 0
    if located:
        # the trips follow from where people live (plan_trips, once the points are placed)
        home_lat, home_lon = scatter_homes(places, commune_radius_km(places), commune, ids, streams)
        travel_commune = travel_town = np.zeros(ids.size)
    else:
        home_lat = home_lon = None
        to_point = geo.travel_to_commune_point
        to_town = geo.travel_to_town
        travel_commune = streams["population.travel_commune"].lognormal_mean_cv(
            to_point.mean_min.array()[terrain], to_point.cv, ids
        )
        travel_town = streams["population.travel_town"].lognormal_mean_cv(
            to_town.mean_min.array()[terrain], to_town.cv, ids
        )
    people = Beneficiaries(
        home_lat=home_lat,
        home_lon=home_lon,
        id=ids,
        commune=commune,
        district=district,
        terrain=terrain,
        category=category,
        second=second,
        coefficient=coefficient,
        merit_coefficient=merit_coefficient,
        age_group=age_group,
        born=born,
        disabled=disabled,
        immobile=immobile,
        ethnic_minority=ethnic,
        smartphone=smartphone,
        travel_commune_min=travel_commune,
        travel_town_min=travel_town,
        female=_female(pop, ids, streams),
        entry_month=entry_month,
    )
    # a social pension is paid from an age: its members join the list when they reach it
    people.entry_month = join_month(people, pop, start, months).astype(np.int16)
    people.age_group = age_group_at(born, 0)
    if geo.roster is not None:
        people.roster_filled = roster_mod.apply_roster(people, geo.roster)
    return people


def _min_age_years(
    pop: Population, category: np.ndarray, entry_month: np.ndarray, start: str, months: int
) -> np.ndarray:
    """A social pension's members are of the age in force in their first month on the list (the
    youngest age it is ever paid from, before its first date): nobody waits for a birthday at the start."""
    params = pop.categories.get("social_pension")
    if params is None or not params.min_age_years:
        return np.zeros(category.size, np.int64)
    youngest = 12 * min(a.years for a in params.min_age_years)
    by_month = np.array([min_age_months(params.min_age_years, month_label(start, m)) or youngest
                         for m in range(months + 1)]) // 12
    return np.where(category == SOCIAL_PENSION, by_month[np.minimum(np.maximum(entry_month, 0), months)], 0)


def _second_programme(pop: Population, category: np.ndarray, ids: np.ndarray, streams) -> np.ndarray:  # noqa: ANN001
    """The second programme each person also receives (`also` shares of their first one), or NO_SECOND."""
    second = np.full(ids.size, NO_SECOND, np.int8)
    for code, name in enumerate(CATEGORIES):
        also = pop.categories[name].also if name in pop.categories else None
        if not also:
            continue
        members = np.flatnonzero(category == code)
        names = list(also)
        shares = np.array([also[k] for k in names] + [max(0.0, 1.0 - sum(also.values()))])
        pick = streams["population.second_programme"].categorical(shares, ids[members])
        codes = np.array([CATEGORIES.index(k) for k in names] + [NO_SECOND], np.int8)
        second[members] = codes[pick]
    return second


def plan_trips(
    people: Beneficiaries,
    communes: Communes,
    post_office_km: np.ndarray,
    atm_km: np.ndarray,
    has_atm: bool,
    travel: Travel,
    vnd_per_hour: float,
    streams,  # noqa: ANN001
) -> None:
    """Each located beneficiary's one-way trips to their commune point, post office and ATM: minutes
    and money from the road distance (great-circle km × the terrain's detour factor) by the mode they
    take (models.geography.trip). Whether the household has a motorbike is drawn once, keyed by id."""
    places = communes.places
    ids = people.id
    hired = streams["population.no_motorbike"].bernoulli(travel.hired_share, ids)
    detour = travel.detour_factor.array()[people.terrain]
    to_commune = haversine_km(
        people.home_lat, people.home_lon, places.latitude[people.commune], places.longitude[people.commune]
    )
    out = {}
    for key, km in (("commune", to_commune), ("town", post_office_km), ("atm", atm_km)):
        minutes, money, _mode = trip(km * detour, people.terrain, ~hired, travel, vnd_per_hour)
        out[key] = (np.minimum(minutes, MAX_TRIP_MIN), money)
    people.travel_commune_min, people.travel_commune_vnd = out["commune"]
    people.travel_town_min, people.travel_town_vnd = out["town"]
    people.travel_atm_min, people.travel_atm_vnd = out["atm"] if has_atm else out["town"]
    people.distance_km = {"commune_point": to_commune, "post_office": post_office_km, "atm": atm_km}


MAX_TRIP_MIN = 1_440.0  # a one-way trip is at most a day (the longest any point's opening hours can wait)


def one_way(
    people: Beneficiaries, who: np.ndarray, local: np.ndarray, is_atm: np.ndarray, vnd_per_min: float
) -> tuple[np.ndarray, np.ndarray]:
    """(minutes, money VND) of the one-way trips of `who` to a point in their commune (`local`), an
    ATM (`is_atm`) or the post office: by distance where people are located, else the terrain draws
    at `vnd_per_min`."""
    atm_min = people.travel_town_min if people.travel_atm_min is None else people.travel_atm_min
    minutes = np.where(
        local, people.travel_commune_min[who], np.where(is_atm, atm_min[who], people.travel_town_min[who])
    )
    if people.travel_commune_vnd is None:
        return minutes, minutes * vnd_per_min
    money = np.where(
        local,
        people.travel_commune_vnd[who],
        np.where(is_atm, people.travel_atm_vnd[who], people.travel_town_vnd[who]),
    )
    return minutes, money


def _female(pop: Population, ids: np.ndarray, streams) -> np.ndarray:  # noqa: ANN001
    demo = pop.demography
    if demo is None:
        return np.zeros(ids.size, bool)
    return streams["population.female"].bernoulli(demo.female_share, ids)
