"""Deaths and new approvals: the chances and counts that make the population live.

Every draw is keyed by a stable id (a beneficiary's, or a commune's) and the month, so one more
beneficiary, or one more entrant, never shifts anyone else's draws.
"""

from __future__ import annotations

import numpy as np

from welfare_sim.models.params import AGE_GROUPS, CATEGORIES, MAX_AGE_YEARS, Demography, Population, month_offset

ID_STRIDE = 1 << 24  # beneficiary id = commune index × ID_STRIDE + rank within the commune
# ranks from here on, within a commune, are entrants: they never collide with the initial ranks
ENTRANT_RANK0 = 1 << 23


# The ages each group spans, in years: under 60 from birth (children and disabled adults are
# beneficiaries too), and ages are drawn uniform within a group (assumption: no age
# distribution of beneficiaries within the groups is published).
AGE_BOUNDS_YEARS = (0, 60, 80, MAX_AGE_YEARS)


def age_span_months(age_group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ages (in months, from and below) each person's age group spans."""
    bounds = np.asarray(AGE_BOUNDS_YEARS, np.int64) * 12
    return bounds[age_group], bounds[age_group.astype(np.int64) + 1]


def draw_born(lo: np.ndarray, hi: np.ndarray, entry_month: np.ndarray, ids: np.ndarray, streams) -> np.ndarray:  # noqa: ANN001
    """Each person's run month of birth (negative: before the run). The age in months at their
    first month on the list is drawn uniform on [lo, hi), so its remainder mod 12 is a keyed draw
    of the birth month."""
    age = lo + streams["population.age_months"].integers(hi - lo, ids)
    return (np.maximum(entry_month, 0) - age).astype(np.int32)


def age_group_at(born: np.ndarray, month: int) -> np.ndarray:
    """Each person's age group in run month `month`: people move up a group at their birthday."""
    age_years = (month - born.astype(np.int64)) // 12
    return (np.searchsorted(np.asarray(AGE_BOUNDS_YEARS[1:-1]), age_years, side="right")).astype(np.int8)


def monthly_death_prob(demo: Demography, age_group: np.ndarray, female: np.ndarray) -> np.ndarray:
    """Each person's monthly chance of dying: the life table's annual q(x) for their age group and
    sex, as a constant monthly hazard (1 - (1 - q)^(1/12), derived)."""
    table = np.zeros((len(AGE_GROUPS), 2))
    for g, name in enumerate(AGE_GROUPS):
        q = demo.annual_death_prob.get(name)
        if q is not None:
            table[g] = (q.male, q.female)
    monthly = 1.0 - (1.0 - table) ** (1.0 / 12.0)
    return monthly[age_group, female.astype(np.int64)]


def poisson_from_uniform(mean: float, u: np.ndarray) -> np.ndarray:
    """Poisson counts by inverting the distribution at keyed uniforms (one uniform, one count)."""
    if mean <= 0:
        return np.zeros(u.shape, np.int64)
    k_max = int(mean + 12.0 * np.sqrt(mean) + 20)
    k = np.arange(k_max + 1)
    log_pmf = k * np.log(mean) - mean - np.cumsum(np.r_[0.0, np.log(k[1:])])
    cdf = np.cumsum(np.exp(log_pmf))
    return np.minimum(np.searchsorted(cdf, u, side="right"), k_max).astype(np.int64)


def entrants(
    demo: Demography | None,
    n_communes: int,
    months: int,
    sample_fraction: float,
    streams,  # noqa: ANN001
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The run's new approvals, known up front so the columns are sized once: per entrant, the
    commune, the rank (from ENTRANT_RANK0, in order of arrival) and the month of arrival.

    The count of commune c in month m is Poisson(entries_per_commune_month), keyed by (c, m); a
    sampled run keeps each entrant with the sample fraction, keyed by the entrant's id, so the
    sample's entrants are the full run's."""
    mean = 0.0 if demo is None else demo.entries_per_commune_month
    return _arrivals(mean, n_communes, np.arange(max(months, 0)), ENTRANT_RANK0, "population.entries",
                     sample_fraction, streams)


# ranks of a programme's waves of joiners: after any number of entrants a run can draw (below
# 2**22 a commune), each wave its own block, so a wave never shifts anyone else's id
JOINER_RANK0 = ENTRANT_RANK0 + (1 << 22)
JOINER_WAVE_RANKS = 1 << 19


def joiners(
    pop: Population, n_communes: int, start: str, months: int, sample_fraction: float, streams  # noqa: ANN001
) -> tuple[np.ndarray, ...]:
    """Every programme's waves of joiners in the run: per joiner, the commune, rank, month of
    arrival, programme (index into CATEGORIES) and the span of ages at joining (months, [lo, hi))."""
    parts = []
    wave = 0
    for code, name in enumerate(CATEGORIES):
        params = pop.categories.get(name)
        for index, w in enumerate((params.joiners or []) if params else []):
            first = month_offset(start, w.start)
            in_run = np.arange(first, first + w.months)
            in_run = in_run[(in_run >= 0) & (in_run < months)]
            commune, rank, month = _arrivals(
                w.per_commune / w.months, n_communes, in_run, JOINER_RANK0 + wave * JOINER_WAVE_RANKS,
                f"population.joiners.{name}.{index}", sample_fraction, streams,
            )
            wave += 1
            n = commune.size
            parts.append((commune, rank, month, np.full(n, code, np.int8),
                          np.full(n, 12 * w.min_age_years, np.int64), np.full(n, 12 * w.max_age_years, np.int64)))
    if not parts:
        empty = np.zeros(0, np.int64)
        return (empty.astype(np.int32), empty, empty.astype(np.int16), empty.astype(np.int8), empty, empty)
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def _arrivals(
    mean: float, n_communes: int, months_in: np.ndarray, rank0: int, stream: str, sample_fraction: float,
    streams,  # noqa: ANN001
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson(mean) arrivals per commune in each of `months_in`, keyed by (commune, month) on
    `stream`; ranks from `rank0` in order of arrival within each commune."""
    empty = np.zeros(0, np.int64)
    n_months = months_in.size
    if mean <= 0 or n_months == 0 or n_communes == 0:
        return empty.astype(np.int32), empty, empty.astype(np.int16)
    commune = np.repeat(np.arange(n_communes, dtype=np.int64), n_months)
    month = np.tile(months_in.astype(np.int64), n_communes)
    u = streams[stream].uniform(commune, month)
    counts = poisson_from_uniform(mean, u)
    who = np.repeat(commune, counts)
    when = np.repeat(month, counts)
    firsts = np.cumsum(counts) - counts
    per_commune_first = firsts.reshape(n_communes, n_months)[:, 0]
    rank = (
        rank0
        + np.arange(who.size, dtype=np.int64)
        - np.repeat(per_commune_first, counts.reshape(n_communes, n_months).sum(axis=1))
    )
    if sample_fraction < 1.0:
        keep = streams["population.entrant_sampled"].bernoulli(sample_fraction, who * ID_STRIDE + rank)
        who, rank, when = who[keep], rank[keep], when[keep]
    return who.astype(np.int32), rank, when.astype(np.int16)
