"""Việt Nam's administrative registers: provinces, districts and communes by official code, name and place.

Two registers are served, both offline from installed wheels (no network at import or run time):

* ``"legacy"``: the map before 1 July 2025 (63 provinces, 696 district-level units, 10,035 communes),
  from `vietnamadminunits` (MIT): official GSO codes, names with type, district, latitude and longitude.
* ``"2025"``: the two-tier map from 1 July 2025 (34 provinces, 3,321 communes). Official codes, names and
  types come from `vietnam-provinces`, which follows the GSO code list of Decision 19/2025/QĐ-TTg;
  latitude, longitude and area in km² come from `vietnamadminunits`, joined by province and folded name
  (all 3,321 join one to one). The two packages disagree on 114 of the 2025 codes: `vietnamadminunits`
  takes its codes from sapnhap.bando.com.vn, so its codes are not used.

The legacy -> 2025 converter is `vietnamadminunits`' own table (converter_2025.json), read directly:
its address parser is not used, because for an old commune split between several new ones it may
geocode a street address over the network. A split old commune goes to the new commune the package
marks as its default; `conversion_table()` lists every new commune an old one feeds.

Name matching folds case, diacritics (đ -> d) and punctuation, and also tries the name without its
type prefix ("Tỉnh", "Thành phố", "Huyện", "Xã", "Phường", ...).
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from welfare_sim.models.geography import EARTH_RADIUS_KM, haversine_km  # noqa: F401 (the radius is read from here)
from welfare_sim.sim.names import fold

Register = Literal["2025", "legacy"]
REGISTERS: tuple[str, ...] = ("2025", "legacy")


COMMUNE_SCHEMA: dict[str, pl.DataType] = {
    "code": pl.String,
    "name": pl.String,
    "short_name": pl.String,
    "type": pl.String,
    "district_code": pl.String,
    "district": pl.String,
    "latitude": pl.Float64,
    "longitude": pl.Float64,
    "area_km2": pl.Float64,
    "province_code": pl.String,
    "province": pl.String,
}

# Longest first, so that "thi xa" is stripped before "xa" and "thanh pho" before nothing.
_PREFIXES = {
    "province": ("thanh pho", "tinh", "tp"),
    "district": ("thanh pho", "thi xa", "huyen", "quan", "tp"),
    "commune": ("thi tran", "dac khu", "phuong", "xa"),
}


class RegisterError(ValueError):
    """A name or code not in the register, an ambiguous name, or a register that is not installed.
    `problems` holds one human-readable line per problem (as ScenarioError does)."""

    def __init__(self, problems: list[str] | str) -> None:
        problems = [problems] if isinstance(problems, str) else problems
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Unit:
    """One administrative unit. `level` is "province", "district" or "commune"; codes are the official
    zero-padded strings (province 2 digits, district 3, commune 5)."""

    level: str
    register: str
    code: str
    name: str
    short_name: str
    type: str
    province_code: str
    province: str
    district_code: str | None = None
    district: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    area_km2: float | None = None


def spelled(text: str) -> str:
    """Lower case with diacritics kept: the exact-name key, since folding merges real pairs such as
    Xã Cẩm Giang and Xã Cẩm Giàng. Old- and new-style tone placement ("Hoà"/"Hòa", "Thuỷ"/"Thủy") spell one
    name and the packages differ, so the tone mark of "o"/"u" + "a"/"e"/"y" is moved onto the first vowel
    (a key, not a spelling to display)."""
    text = unicodedata.normalize("NFD", " ".join(str(text).lower().split()))
    text = re.sub(r"([ou])([aey])([\u0300\u0301\u0309\u0303\u0323])", r"\1\3\2", text)
    return unicodedata.normalize("NFC", text)


def _strip_prefix(folded: str, level: str) -> str:
    for prefix in _PREFIXES[level]:
        if folded.startswith(prefix + " ") and len(folded) > len(prefix) + 1:
            return folded[len(prefix) + 1 :]
    return folded


# --------------------------------------------------------------------------- data files


def _package_dir(package: str) -> Path:
    # find_spec locates the package without executing its __init__ (vietnamadminunits' would load
    # its parser and converter, about a second).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pip_name = package.replace("_", "-")
        raise RegisterError(
            f"the administrative register needs the Python package {pip_name!r}, which is not installed; "
            f"install welfare-sim with its dependencies (pip install -e .) or run: pip install {pip_name}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _rows(sql: str) -> list[dict]:
    path = _package_dir("vietnamadminunits") / "data" / "dataset.db"
    # Read-only and immutable: the installed file is never written to, even for a lock.
    with sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql).fetchall()]


def _short(name: str, type_: str) -> str:
    return name[len(type_) + 1 :] if type_ and name.lower().startswith(type_.lower() + " ") else name


@lru_cache(maxsize=1)
def _legacy() -> pl.DataFrame:
    rows = _rows(
        "SELECT wardCode, ward, wardType, districtCode, district, wardLat, wardLon, "
        "provinceCode, province FROM admin_units_legacy WHERE wardCode IS NOT NULL AND wardCode <> ''"
    )
    # vietnamadminunits' short names carry a disambiguating "(Xã)" and a few full names a capital "Thị Trấn":
    # the short name is the full name without its type, and the full name is rebuilt from the two.
    short = [_short(r["ward"], r["wardType"]) for r in rows]
    frame = pl.DataFrame(
        {
            "code": [r["wardCode"] for r in rows],
            "name": [f"{r['wardType']} {s}" for r, s in zip(rows, short, strict=True)],
            "short_name": short,
            "type": [r["wardType"] for r in rows],
            "district_code": [r["districtCode"] for r in rows],
            "district": [r["district"] for r in rows],
            "latitude": [r["wardLat"] for r in rows],
            "longitude": [r["wardLon"] for r in rows],
            "area_km2": [None] * len(rows),
            "province_code": [r["provinceCode"] for r in rows],
            "province": [r["province"] for r in rows],
        },
        schema=COMMUNE_SCHEMA,
    )
    return frame.sort("code")


@lru_cache(maxsize=1)
def _legacy_districts() -> pl.DataFrame:
    rows = _rows(
        "SELECT DISTINCT districtCode, district, districtType, districtLat, districtLon, "
        "provinceCode, province FROM admin_units_legacy"
    )
    short = [_short(r["district"], r["districtType"]) for r in rows]
    return pl.DataFrame(
        {
            "code": [r["districtCode"] for r in rows],
            "name": [f"{r['districtType']} {s}" for r, s in zip(rows, short, strict=True)],
            "short_name": short,
            "type": [r["districtType"] for r in rows],
            "latitude": [r["districtLat"] for r in rows],
            "longitude": [r["districtLon"] for r in rows],
            "province_code": [r["provinceCode"] for r in rows],
            "province": [r["province"] for r in rows],
        },
        schema_overrides={"latitude": pl.Float64, "longitude": pl.Float64},
    ).sort("code")


@lru_cache(maxsize=2)
def _provinces_frame(register: str) -> pl.DataFrame:
    if register == "legacy":
        rows = _rows(
            "SELECT DISTINCT provinceCode, province, provinceShort, provinceLat, provinceLon FROM admin_units_legacy"
        )
    else:
        rows = _rows("SELECT DISTINCT provinceCode, province, provinceShort, provinceLat, provinceLon FROM admin_units")
    names = {p["code"]: (p["name"], p["division_type"]) for p in _vp_nested()} if register == "2025" else {}
    out = []
    for r in rows:
        name = r["province"]
        type_ = "Thành phố" if name.startswith("Thành phố") else "Tỉnh"
        if register == "2025":
            # vietnam-provinces names provinces without "Tỉnh"; the register's full name is kept from the GSO list.
            vp_name, vp_type = names[int(r["provinceCode"])]
            type_ = "Thành phố" if vp_type == "thành phố trung ương" else "Tỉnh"
            name = vp_name if vp_name.startswith("Thành phố") else f"Tỉnh {vp_name}"
        out.append(
            {
                "code": r["provinceCode"],
                "name": name,
                "short_name": _short(name, type_),
                "type": type_,
                "latitude": r["provinceLat"],
                "longitude": r["provinceLon"],
            }
        )
    return pl.DataFrame(out, schema_overrides={"latitude": pl.Float64, "longitude": pl.Float64}).sort("code")


@lru_cache(maxsize=1)
def _vp_nested() -> list[dict]:
    path = _package_dir("vietnam_provinces") / "data" / "nested-divisions.json"
    return json.loads(path.read_text(encoding="utf-8"))


_VP_TYPES = {"xã": "Xã", "phường": "Phường", "đặc khu": "Đặc khu"}


@lru_cache(maxsize=1)
def _joined_2025() -> tuple[pl.DataFrame, dict[tuple[str, str], str]]:
    """The 2025 communes (GSO codes and names from vietnam-provinces, places from vietnamadminunits) and a
    map from vietnamadminunits' (province key, commune key) to the official code, for its converter."""
    rows = _rows("SELECT provinceCode, provinceKey, ward, wardKey, wardLat, wardLon, wardAreaKm2 FROM admin_units")
    by_spelling = {(r["provinceCode"], spelled(r["ward"])): r for r in rows}
    folded: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        folded.setdefault((r["provinceCode"], fold(r["ward"])), []).append(r)
    provinces = _provinces_frame("2025")
    province_name = dict(zip(provinces["code"], provinces["name"], strict=True))
    records, vau_key_to_code = [], {}
    for province in _vp_nested():
        pcode = f"{province['code']:02d}"
        for ward in province["wards"]:
            type_ = _VP_TYPES[ward["division_type"]]
            code = f"{ward['code']:05d}"
            # Same spelling first; then the folded name where it is unique in the province (the packages
            # also differ in case and in a few diacritics, e.g. "Đắk song").
            place = by_spelling.get((pcode, spelled(ward["name"])))
            if place is None and len(folded.get((pcode, fold(ward["name"])), [])) == 1:
                place = folded[(pcode, fold(ward["name"]))][0]
            if place is None or (place["provinceKey"], place["wardKey"]) in vau_key_to_code:
                raise RegisterError(
                    f"register 2025: commune {code} {ward['name']!r} of province {pcode} has no single match "
                    "in vietnamadminunits' places; the two installed packages are out of step "
                    "(install the versions pinned in pyproject.toml)"
                )
            vau_key_to_code[(place["provinceKey"], place["wardKey"])] = code
            records.append(
                {
                    "code": code,
                    "name": ward["name"],
                    "short_name": _short(ward["name"], type_),
                    "type": type_,
                    "district_code": None,
                    "district": None,
                    "latitude": place["wardLat"],
                    "longitude": place["wardLon"],
                    "area_km2": place["wardAreaKm2"],
                    "province_code": pcode,
                    "province": province_name[pcode],
                }
            )
    return pl.DataFrame(records, schema=COMMUNE_SCHEMA).sort("code"), vau_key_to_code


