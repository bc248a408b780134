"""The administrative registers (sim/register.py) against the installed packages' real data: counts as
published, Hòa Bình by name and code, name matching with did-you-mean, the legacy -> 2025 converter
(Hòa Bình into Phú Thọ) and remapping, great-circle distances, and reading offline."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import polars as pl
import pytest

from welfare_sim.sim import register as reg
from welfare_sim.sim.register import RegisterError

# Hòa Bình before 2025-07: 1 city and 9 districts (names as the scenario hoa_binh.yaml gives them).
HOA_BINH_DISTRICTS = {
    "Hòa Bình",
    "Đà Bắc",
    "Lương Sơn",
    "Kim Bôi",
    "Cao Phong",
    "Tân Lạc",
    "Mai Châu",
    "Lạc Sơn",
    "Yên Thủy",
    "Lạc Thủy",
}


# --------------------------------------------------------------------------- counts as published


def test_legacy_register_counts() -> None:
    communes = reg.all_communes("legacy")
    assert reg.provinces("legacy").height == 63
    assert communes["district_code"].n_unique() + 5 == 696  # 5 island districts have no commune (below)
    assert reg._legacy_districts().height == 696
    # 10,035 commune-level units: the count the July 2025 reform started from (10,035 -> 3,321).
    assert communes.height == 10_035
    assert communes["code"].n_unique() == communes.height
    assert set(communes["type"]) == {"Xã", "Phường", "Thị trấn"}
    without = reg._legacy_districts().join(communes, left_on="code", right_on="district_code", how="anti")
    assert sorted(without["short_name"]) == ["Bạch Long Vĩ", "Côn Đảo", "Cồn Cỏ", "Hoàng Sa", "Lý Sơn"]


def test_2025_register_counts() -> None:
    communes = reg.all_communes("2025")
    assert reg.provinces("2025").height == 34
    assert communes.height == 3_321
    assert communes["code"].n_unique() == 3_321
    # As announced: 2,621 communes, 687 wards, 13 special zones.
    counts = dict(communes.group_by("type").len().iter_rows())
    assert counts == {"Xã": 2_621, "Phường": 687, "Đặc khu": 13}
    assert communes["district"].null_count() == communes.height
    assert communes["area_km2"].null_count() <= 2  # vietnamadminunits has no area for two communes


@pytest.mark.parametrize("register", ["legacy", "2025"])
def test_codes_and_places_are_well_formed(register: str) -> None:
    communes = reg.all_communes(register)
    units = [communes] + ([reg._legacy_districts()] if register == "legacy" else []) + [reg.provinces(register)]
    for frame in units:
        assert (frame["name"] == frame["type"] + " " + frame["short_name"]).all()
        assert not frame["short_name"].str.contains(r"\(").any()
    assert communes["code"].str.contains(r"^\d{5}$").all()
    assert communes["province_code"].str.contains(r"^\d{2}$").all()
    assert set(communes["province_code"]) == set(reg.provinces(register)["code"])
    # Every commune is in Việt Nam, islands included (Trường Sa reaches 117° E).
    assert communes["latitude"].is_between(8.0, 23.5).all()
    assert communes["longitude"].is_between(102.0, 117.5).all()
    assert communes["code"].is_sorted()


def test_2025_places_join_the_commune_they_name() -> None:
    # The 2025 map takes codes from one package and places from the other; a wrong join would put a
    # commune far from the other communes of its province.
    communes = reg.all_communes("2025").join(
        reg.provinces("2025").select("code", plat="latitude", plon="longitude"),
        left_on="province_code",
        right_on="code",
    )
    km = reg.distance_km(communes["latitude"], communes["longitude"], communes["plat"], communes["plon"])
    assert float(np.max(km[communes["type"].to_numpy() != "Đặc khu"])) < 250


# --------------------------------------------------------------------------- Hòa Bình by name and code


def test_hoa_binh_151_communes_by_name_and_code() -> None:
    hoa_binh = reg.find_province("Hoa Binh", "legacy")
    assert (hoa_binh.code, hoa_binh.name) == ("17", "Tỉnh Hòa Bình")
    communes = reg.communes("Hòa Bình", "legacy")
    assert communes.height == 151
    assert set(reg.districts("Hòa Bình")["short_name"]) == HOA_BINH_DISTRICTS
    assert set(communes["district_code"]) == set(reg.districts(17)["code"])
    for row in communes.iter_rows(named=True):
        by_code = reg.find_commune(row["code"], register="legacy")
        assert (by_code.name, by_code.district) == (row["name"], row["district"])
        # Typed without diacritics or type, within its district: the same commune.
        folded = reg.fold(row["short_name"])
        found = reg.find_commune(folded, "hoa binh", "legacy", district=reg.fold(row["district"]))
        assert found.code == row["code"], (folded, row["district"])


def test_hoa_binh_known_units() -> None:
    town = reg.find_commune("thi tran mai chau", "Hòa Bình", "legacy")
    assert (town.type, town.short_name, town.district) == ("Thị trấn", "Mai Châu", "Huyện Mai Châu")
    city = reg.find_district("TP Hoa Binh", "Tinh Hoa Binh")
    assert (city.type, city.code) == ("Thành phố", "148")
    assert reg.communes("hoa binh", "legacy").filter(pl.col("district_code") == city.code).height == 19


# --------------------------------------------------------------------------- matching


def test_mai_chau_without_diacritics_is_found() -> None:
    district = reg.find_district("Mai Chau", "Hoa Binh")
    assert (district.name, district.code) == ("Huyện Mai Châu", "156")
    assert reg.find_district("huyen MAI CHAU", "17").code == "156"
    assert reg.find_commune("Xa Mai Chau", "Phu Tho").name == "Xã Mai Châu"


def test_a_miss_says_did_you_mean() -> None:
    with pytest.raises(RegisterError, match='did you mean "Mai Châu"'):
        reg.find_district("Mai Chou", "Hoa Binh")
    with pytest.raises(RegisterError, match='did you mean "Mai Châu"') as err:
        reg.find_commune("Mai Chao", "Phú Thọ")
    assert "Mai Chao" in str(err.value) and "Phú Thọ" in str(err.value)
    with pytest.raises(RegisterError, match='did you mean "Hòa Bình"'):
        reg.find_province("Hoa Binn", "legacy")
    # Hòa Bình is no province on the 2025 map.
    with pytest.raises(RegisterError, match="not in the 2025 register"):
        reg.find_province("Hòa Bình", "2025")


def test_an_ambiguous_name_lists_candidates_with_codes() -> None:
    with pytest.raises(RegisterError, match="ambiguous") as err:
        reg.find_commune("Cam Giang", "Hai Phong")
    message = str(err.value)
    giang, giang2 = reg.find_commune("Cẩm Giang", "Hải Phòng"), reg.find_commune("Cẩm Giàng", "Hải Phòng")
    assert giang.code != giang2.code
    assert f"Xã Cẩm Giang (code {giang.code}" in message and f"Xã Cẩm Giàng (code {giang2.code}" in message
    with pytest.raises(RegisterError, match="ambiguous"):
        reg.find_commune("Thanh Son")  # three provinces have one


def test_fold_and_prefixes() -> None:
    assert reg.fold("Thành phố Đà Nẵng") == "thanh pho da nang"
    assert reg.fold("  Ea  H'Leo ") == "ea h leo"
    assert reg.find_province("tp. ho chi minh").code == "79"
    assert reg.find_province("Thành phố Hồ Chí Minh").code == reg.find_province(79).code
    assert reg.find_province("Tinh Phu Tho").code == "25"
    assert reg.spelled("Thanh Thuỷ") == reg.spelled("Thanh Thủy") != reg.spelled("Thanh Thúy")


def test_bad_register_and_code() -> None:
    with pytest.raises(RegisterError, match='allowed: "2025"'):
        reg.provinces("2024")  # type: ignore[arg-type]
    with pytest.raises(RegisterError, match="code '99' is not in"):
        reg.find_province("99")


# --------------------------------------------------------------------------- converter and remap


def test_phu_tho_2025_is_the_three_old_provinces() -> None:
    phu_tho = reg.find_province("Phú Thọ", "2025")
    new = reg.communes(phu_tho.code, "2025")
    assert new.height == 148
    assert dict(new.group_by("type").len().iter_rows()) == {"Xã": 133, "Phường": 15}  # as published
    old = pl.concat([reg.communes(p, "legacy") for p in ("Phú Thọ", "Vĩnh Phúc", "Hòa Bình")])
    images = {reg.convert(code) for code in old["code"]}
    assert images == set(new["code"])
    for code in reg.communes("Hòa Bình", "legacy")["code"]:
        assert reg.find_commune(reg.convert(code), register="2025").province_code == phu_tho.code
    # The former town of Mai Châu is in the new commune of Mai Châu.
    town = reg.find_commune("Thị trấn Mai Châu", "Hòa Bình", "legacy")
    assert reg.find_commune(reg.convert(town.code), register="2025").name == "Xã Mai Châu"


def test_converter_covers_both_registers() -> None:
    table = reg.conversion_table()
    legacy, current = reg.all_communes("legacy"), reg.all_communes("2025")
    assert set(table["legacy_code"]) == set(legacy["code"])
    assert set(table["code"]) <= set(current["code"])
    # Every new commune but the 5 special zones made of commune-less island districts has an old one.
    unreached = current.filter(~pl.col("code").is_in(table["code"].implode()))
    assert unreached.height == 5 and set(unreached["type"]) == {"Đặc khu"}
    defaults = table.filter("default")
    assert defaults["legacy_code"].n_unique() == defaults.height == legacy.height
    splits = table.filter("split")
    assert splits.group_by("legacy_code").len()["len"].min() >= 2
    assert (
        table.group_by("legacy_code").len().filter(pl.col("len") > 1)["legacy_code"].sort()
        == splits["legacy_code"].unique().sort()
    ).all()


def test_convert_agrees_with_the_packages_own_converter() -> None:
    # vietnamadminunits' address converter (an old address without a street: no geocoding) is the oracle for
    # reading its conversion table by code.
    from vietnamadminunits import convert_address

    for row in reg.communes("Hòa Bình", "legacy").iter_rows(named=True):
        theirs = convert_address(f"{row['name']}, {row['district']}, {row['province']}")
        ours = reg.find_commune(reg.convert(row["code"]), register="2025")
        assert (reg.fold(theirs.ward), reg.fold(theirs.province)) == (reg.fold(ours.name), reg.fold(ours.province))


def test_convert_rejects_unknown_codes() -> None:
    with pytest.raises(RegisterError, match="not in the legacy register"):
        reg.convert("99999")
    with pytest.raises(RegisterError, match="not in the legacy register"):
        reg.convert("Mai Châu")


def test_remap_keeps_totals() -> None:
    old = reg.communes("Hòa Bình", "legacy").select("code")
    rng = np.random.default_rng(15)
    n = old.height
    frame = old.rename({"code": "commune_code"}).with_columns(
        beneficiaries=pl.Series(rng.integers(0, 2_000, n)),
        paid_vnd=pl.Series(rng.integers(0, 10**9, n)),
        label=pl.lit("x"),
    )
    out = reg.remap_to_2025(frame)
    assert out.columns == ["commune_code", "beneficiaries", "paid_vnd"]
    assert out["beneficiaries"].sum() == frame["beneficiaries"].sum()
    assert out["paid_vnd"].sum() == frame["paid_vnd"].sum()
    assert out["commune_code"].n_unique() == out.height == len({reg.convert(c) for c in old["code"]})
    assert out.height < n  # the reform merged communes
    phu_tho = set(reg.communes("Phú Thọ")["code"])
    assert set(out["commune_code"]) <= phu_tho
    # Each new commune holds exactly what its old communes held.
    town = reg.find_commune("Thị trấn Mai Châu", "Hòa Bình", "legacy").code
    sources = [c for c in old["code"] if reg.convert(c) == reg.convert(town)]
    expected = frame.filter(pl.col("commune_code").is_in(sources))["beneficiaries"].sum()
    assert out.filter(pl.col("commune_code") == reg.convert(town))["beneficiaries"].item() == expected


def test_remap_unknown_code_is_listed() -> None:
    frame = pl.DataFrame({"commune_code": ["05200", "12345x"], "n": [1, 2]})
    with pytest.raises(RegisterError, match="'12345x'"):
        reg.remap_to_2025(frame)
    with pytest.raises(RegisterError, match="no column 'code'"):
        reg.remap_to_2025(frame, code_column="code")


# --------------------------------------------------------------------------- distances


def test_distance_known_values() -> None:
    # One degree of latitude along a meridian is pi * R / 180.
    assert reg.distance_km(10.0, 106.0, 11.0, 106.0) == pytest.approx(np.pi * reg.EARTH_RADIUS_KM / 180, rel=1e-12)
    # geopy's great circle (an independent implementation, installed with vietnamadminunits), same radius.
    from geopy.distance import great_circle

    rng = np.random.default_rng(3)
    a, b = rng.uniform([8, 102], [23.5, 110], (50, 2)), rng.uniform([8, 102], [23.5, 110], (50, 2))
    ours = reg.distance_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    theirs = [great_circle(tuple(p), tuple(q), radius=reg.EARTH_RADIUS_KM).km for p, q in zip(a, b, strict=True)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    # A quarter of the equator.
    assert reg.distance_km(0.0, 0.0, 0.0, 90.0) == pytest.approx(np.pi * reg.EARTH_RADIUS_KM / 2, rel=1e-12)


def test_distance_properties() -> None:
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(8, 23.5, 200), rng.uniform(102, 110, 200)
    d = reg.distance_matrix_km(lat, lon, lat, lon)
    assert d.shape == (200, 200)
    np.testing.assert_allclose(d, d.T, atol=1e-9)
    np.testing.assert_allclose(np.diag(d), 0.0, atol=1e-9)
    i, j, k = rng.integers(0, 200, (3, 5_000))
    assert np.all(d[i, k] <= d[i, j] + d[j, k] + 1e-9)
    # The matrix is the element-wise function, point by point.
    np.testing.assert_allclose(d[3], reg.distance_km(lat[3], lon[3], lat, lon), rtol=1e-12)
    hb = reg.communes("Hòa Bình", "legacy")
    far = reg.distance_matrix_km(hb["latitude"], hb["longitude"], hb["latitude"], hb["longitude"]).max()
    assert 50 < far < 200  # the province spans about 110 km


# --------------------------------------------------------------------------- offline


def test_registers_read_offline_without_importing_the_parsers() -> None:
    code = textwrap.dedent(
        """
        import socket, sys
        def refuse(*a, **k):
            raise OSError("network used")
        class Offline(socket.socket):
            connect = connect_ex = sendto = refuse
        socket.socket = Offline
        socket.create_connection = socket.getaddrinfo = refuse
        from welfare_sim.sim import register as reg
        n = reg.all_communes("legacy").height + reg.all_communes("2025").height + reg.conversion_table().height
        print(n, "vietnamadminunits.parser" in sys.modules, "geopy" in sys.modules)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    total, parser, geopy = proc.stdout.split()
    assert int(total) > 13_000 and parser == "False" and geopy == "False"


