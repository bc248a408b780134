"""A real roster as the starting population: the people it lists, with what it says of them.

The scenario layer (`welfare_sim.sim.roster`) reads and pseudonymises the file and hands the domain
a `RosterPeople`: plain arrays, one element per roster person, nothing personal (no names, ID, phone
or account numbers; the pseudonyms stay in the scenario layer). The commune counts of the map are the
roster's, so the model builds exactly these people, with ids `commune × ID_STRIDE + rank`, the rank
being the person's place within the commune in pseudonym order.

What the roster gives overrides the synthetic draw; what it leaves unknown (-1) keeps the draw from
the scenario's shares, which is how missing attributes are filled, and `fill_counts` says how many.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from welfare_sim.models.demography import ID_STRIDE

UNKNOWN = -1
NO_ACCOUNT = -2  # the roster says the person has no account
NO_BORN = np.iinfo(np.int32).max  # no date of birth in the roster (births are run months, all ≤ 0 at the start)


@dataclass(frozen=True)
class RosterPeople:
    """One element per roster person, sorted by commune and then pseudonym (the rank order)."""

    commune: np.ndarray  # int32, index into the scenario's communes
    category: np.ndarray  # int8, index into CATEGORIES (the person's first row)
    second: np.ndarray  # int8, a second programme (a second row of the same person), or -1 (NO_SECOND)
    born: np.ndarray  # int32, run month of birth (from the date of birth), NO_BORN where unknown
    coefficient: np.ndarray  # float64, social assistance: amount ÷ base level at the roster's date; NaN otherwise
    female: np.ndarray  # int8: 0, 1, UNKNOWN
    disabled: np.ndarray  # int8: 0, 1, UNKNOWN
    home_collection: np.ndarray  # int8: 0, 1, UNKNOWN
    account_type: np.ndarray  # int8: index into ACCOUNT_TYPES, NO_ACCOUNT, UNKNOWN
    into_account: np.ndarray  # int8: paid into the account (on the payment list) 1, in cash 0, UNKNOWN

    @property
    def n(self) -> int:
        return int(self.commune.size)

    def counts(self, n_communes: int) -> np.ndarray:
        """People per commune: the map's beneficiaries."""
        return np.bincount(self.commune, minlength=n_communes).astype(np.int64)

    def ids(self) -> np.ndarray:
        """Each person's model id (commune × ID_STRIDE + rank within the commune)."""
        first = np.searchsorted(self.commune, self.commune)
        return self.commune.astype(np.int64) * ID_STRIDE + (np.arange(self.n) - first)


def positions(roster: RosterPeople, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(where in `ids` each roster person is, and which roster row each of those is): the people built
    from the roster are the ids a roster gives; entrants (ids of later ranks) are not in it."""
    rid = roster.ids()
    order = np.argsort(ids, kind="stable")
    at = np.searchsorted(ids[order], rid)
    at = np.minimum(at, ids.size - 1)
    found = ids[order[at]] == rid
    return order[at[found]], np.flatnonzero(found)


def given(
    values: np.ndarray, drawn: np.ndarray, where: np.ndarray, rows: np.ndarray, missing: int = UNKNOWN
) -> tuple[np.ndarray, int]:
    """`drawn` with the roster's known values put in; and how many roster people kept the draw (filled)."""
    out = drawn.copy()
    v = values[rows]
    known = v != missing if v.dtype.kind in "iu" else ~np.isnan(v)
    out[where[known]] = v[known].astype(drawn.dtype)
    return out, int((~known).sum())


def apply_roster(people, roster: RosterPeople) -> dict[str, int]:  # noqa: ANN001 (a population.Beneficiaries)
    """Put the roster's known attributes into the built people (in place); return, per attribute, how
    many roster people kept the draw from the scenario's shares because the roster did not say."""
    where, rows = positions(roster, people.id)
    filled = {}
    coefficient, _ = given(roster.coefficient, people.coefficient, where, rows)
    people.coefficient = coefficient
    filled["born"] = int((roster.born[rows] == NO_BORN).sum())  # set in build_beneficiaries, with the age group
    people.disabled, filled["disabled"] = given(roster.disabled, people.disabled.astype(np.int8), where, rows)
    people.disabled = people.disabled.astype(bool)
    female, filled["female"] = given(roster.female, people.female.astype(np.int8), where, rows)
    people.female = female.astype(bool)
    return filled


def apply_home_collection(home_draw: np.ndarray, people, roster: RosterPeople) -> int:  # noqa: ANN001
    """Home collection as the roster lists it (in place): a person it lists as paid at home is one the
    rules let be paid at home (counted immobile: home delivery is for those who cannot travel), and asks
    for it; one it lists as not, does not ask. Returns how many kept the drawn take-up."""
    where, rows = positions(roster, people.id)
    out, filled = given(roster.home_collection, home_draw.astype(np.int8), where, rows)
    home_draw[:] = out.astype(bool)
    people.immobile[where[roster.home_collection[rows] == 1]] = True
    return filled


def listed_accounts(people, roster: RosterPeople):  # noqa: ANN001, ANN201
    """Who the roster says holds an account (person indices, account type, and whether paid into it:
    1, 0 or UNKNOWN), who it says holds none, and how many it says nothing of (they keep the drawn start)."""
    where, rows = positions(roster, people.id)
    t = roster.account_type[rows]
    has = t >= 0
    return where[has], t[has], roster.into_account[rows][has], where[t == NO_ACCOUNT], int((t == UNKNOWN).sum())