def _current() -> pl.DataFrame:
    return _joined_2025()[0]


def _check_register(register: str) -> str:
    register = str(register)
    if register not in REGISTERS:
        raise RegisterError(
            f'register {register!r} is not known; allowed: "2025" (the map from 1 July 2025) '
            'or "legacy" (the map before it)'
        )
    return register


# --------------------------------------------------------------------------- public reader


def provinces(register: Register = "2025") -> pl.DataFrame:
    """All provinces of a register: code, name, short_name, type, latitude, longitude; sorted by code."""
    return _provinces_frame(_check_register(register))


def all_communes(register: Register = "2025") -> pl.DataFrame:
    """Every commune-level unit of a register (columns of COMMUNE_SCHEMA), sorted by code."""
    return _current() if _check_register(register) == "2025" else _legacy()


def communes(province: str | int, register: Register = "2025") -> pl.DataFrame:
    """The communes of one province (by name or code, see find_province), sorted by code.
    `district` and `district_code` are None on the 2025 map, which has no districts."""
    unit = find_province(province, register)
    return all_communes(register).filter(pl.col("province_code") == unit.code)


def districts(province: str | int) -> pl.DataFrame:
    """The district-level units of a province on the legacy map (the 2025 map has none)."""
    unit = find_province(province, "legacy")
    return _legacy_districts().filter(pl.col("province_code") == unit.code)


