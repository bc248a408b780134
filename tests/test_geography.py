"""The scenario's map: communes from the register by official code, the planner's per-commune file,
districts optional, and official codes and names in every table."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from factory import small

from welfare_sim.sim import register as reg
from welfare_sim.sim.engine import build_province
from welfare_sim.sim.run import run_scenario
from welfare_sim.sim.scenario import ScenarioError, load_scenario, read_yaml, resolve_extends, validate_scenario

ROOT = Path(__file__).resolve().parents[1]
HOA_BINH = ROOT / "scenarios" / "hoa_binh.yaml"


def hoa_binh_data() -> dict:
    return resolve_extends(HOA_BINH.resolve(), read_yaml(HOA_BINH))


def problems_of(data: dict) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        validate_scenario(data, "s.yaml")
    return err.value.problems


def on_2025_map(**geography: object) -> dict:
    """The small test world moved onto the 2025 map of Phú Thọ, without districts."""
    data = small()
    geo = data["geography"]
    town, hills = geo.pop("districts")
    geo.update(register="2025", province="Phú Thọ")
    geo["defaults"] = {k: v for k, v in hills.items() if k not in ("name", "communes")}
    geo.update(geography)
    for drive in data["interventions"]["drives"]:
        drive.pop("districts", None)
    return data


# --------------------------------------------------------------------------- Hòa Bình on the legacy map


def test_hoa_binh_communes_are_the_registers_by_code_and_district() -> None:
    scenario = load_scenario(HOA_BINH)
    places = scenario.geography.places
    register = reg.communes("Hòa Bình", "legacy")
    assert places.n == register.height == 151
    assert sorted(places.code) == register["code"].to_list()
    by_code = {r["code"]: r for r in register.iter_rows(named=True)}
    for code, name, group in zip(places.code, places.name, places.group, strict=True):
        assert by_code[code]["name"] == name
        assert by_code[code]["district_code"] == places.group_codes[group]
    # the scenario's per-district beneficiary totals stay
    province = build_province(scenario, seed=1)
    per_group = np.bincount(province.communes.district, weights=province.communes.beneficiaries)
    assert per_group.tolist() == [d.beneficiaries for d in scenario.geography.districts]


def test_a_geography_without_register_is_on_the_legacy_map() -> None:
    """`register:` is optional (its default is "legacy"); pydantic once took a method of the class
    for the default of the country's geography and refused every scenario that left the key out."""
    data = hoa_binh_data()
    del data["geography"]["register"]
    scenario = validate_scenario(data, "s.yaml")
    assert scenario.geography.register == "legacy"
    assert scenario.geography.places.n == 151


def test_district_names_match_the_register_without_diacritics() -> None:
    data = hoa_binh_data()
    data["geography"]["districts"][7]["name"] = "mai chau"
    for drive in data["interventions"]["drives"]:
        if drive.get("districts"):
            drive["districts"] = ["mai chau" if d == "Mai Châu" else d for d in drive["districts"]]
    places = validate_scenario(data, "s.yaml").geography.places
    assert places.group_codes[7] == "156"
    assert "Thị trấn Mai Châu" in [n for n, g in zip(places.name, places.group, strict=True) if g == 7]


def test_a_misspelt_district_is_refused_at_its_key_with_did_you_mean() -> None:
    data = hoa_binh_data()
    data["geography"]["districts"][7]["name"] = "Mai Chaau"
    data["interventions"]["drives"] = []
    (line,) = problems_of(data)
    assert line.startswith("s.yaml › geography.districts[7].name: ")
    assert "Mai Châu" in line and "did you mean" in line


def test_a_commune_count_that_disagrees_with_the_register_is_refused() -> None:
    data = hoa_binh_data()
    data["geography"]["districts"][9]["communes"] = 11  # Cao Phong has 10
    (line,) = problems_of(data)
    assert line.startswith("s.yaml › geography.districts[9].communes: ")
    assert "10 communes" in line and "(got 11)" in line
    data["geography"]["districts"][9]["communes"] = 10
    assert validate_scenario(data, "s.yaml").geography.places.n == 151


def test_a_district_named_twice_is_refused() -> None:
    data = hoa_binh_data()
    data["geography"]["districts"][1]["name"] = "Huyện Yên Thủy"  # districts[2] is Yên Thủy
    data["interventions"]["drives"] = []
    (line,) = problems_of(data)
    assert "districts[2].name" in line and "already given as districts[1]" in line


