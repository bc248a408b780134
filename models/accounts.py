"""Accounts: the opening funnel, the payment list, dormancy, and the balance ledger.

Status codes follow the life of an account: NONE → APPLIED → OPEN ⇄ DORMANT; a failed
application returns to NONE. Balances are integer VND.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from welfare_sim.models.params import ACCOUNT_TYPES, AccountLife, AccountOpening, InitialAccounts
from welfare_sim.models.population import AGE_80_PLUS, MOUNTAIN, Beneficiaries

if TYPE_CHECKING:
    from welfare_sim.models.interventions import AccountHelp

NONE, APPLIED, OPEN, DORMANT = 0, 1, 2, 3
STATUS_NAMES = ("none", "applied", "open", "dormant")
NO_TYPE = -1


@dataclass
class Accounts:
    status: np.ndarray  # int8
    type: np.ndarray  # int8 index into ACCOUNT_TYPES, NO_TYPE without an account
    registered: np.ndarray  # bool: on the account payment list
    mismatch: np.ndarray  # bool: account details differ from the population database
    chip_id: np.ndarray  # bool
    balance_vnd: np.ndarray  # int64

    @property
    def has_account(self) -> np.ndarray:
        return (self.status == OPEN) | (self.status == DORMANT)

    def credit(self, idx: np.ndarray, amount_vnd: np.ndarray) -> None:
        self.balance_vnd[idx] += amount_vnd

    def withdraw(self, idx: np.ndarray, amount_vnd: np.ndarray) -> None:
        if np.any(amount_vnd > self.balance_vnd[idx]):
            raise AssertionError("withdrawal larger than the balance")
        self.balance_vnd[idx] -= amount_vnd


def open_accounts(
    acc: Accounts, idx: np.ndarray, people: Beneficiaries, opening: AccountOpening,
    life: AccountLife, streams, month: int,  # noqa: ANN001
) -> None:
    """Turn the accounts at `idx` into open ones of a drawn type, with a drawn data mismatch."""
    ids = people.id[idx]
    shares = np.array([opening.type_shares.get(t, 0.0) for t in ACCOUNT_TYPES])
    acc.status[idx] = OPEN
    acc.type[idx] = streams["accounts.type"].categorical(shares, ids, month)
    acc.mismatch[idx] = streams["accounts.credit_mismatch"].bernoulli(life.credit_mismatch_prob, ids, month)


def initial_accounts(
    people: Beneficiaries, init: InitialAccounts, opening: AccountOpening, life: AccountLife,
    chip_id_share: float, streams,  # noqa: ANN001
) -> Accounts:
    n = people.n
    acc = Accounts(
        status=np.full(n, NONE, np.int8),
        type=np.full(n, NO_TYPE, np.int8),
        registered=np.zeros(n, bool),
        mismatch=np.zeros(n, bool),
        chip_id=streams["population.chip_id"].bernoulli(chip_id_share, people.id),
        balance_vnd=np.zeros(n, np.int64),
    )
    has = streams["accounts.initial"].bernoulli(init.account_share.array()[people.terrain], people.id)
    idx = np.flatnonzero(has)
    open_accounts(acc, idx, people, opening, life, streams, -1)
    acc.registered[idx] = streams["accounts.initial_registered"].bernoulli(
        init.registered_share, people.id[idx]
    )
    return acc


_APPLY_SUBGROUPS = ("age_80_plus", "disabled", "ethnic_minority", "smartphone", "mountain")


def _subgroup_code(people: Beneficiaries) -> np.ndarray:
    """Per beneficiary, a 5-bit code of the subgroups the apply multipliers name (computed once:
    these attributes do not change during a run)."""
    code = people.__dict__.get("_apply_subgroup_code")
    if code is None or code.size != people.n:
        flags = (
            people.age_group == AGE_80_PLUS, people.disabled, people.ethnic_minority,
            people.smartphone, people.terrain == MOUNTAIN,
        )
        code = np.zeros(people.n, np.int8)
        for bit, flag in enumerate(flags):
            code |= flag.astype(np.int8) << bit
        people.__dict__["_apply_subgroup_code"] = code
    return code


def apply_probability(people: Beneficiaries, opening: AccountOpening, idx: np.ndarray) -> np.ndarray:
    """Monthly chance of applying for an account, by subgroup: the base chance times the
    multiplier of each subgroup a beneficiary belongs to, multiplied in the order of
    `_APPLY_SUBGROUPS` (a 32-entry table, one entry per combination)."""
    mult = opening.multipliers
    table = np.empty(1 << len(_APPLY_SUBGROUPS))
    for code in range(table.size):
        p = float(opening.monthly_apply_prob)
        for bit, name in enumerate(_APPLY_SUBGROUPS):
            if name in mult and code >> bit & 1:
                p = p * mult[name]
        table[code] = p
    return np.clip(table[_subgroup_code(people)[idx]], 0.0, 1.0)


def monthly_update(
    acc: Accounts,
    people: Beneficiaries,
    month: int,
    opening: AccountOpening,
    life: AccountLife,
    rollout_open: np.ndarray,
    drive_contact_prob: np.ndarray,
    eligible: np.ndarray,
    streams,  # noqa: ANN001
    assist: AccountHelp | None = None,
) -> dict[str, int]:
    """One month of the account funnel. Returns counts of what happened.

    rollout_open: bool per district, the cashless rollout has started there.
    drive_contact_prob: per beneficiary, chance a drive team met them this month.
    eligible: bool per beneficiary, still on the programme.
    assist: what the month's strategies change for each beneficiary (digital teams, fee waivers);
    help only ever moves a chance the helpful way (more applying and opening, less dormancy, more
    waking) and uses the same keyed draw, so it changes the outcome of the helped and nobody else's.
    """
    ids = people.id
    counts: dict[str, int] = {}

    no_id = np.flatnonzero(~acc.chip_id & eligible)
    got = streams["accounts.chip_id"].bernoulli(opening.monthly_chip_id_prob, ids[no_id], month)
    acc.chip_id[no_id[got]] = True
    counts["chip_ids_issued"] = int(got.sum())

    applied = np.flatnonzero(acc.status == APPLIED)
    success = np.full(applied.size, opening.success_prob)
    success = np.where(people.immobile[applied], success * opening.proxy_signature_factor, success)
    if assist is not None and assist.success_prob is not None:
        helped = assist.success_prob[applied]
        success = np.where(np.isnan(helped), success, np.maximum(success, helped))
    ok = streams["accounts.opening_success"].bernoulli(success, ids[applied], month)
    open_accounts(acc, applied[ok], people, opening, life, streams, month)
    acc.status[applied[~ok]] = NONE
    counts["accounts_opened"] = int(ok.sum())
    counts["applications_failed"] = int((~ok).sum())

    can_apply = (acc.status == NONE) & eligible
    if opening.needs_chip_id:
        can_apply &= acc.chip_id
    cand = np.flatnonzero(can_apply)
    p_self = apply_probability(people, opening, cand)
    if assist is not None and assist.apply_multiplier is not None:
        p_self = np.clip(p_self * assist.apply_multiplier[cand], 0.0, 1.0)
    p = 1.0 - (1.0 - p_self) * (1.0 - drive_contact_prob[cand])
    applies = streams["accounts.apply"].bernoulli(p, ids[cand], month)
    acc.status[cand[applies]] = APPLIED
    counts["applications"] = int(applies.sum())

    open_now = np.flatnonzero(acc.status == OPEN)
    dormant_now = np.flatnonzero(acc.status == DORMANT)
    p_sleep: np.ndarray | float = life.monthly_dormancy_prob
    p_wake: np.ndarray | float = life.monthly_reactivation_prob
    if assist is not None and assist.dormancy_factor is not None:
        p_sleep = life.monthly_dormancy_prob * assist.dormancy_factor[open_now]
    if assist is not None and assist.reactivation_prob is not None:
        helped = assist.reactivation_prob[dormant_now]
        p_wake = np.where(np.isnan(helped), p_wake, np.maximum(p_wake, helped))
    sleeps = streams["accounts.dormancy"].bernoulli(p_sleep, ids[open_now], month)
    wakes = streams["accounts.reactivation"].bernoulli(p_wake, ids[dormant_now], month)
    acc.status[open_now[sleeps]] = DORMANT
    acc.status[dormant_now[wakes]] = OPEN
    counts["went_dormant"] = int(sleeps.sum())
    counts["reactivated"] = int(wakes.sum())

    flagged = np.flatnonzero(acc.mismatch & (acc.status == OPEN) & ~acc.registered)
    fixed = streams["accounts.mismatch_fix"].bernoulli(life.monthly_mismatch_fix_prob, ids[flagged], month)
    acc.mismatch[flagged[fixed]] = False

    waiting = np.flatnonzero(
        (acc.status == OPEN) & ~acc.registered & rollout_open[people.district] & eligible
    )
    joins = streams["accounts.register"].bernoulli(life.monthly_register_prob, ids[waiting], month)
    acc.registered[waiting[joins]] = True
    counts["registered"] = int(joins.sum())
    return counts


def roster_accounts(
    acc: Accounts, people: Beneficiaries, roster, opening: AccountOpening, life: AccountLife, streams,  # noqa: ANN001
) -> int:
    """The accounts a real roster lists (in place): an account it gives is open, of the type it names, and
    on the payment list if the roster pays into it; a person it lists with none has none; the rest keep
    the drawn start. Returns
    how many the roster says nothing of."""
    from welfare_sim.models.roster import listed_accounts

    has, kind, into, none, filled = listed_accounts(people, roster)
    new = has[~acc.has_account[has]]
    drawn_registered = acc.registered[has] & acc.has_account[has]
    open_accounts(acc, new, people, opening, life, streams, -1)
    acc.status[has] = OPEN
    acc.type[has] = kind
    # on the payment list when the roster says it pays into the account; unsaid: as drawn
    acc.registered[has] = np.where(into == 1, True, np.where(into == 0, False, drawn_registered))
    acc.status[none] = NONE
    acc.type[none] = NO_TYPE
    acc.registered[none] = False
    acc.mismatch[none] = False
    return filled