def _is_code(value: str | int) -> bool:
    return isinstance(value, int) or str(value).strip().isdigit()


def _match(query: str | int, frame: pl.DataFrame, level: str, what: str, context: str, show: list[str]) -> dict:
    """The one row of `frame` whose code or name is `query`; RegisterError on a miss (with did-you-mean)
    or on an ambiguous name (listing the candidates with their codes)."""
    if _is_code(query):
        code = int(str(query).strip())
        hits = [r for r in frame.iter_rows(named=True) if int(r["code"]) == code]
        if hits:
            return hits[0]
        raise RegisterError(f"{what} code {str(query).strip()!r} is not in the {context}")
    folded = fold(query)
    if not folded:
        raise RegisterError(f"{what} name {query!r} is empty; give a name or an official code")
    rows = list(frame.iter_rows(named=True))
    full = [fold(r["name"]) for r in rows]
    short = [fold(r["short_name"]) for r in rows]
    # The name as spelled first (it tells Cẩm Giang from Cẩm Giàng); then folded, whole, so "Xá Lượng" is not
    # read as "Xã" + "Lượng"; then folded without the type prefix.
    key = spelled(query)
    hits = [r for r in rows if key in (spelled(r["name"]), spelled(r["short_name"]))]
    if not hits:
        hits = [r for r, f, s in zip(rows, full, short, strict=True) if folded in (f, s)]
    if not hits:
        bare = _strip_prefix(folded, level)
        hits = [r for r, s in zip(rows, short, strict=True) if s == bare]
        # A typed query ("Xã Mai Châu") does not match a unit of another type ("Huyện Mai Châu").
        if hits and bare != folded:
            typed = [r for r in hits if fold(r["name"]) == folded]
            hits = typed or [r for r in hits if fold(r["type"]) == folded[: -len(bare) - 1]] or hits
    if len(hits) == 1:
        return hits[0]
    if hits:
        listed = "; ".join(
            f"{r['name']} (code {r['code']}" + "".join(f", {r[c]}" for c in show if r.get(c)) + ")" for r in hits
        )
        raise RegisterError(
            f"{what} name {query!r} is ambiguous in the {context}: {listed}; give the official code instead"
        )
    by_folded: dict[str, str] = {}
    for r, s in zip(rows, short, strict=True):
        by_folded.setdefault(s, r["short_name"])
    close = difflib.get_close_matches(_strip_prefix(folded, level), list(by_folded), n=3, cutoff=0.6)
    hint = f'; did you mean "{by_folded[close[0]]}"?' if close else ""
    also = "" if len(close) < 2 else " (or " + ", ".join(f'"{by_folded[c]}"' for c in close[1:]) + ")"
    raise RegisterError(f"{what} {query!r} is not in the {context}{hint}{also}")


