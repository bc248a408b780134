"""Districts (or regions) can differ in chip ID and smartphone coverage."""

from __future__ import annotations

import numpy as np
from factory import small

from welfare_sim.sim.engine import build_province
from welfare_sim.sim.scenario import validate_scenario


def province(data: dict) -> object:
    return build_province(validate_scenario(data, "test"), seed=3)


def shares(p, district: int) -> tuple[float, float]:
    here = p.people.district == district
    return float(p.accounts.chip_id[here].mean()), float(p.people.smartphone[here].mean())


def test_district_chip_id_and_smartphone_shares_apply_there_only() -> None:
    base = small()
    for d in base["geography"]["districts"]:
        d["beneficiaries"] *= 8  # enough people for the shares to show
    changed = small()
    changed["geography"]["districts"] = [dict(d) for d in base["geography"]["districts"]]
    first = changed["geography"]["districts"][0]
    first["chip_id_share"] = 0.98
    first["smartphone_share"] = {"urban": 0.01, "rural": 0.01, "mountain": 0.01}
    p0, p1 = province(base), province(changed)
    chip0, phone0 = shares(p0, 0)
    chip1, phone1 = shares(p1, 0)
    assert chip1 > 0.95 and chip1 > chip0 + 0.05
    assert phone1 < 0.03 and phone0 > phone1 + 0.1
    # the other district keeps the population's figures, person by person (keyed draws)
    other = p0.people.district == 1
    np.testing.assert_array_equal(p0.accounts.chip_id[other], p1.accounts.chip_id[other])
    np.testing.assert_array_equal(p0.people.smartphone[other], p1.people.smartphone[other])