# --------------------------------------------------------------------------- a planner's per-commune file


def test_commune_table_without_a_file_is_the_register() -> None:
    assert reg.commune_table("Phu Tho", "2025").equals(reg.communes("Phú Thọ", "2025"))


def test_commune_table_joins_by_code_and_by_name(tmp_path) -> None:
    towns = reg.communes("Hòa Bình", "legacy").head(3)
    town = reg.find_commune("Thị trấn Mai Châu", "Hòa Bình", "legacy")
    lines = ["code,name,district,beneficiaries_elderly,beneficiaries_disability,ethnic_minority_share,terrain"]
    lines += [f"{c},,,{10 + k},{k},0.5,urban" for k, c in enumerate(towns["code"])]
    # By name without diacritics or type, with its district; and a code without its leading zero.
    lines.append("," + reg.fold(town.short_name) + ",mai chau,200,7,0.88, Mountain ")
    first = (
        reg.communes("Hòa Bình", "legacy")
        .filter(pl.col("district_code") == "156", pl.col("type") == "Xã")
        .row(0, named=True)
    )
    lines.append(f"{int(first['code'])},{first['short_name']},,1,0,,rural")
    path = tmp_path / "communes.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = reg.commune_table("hoa binh", "legacy", path)
    assert table.height == 151 and table["code"].is_sorted()
    listed = table.drop_nulls("beneficiaries_elderly")
    assert listed.height == 5
    assert table["beneficiaries_elderly"].dtype == pl.Int64 and table["ethnic_minority_share"].dtype == pl.Float64
    assert listed["beneficiaries_elderly"].sum() == 10 + 11 + 12 + 200 + 1
    row = table.filter(pl.col("code") == town.code).row(0, named=True)
    assert (row["beneficiaries_elderly"], row["terrain"], row["ethnic_minority_share"]) == (200, "mountain", 0.88)
    assert table.filter(pl.col("code") == first["code"])["terrain"].item() == "rural"