def _unit(level: str, register: str, row: dict) -> Unit:
    return Unit(
        level=level,
        register=register,
        code=row["code"],
        name=row["name"],
        short_name=row["short_name"],
        type=row["type"],
        province_code=row["province_code"],
        province=row["province"],
        district_code=row.get("district_code"),
        district=row.get("district"),
        latitude=row.get("latitude"),
        longitude=row.get("longitude"),
        area_km2=row.get("area_km2"),
    )


def _register_label(register: str) -> str:
    return "2025 register (34 provinces)" if register == "2025" else "legacy register (63 provinces, before 2025-07)"


def find_province(name_or_code: str | int, register: Register = "2025") -> Unit:
    """A province by official code ("17", 17) or by name ("Hòa Bình", "hoa binh", "Tỉnh Hoà Bình")."""
    register = _check_register(register)
    frame = provinces(register)
    row = _match(name_or_code, frame, "province", "province", _register_label(register), [])
    return Unit(
        level="province",
        register=register,
        code=row["code"],
        name=row["name"],
        short_name=row["short_name"],
        type=row["type"],
        province_code=row["code"],
        province=row["name"],
        latitude=row["latitude"],
        longitude=row["longitude"],
    )


def find_district(name_or_code: str | int, province: str | int) -> Unit:
    """A district-level unit of the legacy map ("Mai Châu", "huyen mai chau", "156") within a province."""
    prov = find_province(province, "legacy")
    frame = _legacy_districts().filter(pl.col("province_code") == prov.code)
    row = _match(name_or_code, frame, "district", "district", f"province {prov.name} of the legacy register", [])
    return _unit("district", "legacy", {**row, "district_code": row["code"], "district": row["name"]})


