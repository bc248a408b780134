"""Deaths and new approvals: the chances and counts that make the population live.

Every draw is keyed by a stable id (a beneficiary's, or a commune's) and the month, so one more
beneficiary, or one more entrant, never shifts anyone else's draws.
"""

from __future__ import annotations

import numpy as np

from welfare_sim.models.params import AGE_GROUPS, MAX_AGE_YEARS, Demography

ID_STRIDE = 1 << 24  # beneficiary id = commune index × ID_STRIDE + rank within the commune
# ranks from here on, within a commune, are entrants: they never collide with the initial ranks
ENTRANT_RANK0 = 1 << 23


# The ages each group spans, in years: under 60 from birth (children and disabled adults are
# beneficiaries too), and ages are drawn uniform within a group (assumption: no age
# distribution of beneficiaries within the groups is published).
AGE_BOUNDS_YEARS = (0, 60, 80, MAX_AGE_YEARS)


def draw_born(
    age_group: np.ndarray, entry_month: np.ndarray, min_age_years: np.ndarray, ids: np.ndarray, streams  # noqa: ANN001
) -> np.ndarray:
    """Each person's run month of birth (negative: before the run). The age in months at their
    first month on the list is drawn uniform over their age group's span (over `min_age_years` to
    the oldest age instead, where that is given: a programme paid from an age), so its remainder
    mod 12 is a keyed draw of the birth month."""
    bounds = np.asarray(AGE_BOUNDS_YEARS, np.int64)
    from_age = min_age_years > 0
    lo = np.where(from_age, min_age_years, bounds[age_group]) * 12
    hi = np.where(from_age, MAX_AGE_YEARS, bounds[age_group.astype(np.int64) + 1]) * 12
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
    empty = np.zeros(0, np.int64)
    if demo is None or demo.entries_per_commune_month <= 0 or months <= 0 or n_communes == 0:
        return empty.astype(np.int32), empty, empty.astype(np.int16)
    commune = np.repeat(np.arange(n_communes, dtype=np.int64), months)
    month = np.tile(np.arange(months, dtype=np.int64), n_communes)
    u = streams["population.entries"].uniform(commune, month)
    counts = poisson_from_uniform(demo.entries_per_commune_month, u)
    who = np.repeat(commune, counts)
    when = np.repeat(month, counts)
    firsts = np.cumsum(counts) - counts
    per_commune_first = firsts.reshape(n_communes, months)[:, 0]
    rank = (
        ENTRANT_RANK0
        + np.arange(who.size, dtype=np.int64)
        - np.repeat(per_commune_first, counts.reshape(n_communes, months).sum(axis=1))
    )
    if sample_fraction < 1.0:
        keep = streams["population.entrant_sampled"].bernoulli(sample_fraction, who * ID_STRIDE + rank)
        who, rank, when = who[keep], rank[keep], when[keep]
    return who.astype(np.int32), rank, when.astype(np.int16)