def test_commune_table_reads_parquet_on_the_2025_map(tmp_path) -> None:
    path = tmp_path / "phu_tho.parquet"
    pl.DataFrame({"commune": ["Xã Mai Châu", "mai ha"], "chip_id_share": [0.6, 0.7]}).write_parquet(path)
    table = reg.commune_table("Phú Thọ", "2025", path)
    shares = dict(table.drop_nulls("chip_id_share").select("short_name", "chip_id_share").iter_rows())
    assert shares == {"Mai Châu": 0.6, "Mai Hạ": 0.7}


def test_commune_table_reports_every_bad_row(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "name,code,beneficiaries_elderly,smartphone_share,terrain\n"
        "Mai Châu,,10,0.5,rural\n"  # row 1: fine
        "Mai Chou,,3,0.5,rural\n"  # row 2: a miss
        "Cam Giang,,3,0.5,rural\n"  # row 3: not in Phú Thọ
        ",99999,1,0.1,urban\n"  # row 4: no such code
        "Xa Mai Chau,,1,0.1,urban\n"  # row 5: given twice
        "Mai Hạ,,-2,1.5,hill\n"  # row 6: three bad values
        f"Mai Hạ,{reg.find_commune('Mai Châu', 'Phú Thọ').code},1,0.1,urban\n"  # row 7: name and code disagree
        ",,1,0.1,urban\n",  # row 8: names nothing
        encoding="utf-8",
    )
    with pytest.raises(RegisterError) as err:
        reg.commune_table("Phú Thọ", "2025", path)
    problems = err.value.problems
    assert all(p.startswith(f"{path}: row ") for p in problems)
    text = "\n".join(problems)
    assert "row 2 (line 3): commune 'Mai Chou' is not in the province Tỉnh Phú Thọ" in text
    assert 'did you mean "Mai Châu"?' in text
    assert "row 3 (line 4): commune 'Cam Giang' is not in" in text
    assert "row 4 (line 5): commune code '99999'" in text
    assert "row 5 (line 6): commune Xã Mai Châu" in text and "already given on row 1" in text
    for column, value in (("beneficiaries_elderly", "-2"), ("smartphone_share", "1.5"), ("terrain", "hill")):
        assert f"row 6 (line 7), column {column!r}: {value!r}" in text
    assert "row 7 (line 8): code" in text and "is Xã Mai Châu, not 'Mai Hạ'" in text
    assert "row 8 (line 9): neither" in text
    assert len(problems) == 9
    assert not any("row 1 " in p for p in problems)


def test_commune_table_file_errors(tmp_path) -> None:
    with pytest.raises(RegisterError, match="no such file"):
        reg.commune_table("Phú Thọ", "2025", tmp_path / "missing.csv")
    (tmp_path / "figures.xlsx").write_bytes(b"")
    with pytest.raises(RegisterError, match="allowed: .csv, .parquet"):
        reg.commune_table("Phú Thọ", "2025", tmp_path / "figures.xlsx")
    (tmp_path / "nokey.csv").write_text("beneficiaries\n3\n", encoding="utf-8")
    with pytest.raises(RegisterError, match="no column names the commune"):
        reg.commune_table("Phú Thọ", "2025", tmp_path / "nokey.csv")