def find_commune(
    name_or_code: str | int,
    province: str | int | None = None,
    register: Register = "2025",
    district: str | int | None = None,
) -> Unit:
    """A commune by official code, or by name within a province (and, on the legacy map, a district).
    A name shared by several communes raises RegisterError listing them with their codes."""
    register = _check_register(register)
    frame = all_communes(register)
    context = _register_label(register)
    if province is not None:
        prov = find_province(province, register)
        frame = frame.filter(pl.col("province_code") == prov.code)
        context = f"province {prov.name} of the {context}"
    if district is not None:
        if register != "legacy" or province is None:
            raise RegisterError(
                "a district narrows a commune search only on the legacy register and within a province; "
                "the 2025 map has no districts"
            )
        dist = find_district(district, province)
        frame = frame.filter(pl.col("district_code") == dist.code)
        context = f"{dist.name}, {context}"
    row = _match(name_or_code, frame, "commune", "commune", context, ["district", "province"])
    return _unit("commune", register, row)


# --------------------------------------------------------------------------- legacy -> 2025


@lru_cache(maxsize=1)
def conversion_table() -> pl.DataFrame:
    """Every (legacy commune, 2025 commune) pair of the reform: legacy_code, code (2025), default (the new
    commune `convert` picks) and split (the old commune went to more than one new one); sorted."""
    data = json.loads((_package_dir("vietnamadminunits") / "data" / "converter_2025.json").read_text("utf-8"))
    legacy_by_key = {
        f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}": r["wardCode"]
        for r in _rows(
            "SELECT provinceKey, districtKey, wardKey, wardCode FROM admin_units_legacy WHERE wardCode <> ''"
        )
    }
    new_by_key = _joined_2025()[1]
    pairs: list[tuple[str, str, bool, bool]] = []
    for prov_key, wards in data["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward_key, old_keys in wards.items():
            for old in old_keys:
                if old in legacy_by_key:  # the island districts with no commune have no legacy code
                    pairs.append((legacy_by_key[old], new_by_key[(prov_key, ward_key)], True, False))
    for prov_key, olds in data["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old, targets in olds.items():
            if old not in legacy_by_key:
                continue
            for t in targets:
                pairs.append((legacy_by_key[old], new_by_key[(prov_key, t["newWardKey"])], t["isDefaultNewWard"], True))
    frame = pl.DataFrame(
        pairs,
        schema={"legacy_code": pl.String, "code": pl.String, "default": pl.Boolean, "split": pl.Boolean},
        orient="row",
    )
    return frame.unique().sort("legacy_code", "code")


@lru_cache(maxsize=1)
def _default_map() -> dict[str, str]:
    table = conversion_table().filter(pl.col("default"))
    return dict(zip(table["legacy_code"], table["code"], strict=True))


def convert(old_commune_code: str | int) -> str:
    """The 2025 commune code of a legacy commune code. An old commune split between several new ones maps
    to the one the register marks as its default (see conversion_table for all of them)."""
    code = f"{int(str(old_commune_code).strip()):05d}" if _is_code(old_commune_code) else None
    mapping = _default_map()
    if code is None or code not in mapping:
        raise RegisterError(
            f"legacy commune code {str(old_commune_code)!r} is not in the legacy register; give a 5-digit "
            "official code of a commune before 2025-07 (see communes(province, register='legacy'))"
        )
    return mapping[code]


def remap_to_2025(frame: pl.DataFrame, code_column: str = "commune_code") -> pl.DataFrame:
    """Re-key a frame of per-legacy-commune figures to 2025 commune codes, summing every numeric column.

    Each old commune's figures go whole to one new commune (`convert`: the default one for a split
    commune), so integer totals are kept exactly; non-numeric columns other than the key are dropped.
    The result has `code_column` holding 2025 codes and is sorted by it. Unknown codes raise RegisterError
    listing them."""
    if code_column not in frame.columns:
        raise RegisterError(f"remap: the frame has no column {code_column!r}; its columns are {frame.columns}")
    mapping = _default_map()
    codes = frame[code_column].cast(pl.String)
    padded = codes.map_elements(lambda c: f"{int(c):05d}" if c.strip().isdigit() else c, return_dtype=pl.String)
    unknown = sorted(set(padded.to_list()) - set(mapping))
    if unknown:
        raise RegisterError(
            f"remap: {len(unknown)} code(s) in column {code_column!r} are not legacy commune codes: "
            + ", ".join(repr(c) for c in unknown[:10])
            + (" ..." if len(unknown) > 10 else "")
        )
    numeric = [c for c, t in frame.schema.items() if c != code_column and t.is_numeric()]
    return (
        frame.select(numeric)
        .with_columns(padded.replace_strict(mapping, return_dtype=pl.String).alias(code_column))
        .group_by(code_column)
        .agg(pl.col(c).sum() for c in numeric)
        .sort(code_column)
    )


# --------------------------------------------------------------------------- distances


def distance_km(
    lat1: np.ndarray | float, lon1: np.ndarray | float, lat2: np.ndarray | float, lon2: np.ndarray | float
) -> np.ndarray:
    """Great-circle (haversine) distance in km, element-wise with numpy broadcasting; degrees in."""
    return haversine_km(lat1, lon1, lat2, lon2)


def distance_matrix_km(lat_a: np.ndarray, lon_a: np.ndarray, lat_b: np.ndarray, lon_b: np.ndarray) -> np.ndarray:
    """Distances from each point of A (rows) to each point of B (columns), in km."""
    lat_a, lon_a = np.asarray(lat_a, float)[:, None], np.asarray(lon_a, float)[:, None]
    return distance_km(lat_a, lon_a, np.asarray(lat_b, float)[None, :], np.asarray(lon_b, float)[None, :])


# --------------------------------------------------------------------------- a planner's per-commune figures

# Columns a planner's file may give per commune, with what is allowed; others are kept as they are.
SHARE_COLUMNS = ("ethnic_minority_share", "chip_id_share", "smartphone_share")
COUNT_COLUMNS = ("post_offices", "atms", "agents")  # facilities in the commune
KEY_COLUMNS = {"code": ("code", "commune_code"), "name": ("name", "commune")}


def _where(path: Path, i: int) -> str:
    """Row i (from 0) of a planner's file, as a person finds it: data rows count from 1; a CSV also gets
    its line (the header is line 1)."""
    line = f" (line {i + 2})" if path.suffix.lower() == ".csv" else ""
    return f"{path}: row {i + 1}{line}"


def _read_table(path: Path) -> pl.DataFrame:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise RegisterError(f"{path}: no such file; give the path of a CSV or Parquet file of per-commune figures")
    try:
        if suffix == ".csv":
            # Codes keep their leading zeros, so every column is read as text and typed below.
            return pl.read_csv(path, infer_schema=False, encoding="utf8")
        if suffix in (".parquet", ".pq"):
            return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise RegisterError(f"{path}: cannot be read as {suffix[1:].upper()}: {exc}") from None
    raise RegisterError(f"{path}: the file type {suffix or '(none)'!r} is not supported; allowed: .csv, .parquet")


def _figures(table: pl.DataFrame, path: Path) -> tuple[pl.DataFrame, list[str]]:
    """The figure columns typed (counts as Int64, shares as Float64 in [0, 1], terrain a known class)."""
    from welfare_sim.models.params import TERRAINS

    problems: list[str] = []
    columns = []
    for name in table.columns:
        if name in KEY_COLUMNS["code"] + KEY_COLUMNS["name"] + ("district",):
            continue
        raw = table[name].cast(pl.String).str.strip_chars()
        if name.startswith("beneficiaries") or name in SHARE_COLUMNS or name in COUNT_COLUMNS:
            numbers = raw.cast(pl.Float64, strict=False)
            allowed = "a share from 0 to 1" if name in SHARE_COLUMNS else "a whole number, 0 or more"
            fine = numbers.is_between(0.0, 1.0) if name in SHARE_COLUMNS else (numbers >= 0) & (numbers % 1 == 0)
            for i in (~fine.fill_null(False) & raw.is_not_null() & (raw != "")).arg_true():
                problems.append(f"{_where(path, i)}, column {name!r}: {raw[i]!r} is not {allowed}")
            values = numbers if name in SHARE_COLUMNS else numbers.cast(pl.Int64, strict=False)
            columns.append(values.alias(name))
        elif name == "terrain":
            folded = raw.map_elements(fold, return_dtype=pl.String)
            for i in (~folded.is_in(list(TERRAINS)) & raw.is_not_null() & (raw != "")).arg_true():
                allowed = ", ".join(TERRAINS)
                problems.append(f"{_where(path, i)}, column 'terrain': {raw[i]!r} is not a terrain; allowed: {allowed}")
            columns.append(folded.alias(name))
        else:
            columns.append(table[name])
    return pl.DataFrame(columns, height=table.height), problems


def commune_table(
    province: str | int, register: Register = "2025", per_commune_file: str | Path | None = None
) -> pl.DataFrame:
    """The communes of a province from the register, joined with a planner's per-commune figures.

    The file (CSV or Parquet) names each commune by official code (column `code` or `commune_code`) or by
    name (`name` or `commune`, matched as find_commune does; `district` narrows it on the legacy map).
    Its other columns are kept: `beneficiaries*` as whole numbers, the shares in SHARE_COLUMNS from 0 to 1,
    `terrain` one of the model's terrain classes. Every row that names no commune of the province, names
    one twice, or holds a bad value is reported in one RegisterError (row number, value, did-you-mean).
    Communes the file does not list get nulls. Sorted by code."""
    register = _check_register(register)
    prov = find_province(province, register)
    base = communes(prov.code, register)
    if per_commune_file is None:
        return base
    path = Path(per_commune_file)
    table = _read_table(path)
    code_col = next((c for c in KEY_COLUMNS["code"] if c in table.columns), None)
    name_col = next((c for c in KEY_COLUMNS["name"] if c in table.columns), None)
    if code_col is None and name_col is None:
        raise RegisterError(
            f"{path}: no column names the commune; give a column 'code' (official code) or 'name' "
            f"(commune name); the file's columns are {table.columns}"
        )
    figures, problems = _figures(table, path)
    has_district = "district" in table.columns and register == "legacy"
    matched: list[str | None] = []
    first_row: dict[str, int] = {}
    context = f"province {prov.name} of the {_register_label(register)}"
    for i in range(table.height):
        code = str(table[code_col][i]).strip() if code_col and table[code_col][i] is not None else ""
        name = str(table[name_col][i]).strip() if name_col and table[name_col][i] is not None else ""
        where = _where(path, i)
        try:
            if code:
                row = _match(code, base, "commune", "commune", context, [])
                if name and fold(name) not in (fold(row["name"]), fold(row["short_name"])):
                    raise RegisterError(f"code {code!r} is {row['name']}, not {name!r}; correct one or the other")
            elif name:
                frame = base
                district = str(table["district"][i] or "").strip() if has_district else ""
                if district:
                    frame = base.filter(pl.col("district_code") == find_district(district, prov.code).code)
                row = _match(name, frame, "commune", "commune", context, ["district"])
            else:
                raise RegisterError(f"neither {code_col or 'code'!r} nor {name_col or 'name'!r} is given")
        except RegisterError as exc:
            problems.append(f"{where}: {exc}")
            matched.append(None)
            continue
        if row["code"] in first_row:
            problems.append(
                f"{where}: commune {row['name']} ({row['code']}) is already given on row {first_row[row['code']]}"
            )
        first_row.setdefault(row["code"], i + 1)
        matched.append(row["code"])
    if problems:
        raise RegisterError(problems)
    figures = figures.with_columns(pl.Series("code", matched, dtype=pl.String))
    clash = [c for c in figures.columns if c in base.columns and c != "code"]
    if clash:
        raise RegisterError(f"{path}: columns {clash} would overwrite the register's; rename them")
    return base.join(figures, on="code", how="left").sort("code")