def test_a_misspelt_province_says_did_you_mean_at_its_key() -> None:
    data = hoa_binh_data()
    data["geography"]["province"] = "Hoa Binhh"
    (line,) = problems_of(data)
    assert line.startswith("s.yaml › geography.province: ") and '"Hòa Bình"' in line


def test_the_2025_map_has_no_districts() -> None:
    data = hoa_binh_data()
    data["geography"]["register"] = "2025"
    data["geography"]["province"] = "Phú Thọ"
    (line,) = problems_of(data)
    assert line.startswith("s.yaml › geography.districts: ") and "no districts" in line


DISTRICT_1 = "geography.districts.1.name"


def test_the_cli_refuses_a_bad_district_with_exit_code_2_and_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "welfare_sim", "validate", str(HOA_BINH), "--set", f"{DISTRICT_1}=Kim Boii"],
        capture_output=True,
        text=True,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2
    # the misspelt district comes first, before the strategies that name it as it should be spelt
    assert out.splitlines()[1].strip().startswith(f"{HOA_BINH} › geography.districts[1].name: ")
    assert 'did you mean "Kim Bôi"' in out
    assert "Traceback" not in out


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_still_validates(path: Path) -> None:
    scenario = load_scenario(path)
    places = [p.geography.places for _, p in scenario.parts] or [scenario.geography.places]  # a country: each province
    assert all(p.n > 0 for p in places)


# --------------------------------------------------------------------------- the planner's file


def test_commune_file_joins_by_name_and_code_and_sets_the_communes_figures(tmp_path: Path) -> None:
    (tmp_path / "communes.csv").write_text(
        "name,code,beneficiaries,ethnic_minority_share,terrain\nxa pa co,,95,0.98,mountain\n,05200,180,0.5,urban\n",
        encoding="utf-8",
    )
    data = hoa_binh_data()
    data["geography"]["commune_data"] = str(tmp_path / "communes.csv")
    scenario = validate_scenario(data, "s.yaml")
    province = build_province(scenario, seed=1)
    com = province.communes
    code = list(com.places.code)
    pa_co, town = code.index("05209"), code.index("05200")
    assert com.beneficiaries[pa_co] == 95 and com.beneficiaries[town] == 180
    assert com.ethnic_minority_share[pa_co] == pytest.approx(0.98)
    assert com.terrain[pa_co] == 2 and com.terrain[town] == 0
    # the district's total stays: the other communes share what the file does not count
    mai_chau = com.district == 7
    assert int(com.beneficiaries[mai_chau].sum()) == 2250
    # a commune the file leaves out takes its district's share
    other = np.flatnonzero(mai_chau)[0]
    other = other if other not in (pa_co, town) else np.flatnonzero(mai_chau)[2]
    assert com.ethnic_minority_share[other] == pytest.approx(0.88)


