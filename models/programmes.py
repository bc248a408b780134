"""Every programme the post office pays, each with its own amounts: social assistance (base level ×
coefficient), merit allowances (the allowance standard × the type's coefficient), social-insurance
pensions (a dated amount) and social pensions (a dated amount, from a dated age).

A beneficiary is in one programme first (`category`) and may receive a second one (`second`); the
amounts add. The amount of each is its own, so the reports can show each programme apart and all
together.
"""

from __future__ import annotations

import numpy as np

from welfare_sim.models.params import CATEGORIES, DatedAge, DatedAmount, Population, month_index, month_label

SOCIAL, MERIT, PENSION, SOCIAL_PENSION = (CATEGORIES.index(c) for c in CATEGORIES)
NO_SECOND = -1


def dated_amount(amounts: list[DatedAmount], month: str) -> int:
    """The amount in force in `month` from a list of DatedAmount (latest start ≤ month)."""
    current = _in_force(amounts, month, "vnd")
    if current is None:
        raise ValueError(f"no amount in force in {month}")
    return int(current)


def _in_force(entries: list, month: str, field: str) -> int | None:
    current = None
    best = -1
    target = month_index(month)
    for entry in entries:
        start = month_index(entry.start)
        if best < start <= target:
            best, current = start, getattr(entry, field)
    return current


def min_age_months(ages: list[DatedAge] | None, month: str) -> int | None:
    """The age (in months) from which the social pension is paid in `month`; None before its first date."""
    years = _in_force(ages or [], month, "years")
    return None if years is None else 12 * int(years)


def age_months(born: np.ndarray, month: int) -> np.ndarray:
    """Age in whole months at run month `month` (born: the run month of birth, negative before the run)."""
    return month - born.astype(np.int64)


def _amount_of(code: int, people, pop: Population, label: str, month: int) -> np.ndarray:  # noqa: ANN001
    """What programme `code` pays each person this month, were they in it (integer VND)."""
    params = pop.categories.get(CATEGORIES[code])
    n = people.id.size
    if params is None:
        return np.zeros(n, np.int64)
    if code == SOCIAL:
        return np.rint(people.coefficient * dated_amount(pop.base_level, label)).astype(np.int64)
    if _in_force(params.amount or [], label, "vnd") is None:
        return np.zeros(n, np.int64)  # not yet in force this month: nothing is owed
    amount = dated_amount(params.amount, label)
    if code == MERIT:
        return np.rint(people.merit_coefficient * amount).astype(np.int64)
    if code == SOCIAL_PENSION:
        from_age = min_age_months(params.min_age_years, label)
        if from_age is None:
            return np.zeros(n, np.int64)
        return np.where(age_months(people.born, month) >= from_age, amount, 0).astype(np.int64)
    return np.full(n, amount, np.int64)


def programme_amounts(people, pop: Population, label: str, month: int) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """Each person's monthly amount from their first programme and from their second (0 for none)."""
    first = np.zeros(people.id.size, np.int64)
    second = np.zeros(people.id.size, np.int64)
    for code in range(len(CATEGORIES)):
        in_first = people.category == code
        in_second = people.second == code
        if not (in_first.any() or in_second.any()):
            continue
        amount = _amount_of(code, people, pop, label, month)
        first[in_first] = amount[in_first]
        second[in_second] = amount[in_second]
    return first, second


def join_month(people, pop: Population, start: str, months: int) -> np.ndarray:  # noqa: ANN001
    """The run month each person joins the list: their approval month, or, for a social pension,
    the first month from then on that they are of the age in force (`months`: never in the run)."""
    entry = people.entry_month.astype(np.int64)
    joins = np.maximum(entry, 0)
    params = pop.categories.get("social_pension")
    members = np.flatnonzero(people.category == SOCIAL_PENSION)
    if params is None or members.size == 0:
        return entry
    out = entry.copy()
    waiting = members.copy()
    for m in range(months):
        if waiting.size == 0:
            break
        from_age = min_age_months(params.min_age_years, month_label(start, m))
        if from_age is None:
            continue
        due = (joins[waiting] <= m) & (age_months(people.born[waiting], m) >= from_age)
        ready = waiting[due]
        # there at the start and already of age: on the list from the start, as before
        out[ready] = np.where((entry[ready] < 0) & (m == 0), -1, m)
        waiting = waiting[~due]
    out[waiting] = months
    return out