def test_commune_file_problems_are_reported_at_the_key_with_row_and_did_you_mean(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("name,beneficiaries\nxa pa coo,10\nXã Hang Kia,-3\n", encoding="utf-8")
    data = hoa_binh_data()
    data["geography"]["commune_data"] = str(tmp_path / "c.csv")
    lines = problems_of(data)
    assert all(line.startswith("s.yaml › geography.commune_data: ") for line in lines)
    assert any("row 1 (line 2)" in line and "Pà Cò" in line for line in lines)
    assert any("row 2 (line 3)" in line and "'-3'" in line for line in lines)


def test_commune_file_counting_more_than_the_district_is_refused(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("code,beneficiaries\n05209,3000\n", encoding="utf-8")
    data = hoa_binh_data()
    data["geography"]["commune_data"] = str(tmp_path / "c.csv")
    (line,) = problems_of(data)
    assert line.startswith("s.yaml › geography.districts[7].beneficiaries: ") and "3000" in line


def test_commune_file_path_is_relative_to_the_scenario_that_names_it(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "c.csv").write_text("code,beneficiaries\n05209,40\n", encoding="utf-8")
    base = tmp_path / "base.yaml"
    base.write_text(
        HOA_BINH.read_text(encoding="utf-8").replace(
            "  province: Hòa Bình\n", "  province: Hòa Bình\n  commune_data: data/c.csv\n"
        ),
        encoding="utf-8",
    )
    (tmp_path / "sub").mkdir()
    child = tmp_path / "sub" / "strategy.yaml"
    child.write_text("extends: ../base.yaml\nname: strategy\n", encoding="utf-8")
    places = load_scenario(child).geography.places
    assert places.beneficiaries[list(places.code).index("05209")] == 40


# --------------------------------------------------------------------------- without districts


def test_a_2025_scenario_without_districts_runs_with_areas_and_defaults() -> None:
    data = on_2025_map(
        areas=[
            {
                "name": "former Hòa Bình",
                "communes": ["Phường Hòa Bình", "xa mai chau", "04792"],
                "beneficiaries": 90,
                "cashless_start": "2023-03",
                "atms": 1,
            }
        ],
    )
    data["geography"]["defaults"]["beneficiaries"] = 400
    data["interventions"]["drives"][0]["districts"] = ["former Hòa Bình"]
    scenario = validate_scenario(data, "s.yaml")
    places = scenario.geography.places
    assert places.n == reg.communes("Phú Thọ", "2025").height
    assert places.group_names == ("former Hòa Bình", "Phú Thọ")
    area = [n for n, g in zip(places.name, places.group, strict=True) if g == 0]
    assert sorted(area) == ["Phường Hòa Bình", "Phường Tân Hòa", "Xã Mai Châu"]
    province = build_province(scenario, seed=3)
    per_group = np.bincount(province.communes.district, weights=province.communes.beneficiaries)
    assert per_group.tolist() == [90, 400]
    # the area's rollout date, the rest of the province the defaults'
    assert province.rollout_month.tolist() == [2, 1]
    result = run_scenario(scenario, months=1)
    assert set(result.monthly["district_name"].unique()) <= {"former Hòa Bình", "Phú Thọ"}
    assert result.monthly["commune_code"].null_count() == 0


def test_without_districts_a_missing_setting_is_asked_for_at_its_key() -> None:
    data = on_2025_map(areas=[{"name": "a", "communes": ["Xã Mai Châu"]}])
    del data["geography"]["defaults"]["cashless_start"]
    lines = problems_of(data)
    missing = "required key missing; set it here or in geography.defaults"
    assert f"s.yaml › geography.areas[0].cashless_start: {missing}" in lines
    assert any(line.startswith("s.yaml › geography.defaults.cashless_start") for line in lines)


def test_a_commune_in_two_areas_and_an_unknown_commune_are_refused() -> None:
    data = on_2025_map(
        areas=[
            {"name": "a", "communes": ["Xã Mai Châu"], "beneficiaries": 5},
            {"name": "b", "communes": ["xa mai chau", "Xã Mai Chàu Chàu"], "beneficiaries": 5},
        ]
    )
    data["geography"]["defaults"]["beneficiaries"] = 100
    lines = problems_of(data)
    assert any(
        line.startswith("s.yaml › geography.areas[1].communes[0]: ") and "already in area 'a'" in line for line in lines
    )
    assert any(line.startswith("s.yaml › geography.areas[1].communes[1]: ") for line in lines)


def test_register_none_keeps_the_anonymous_counted_communes() -> None:
    data = small()
    scenario = validate_scenario(data, "s.yaml")
    places = scenario.geography.places
    assert places.n == 5 and set(places.code) == {""}
    assert places.name[3] == "Hills commune 1"
    data["geography"]["register"] = "legacy"
    (line,) = problems_of(data)
    assert line.startswith("s.yaml › geography.province: ") and 'register: "none"' in line


# --------------------------------------------------------------------------- outputs


def test_hoa_binh_outputs_name_every_commune_with_its_code() -> None:
    scenario = load_scenario(HOA_BINH)
    result = run_scenario(scenario, months=1)
    register = reg.communes("Hòa Bình", "legacy").select(
        pl.col("code").alias("commune_code"), pl.col("name").alias("register_name"), "district_code"
    )
    monthly = result.monthly.join(register, on=["commune_code"], how="left", suffix="_register")
    assert monthly["register_name"].null_count() == 0
    assert (monthly["commune_name"] == monthly["register_name"]).all()
    assert (monthly["district_code"] == monthly["district_code_register"]).all()
    assert result.places.height == 151 and result.places["commune_code"].null_count() == 0
    assert result.places["latitude"].is_between(20.0, 21.5).all()
    points = result.points
    assert points["district_name"].null_count() == 0 and points["district_code"].null_count() == 0
    # each point in the commune it stands in, at that commune's coordinates or its own
    placed = points.join(result.places.select("commune", "commune_code"), on="commune", suffix="_place")
    assert (placed["commune_code"] == placed["commune_code_place"]).all()
    assert points["latitude"].is_between(20.0, 21.5).all()


def test_payments_rows_carry_the_codes_and_names(tmp_path: Path) -> None:
    from welfare_sim.sim.run import write_run

    data = copy.deepcopy(hoa_binh_data())
    scenario = validate_scenario(data, "s.yaml")
    write_run(scenario, tmp_path / "run", months=1, payments=True)
    payments = pl.read_parquet(tmp_path / "run" / "payments.parquet")
    assert payments["commune_code"].null_count() == 0
    first = payments.row(0, named=True)
    assert reg.find_commune(first["commune_code"], register="legacy").name == first["commune_name"]


# --------------------------------------------------------------------------- places and distances


@pytest.fixture(scope="module")
def hoa_binh_province():  # noqa: ANN201
    return build_province(load_scenario(HOA_BINH), seed=5)


def _brute_nearest(lat: np.ndarray, lon: np.ndarray, p_lat: np.ndarray, p_lon: np.ndarray) -> np.ndarray:
    return np.argmin(reg.distance_matrix_km(lat, lon, p_lat, p_lon), axis=1)


def test_nearest_agrees_with_a_brute_force_search_on_random_maps() -> None:
    from welfare_sim.models.geography import commune_radius_km, nearest, scatter_homes
    from welfare_sim.sim.streams import Streams

    for seed in range(6):
        rng = np.random.default_rng(seed)
        n_communes, n_points, n_people = int(rng.integers(2, 40)), int(rng.integers(1, 30)), 600
        places = copy.copy(load_scenario(HOA_BINH).geography.places)
        pick = np.sort(rng.choice(places.n, n_communes, replace=False))
        lat, lon = 20.5 + rng.random(n_communes) * 0.6, 105.0 + rng.random(n_communes) * 0.6
        sub = type(places)(
            **{
                **places.__dict__,
                "code": tuple(places.code[i] for i in pick),
                "name": tuple(places.name[i] for i in pick),
                "type": tuple(places.type[i] for i in pick),
                "group": np.zeros(n_communes, np.int32),
                "latitude": lat,
                "longitude": lon,
                "area_km2": np.where(rng.random(n_communes) < 0.5, rng.random(n_communes) * 80, np.nan),
            }
        )
        radius = commune_radius_km(sub)
        commune = rng.integers(0, n_communes, n_people)
        ids = np.arange(n_people, dtype=np.int64)
        h_lat, h_lon = scatter_homes(sub, radius, commune, ids, Streams(seed))
        p_lat, p_lon = 20.5 + rng.random(n_points) * 0.6, 105.0 + rng.random(n_points) * 0.6
        got, km = nearest(h_lat, h_lon, commune, sub, radius, p_lat, p_lon)
        want = _brute_nearest(h_lat, h_lon, p_lat, p_lon)
        assert np.array_equal(got, want), seed
        assert np.allclose(km, reg.distance_km(h_lat, h_lon, p_lat[want], p_lon[want]))


def test_nearest_breaks_ties_to_the_lower_index_as_a_brute_force_search_does() -> None:
    """Points stacked at one place (a commune's ATMs) and people exactly between points on a grid of
    quarter degrees: exact ties, which must go to the lower index, as np.argmin over all points."""
    from welfare_sim.models.geography import haversine_km, nearest

    places = load_scenario(HOA_BINH).geography.places
    radius = np.ones(places.n)
    for seed in range(6):
        rng = np.random.default_rng(seed)
        grid_lat = 20.0 + 0.25 * rng.integers(0, 5, 40)
        grid_lon = 105.0 + 0.25 * rng.integers(0, 5, 40)
        p_lat = np.concatenate([grid_lat, grid_lat[:10]])  # the first ten stacked twice
        p_lon = np.concatenate([grid_lon, grid_lon[:10]])
        order = rng.permutation(p_lat.size)
        p_lat, p_lon = p_lat[order], p_lon[order]
        # people on the grid, on its midpoints (equidistant from two or four points), and anywhere
        h_lat = np.concatenate([20.0 + 0.125 * rng.integers(0, 10, 400), 19.9 + rng.random(200) * 1.2])
        h_lon = np.concatenate([105.0 + 0.125 * rng.integers(0, 10, 400), 104.9 + rng.random(200) * 1.2])
        commune = rng.integers(0, places.n, h_lat.size)
        got, km = nearest(h_lat, h_lon, commune, places, radius, p_lat, p_lon)
        d = haversine_km(h_lat[:, None], h_lon[:, None], p_lat[None, :], p_lon[None, :])
        want = np.argmin(d, axis=1)
        ties = (d == d.min(axis=1, keepdims=True)).sum(axis=1)
        assert (ties > 1).sum() > 100, seed  # the test does test ties
        assert np.array_equal(got, want), seed
        assert np.array_equal(km, d[np.arange(h_lat.size), want]), seed


def test_homes_lie_in_their_communes_disc(hoa_binh_province) -> None:  # noqa: ANN001
    from welfare_sim.models.geography import commune_radius_km

    p = hoa_binh_province
    places = p.communes.places
    radius = commune_radius_km(places)
    km = reg.distance_km(
        p.people.home_lat, p.people.home_lon, places.latitude[p.people.commune], places.longitude[p.people.commune]
    )
    # (the disc is drawn in degrees on a flat map: within a thousandth of the radius on the sphere)
    assert (km <= radius[p.people.commune] * (1 + 1e-3)).all()
    # spread over the disc, not piled at the centre: half the people beyond 1/√2 of the radius
    assert 0.45 < np.mean(km > radius[p.people.commune] / np.sqrt(2)) < 0.55


def test_everyone_uses_the_nearest_post_office_and_atm(hoa_binh_province) -> None:  # noqa: ANN001
    from welfare_sim.models.cashout import ATM, POST_OFFICE

    p = hoa_binh_province
    people, pts = p.people, p.points
    for kind, assigned in ((POST_OFFICE, p.post_office), (ATM, p.atm)):
        at = np.flatnonzero(pts.kind == kind)
        want = at[_brute_nearest(people.home_lat, people.home_lon, pts.latitude[at], pts.longitude[at])]
        assert np.array_equal(assigned, want)


def test_no_one_cashes_out_farther_than_the_nearest_point_of_their_routed_kind(hoa_binh_province) -> None:  # noqa: ANN001
    from welfare_sim.models.cashout import ATM, POST_OFFICE

    p = hoa_binh_province
    people, pts = p.people, p.points
    holders = np.flatnonzero(p.accounts.type >= 0)
    assert holders.size > 1000
    used = p.cashout_point[holders]
    kind = pts.kind[used]
    used_km = reg.distance_km(
        people.home_lat[holders], people.home_lon[holders], pts.latitude[used], pts.longitude[used]
    )
    checked = 0
    for k in (POST_OFFICE, ATM):  # the kind chosen, then its nearest point
        at = np.flatnonzero(pts.kind == k)
        mine = kind == k
        checked += int(mine.sum())
        if not mine.any():
            continue
        d = reg.distance_matrix_km(
            people.home_lat[holders[mine]], people.home_lon[holders[mine]], pts.latitude[at], pts.longitude[at]
        )
        assert (used_km[mine] <= d.min(axis=1) + 1e-9).all()
    assert checked > 1000


def test_points_stand_at_their_places(hoa_binh_province) -> None:  # noqa: ANN001
    from welfare_sim.models.cashout import ATM, COMMUNE_POINT, POST_OFFICE

    p = hoa_binh_province
    pts, places = p.points, p.communes.places
    cp = np.flatnonzero(pts.kind == COMMUNE_POINT)
    assert np.array_equal(pts.latitude[cp], places.latitude) and np.array_equal(pts.site[cp], np.arange(places.n))
    # one post office per district, in its district town (every Hòa Bình district has a township or wards)
    offices = pts.site[pts.kind == POST_OFFICE]
    assert [places.group[c] for c in offices] == list(range(10))
    assert {places.type[c] for c in offices} <= {"Phường", "Thị trấn"}
    assert places.name[offices[7]] == "Thị trấn Mai Châu"
    # ATMs only in wards and townships, as many per district as the scenario says
    atms = pts.site[pts.kind == ATM]
    assert {places.type[c] for c in atms} <= {"Phường", "Thị trấn"}
    assert np.bincount(places.group[atms], minlength=10).tolist() == [d.atms for d in p.geo.groups]


def test_trips_cost_more_time_and_money_the_farther_they_go() -> None:
    from welfare_sim.models.geography import MODES, trip
    from welfare_sim.models.params import Travel

    travel = Travel()
    km = np.linspace(0.0, 80.0, 4001)
    vot = 15_000
    for terrain in range(3):
        for motorbike in (True, False):
            t = np.full(km.size, terrain)
            has = np.full(km.size, motorbike)
            minutes, money, mode = trip(km, t, has, travel, vot)
            for m, name in enumerate(MODES):  # within a mode, minutes and money rise with distance
                at = mode == m
                assert (np.diff(minutes[at]) > 0).all() and (np.diff(money[at]) >= 0).all()
                speed = getattr(travel, name).speed_kmh.array()[terrain]
                assert np.allclose(minutes[at], getattr(travel, name).wait_min + km[at] / speed * 60)
            # the mode taken is the one of least money + time among those open at that distance
            for name in MODES:
                mode_m = getattr(travel, name)
                alt_min = mode_m.wait_min + km / mode_m.speed_kmh.array()[terrain] * 60
                alt = mode_m.fixed_vnd + mode_m.vnd_per_km * km + alt_min * vot / 60
                open_ = {
                    "walk": km <= travel.walk_max_km,
                    "motorbike": has,
                    "xe_om": np.ones(km.size, bool),
                    "bus": km >= travel.bus_min_km,
                }[name]
                assert (money + minutes * vot / 60 <= np.where(open_, alt, np.inf) + 1e-6).all()
            assert mode[0] == 0 and (mode[km > travel.walk_max_km] != 0).all()
            assert (mode[km < travel.bus_min_km] != 3).all()


def test_travel_minutes_rise_with_distance_for_people_who_travel_alike(hoa_binh_province) -> None:  # noqa: ANN001
    from welfare_sim.models.geography import trip

    p = hoa_binh_province
    people = p.people
    km = people.distance_km["post_office"] * p.geo.travel.detour_factor.array()[people.terrain]
    minutes, _money, mode = trip(km, people.terrain, np.ones(km.size, bool), p.geo.travel, 15_000)
    for terrain in range(3):
        riders = (people.terrain == terrain) & (mode == 1)
        order = np.argsort(km[riders])
        assert (np.diff(minutes[riders][order]) >= 0).all()
    # the model's own trip times are those of the distance
    ridden = (mode == 1) & (people.travel_town_min < 1440) & ~np.isclose(people.travel_town_vnd, 0)
    assert ridden.sum() > 100


def test_a_district_without_atms_sends_its_people_far_at_their_own_cost() -> None:
    data = hoa_binh_data()
    for d in data["geography"]["districts"][1:]:
        d["atms"] = 0
    p = build_province(validate_scenario(data, "s.yaml"), seed=5)
    people = p.people
    far = people.district == 8  # Đà Bắc: its ATMs are now all in Hòa Bình city
    assert (p.points.kind[p.atm] == 2).all()
    assert (p.points.site[p.atm][far] >= 0).all()
    assert set(p.communes.places.group[p.points.site[p.atm][far]]) == {0}
    assert people.travel_atm_min[far].mean() > 2 * people.travel_commune_min[far].mean()
    assert people.travel_atm_vnd[far].mean() > people.travel_commune_vnd[far].mean()
    assert (
        people.distance_km["atm"][far].mean()
        > 3
        * reg.distance_km(
            people.home_lat[far],
            people.home_lon[far],
            p.communes.places.latitude[people.commune[far]],
            p.communes.places.longitude[people.commune[far]],
        ).mean()
    )


def test_remote_first_goes_farthest_from_a_post_office_first(hoa_binh_province) -> None:  # noqa: ANN001
    from welfare_sim.models.interventions import commune_order

    com = hoa_binh_province.communes
    every = np.arange(com.n)
    order = commune_order("remote_first", com, every, np.zeros(com.n))
    assert (np.diff(com.remoteness_km[order]) <= 0).all()
    assert com.remoteness_km[order[0]] == com.remoteness_km.max()


def test_the_docs_examples_are_valid_geography(tmp_path: Path) -> None:
    import re

    import yaml

    text = (ROOT / "docs" / "geography.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if b.startswith("geography:")]
    assert len(blocks) == 2
    (tmp_path / "hoa_binh_communes.csv").write_text(
        re.search(r"`hoa_binh_communes.csv`:\n\n```csv\n(.*?)```", text, re.S).group(1), encoding="utf-8"
    )
    codes = reg.communes("Phú Thọ", "2025")["code"].to_list()
    (tmp_path / "phu_tho_communes.csv").write_text(
        "code,beneficiaries\n" + "".join(f"{c},{i % 7}\n" for i, c in enumerate(codes)), encoding="utf-8"
    )
    for block in blocks:
        data = small()
        geo = block["geography"]
        geo["commune_data"] = str(tmp_path / geo["commune_data"])
        data["geography"] = geo
        data["assumptions"]["costs"].pop("travel_cost_vnd_per_min")
        for drive in data["interventions"]["drives"]:
            drive.pop("districts", None)
        places = validate_scenario(data, "docs/geography.md").geography.places
        assert places.n > 0 and "" not in places.code
