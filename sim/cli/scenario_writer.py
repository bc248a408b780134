"""`welfare-sim new-scenario`: write a valid scenario for any province, every value sourced or an assumption.

    welfare-sim new-scenario --province "Phú Thọ" --register 2025 [--commune-data FILE] --out scenarios/x.yaml

The geography comes from the administrative register (sim/register.py): the province by name (diacritics
and case ignored, did-you-mean on a miss) or code, its communes by official code. Beneficiaries come
from the planner's per-commune file when it gives them; else from a published provincial figure where one
is known (PUBLISHED, each with its source); else the national figure per commune (BCP_PER_COMMUNE), marked
an assumption. Everything else (population, payment rules, behaviour) is the province-independent
template beside this file, whose values carry national sources or are Hòa Bình's, marked assumptions.

The file is written only where nothing exists (never over a file), atomically, and only after it
validates as a scenario.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import polars as pl
import typer

from welfare_sim.sim.cli import fail, out

TEMPLATE = Path(__file__).with_name("scenario_template.yaml")

# >3.35 million people on monthly social assistance (Decree 20), Jun 2024 [bcp], over the 10,035 communes
# of the legacy register: the national mean per commune, for a province with no published figure.
BCP_TOTAL = 3_350_000
LEGACY_COMMUNES = 10_035
BCP_PER_COMMUNE = BCP_TOTAL / LEGACY_COMMUNES


@dataclass(frozen=True)
class Published:
    beneficiaries: int
    source: str


# Social-assistance beneficiaries of a province, by (register, province code), where a figure is published.
PUBLISHED: dict[tuple[str, str], Published] = {
    # ">13,000 beneficiaries had accounts = 37.8% of recipients", 15 Oct 2023 => ≈34,400 [bhb]
    ("legacy", "17"): Published(34_400, "≈34,400: >13,000 with accounts = 37.8 % of recipients [bhb, 15 Oct 2023]"),
    # the merged Phú Thọ (with Vĩnh Phúc and Hòa Bình): "more than 143,000" on monthly social allowances in the
    # community, late 2025 (vietnam.vn/en/phu-tho-bao-dam-an-sinh-xa-hoi-cho-nguoi-yeu-the)
    ("2025", "25"): Published(143_000, ">143,000 on monthly social allowances in the community [vietnamvn, late 2025]"),
    # 202,917 on monthly social assistance living in the community, Dec 2025 (laodong.vn, Decision 332/QĐ-UBND)
    ("2025", "86"): Published(202_917, "202,917 on monthly social assistance in the community [laodong, Dec 2025]"),
}

SOURCES = """\
# Sources (see each comment):
#   [register] the administrative register (vietnamadminunits, vietnam-provinces): codes, names, places
#   [bcp]      baochinhphu.vn, Jun 2024: >3.35 million on monthly social assistance (Decree 20)
#   [bhb]      baohoabinh.com.vn, 2023 (Hòa Bình: accounts, providers, obstacles)
#   [laodong]  laodong.vn, Dec 2025: Vĩnh Long's social-assistance recipients (Decision 332/QĐ-UBND)
#   [vietnamvn] vietnam.vn, late 2025: Phú Thọ's recipients after the merger (phu-tho-bao-dam-an-sinh-xa-hoi-...)
#   [seed001]  national Project 06 report, Apr 2024: 63.35 % without an account; 46 % of holders not
#              yet paid into it
#   [seed002]  Hòa Bình Project 06 report, early 2024
#   [D20]      Decree 20/2021/NĐ-CP (base level 360,000 VND; coefficients)
#   [D76]      Decree 76/2024/NĐ-CP (base level 500,000 VND from 2024-07)
#   [C02]      Circular 02/2021/TT-BLĐTBXH (suspension after 3 months uncollected)
#   [VNPost]   VNPost, May 2024 (commune points days 2-10, counters 11-25, credits by next day)
# Anything marked "assumption" is not sourced for this province: replace it with the province's own
# figure where there is one. Values said to be Hòa Bình's come from scenarios/hoa_binh.yaml.
"""


class WriterError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _line(code: str, comment: str) -> str:
    """A YAML line with its comment in the column the project's scenarios use."""
    return f"{code.ljust(35)} # {comment}"


def _slug(text: str) -> str:
    from welfare_sim.sim.names import fold

    return re.sub(r"[^a-z0-9]+", "_", fold(text)).strip("_")


@dataclass
class Part:
    """A former (legacy) province within the province being written, or the province itself."""

    name: str
    code: str  # legacy province code
    legacy_communes: int
    communes: list[str]  # codes, in the scenario's register, of the communes given to this part
    beneficiaries: int = 0
    why: str = ""


def _mean_share(n_communes: int) -> tuple[int, str]:
    n = round(BCP_PER_COMMUNE * n_communes)
    return n, (
        f"assumption: no published figure; the national mean {BCP_PER_COMMUNE:.0f} a commune "
        f"(3.35 million [bcp] / {LEGACY_COMMUNES:,} legacy communes) × {n_communes} communes"
    )


def province_parts(province: str, register: str) -> list[Part]:
    """The province as the legacy provinces it was made of (2025: each new commune goes to the former
    province most of its old communes came from), with beneficiaries: the province's published figure
    where there is one (parts with their own published figure keep it, the rest share what is left by
    their old communes), else each part's published figure or the national mean per commune."""
    from welfare_sim.sim import register as reg

    unit = reg.find_province(province, register)
    communes = reg.communes(unit.code, register)
    if register == "legacy":
        parts = [Part(unit.name, unit.code, communes.height, communes["code"].to_list())]
    else:
        legacy = reg.all_communes("legacy").select("province_code", "province", legacy_code="code")
        pairs = (
            reg.conversion_table()
            .filter(pl.col("default") & pl.col("code").is_in(communes["code"].implode()))
            .join(legacy, on="legacy_code")
        )
        counts = pairs.group_by("province_code", "province").len().sort("province_code")
        # each new commune to the former province that gave it most old communes (ties: the lower code)
        owner = (
            pairs.group_by("code", "province_code")
            .len()
            .sort(["code", "len", "province_code"], descending=[False, True, False])
            .unique("code", keep="first")
        )
        unowned = sorted(set(communes["code"]) - set(owner["code"]))  # new communes no old one defaults to
        parts = []
        for row in counts.iter_rows(named=True):
            mine = sorted(owner.filter(pl.col("province_code") == row["province_code"])["code"])
            parts.append(Part(row["province"], row["province_code"], row["len"], mine))
        parts[int(np.argmax([p.legacy_communes for p in parts]))].communes += unowned
    whole = PUBLISHED.get((register, unit.code))
    known = {p.code: PUBLISHED[("legacy", p.code)] for p in parts if ("legacy", p.code) in PUBLISHED}
    if whole is not None:
        kept = (
            sum(k.beneficiaries for k in known.values())
            if sum(k.beneficiaries for k in known.values()) < whole.beneficiaries
            else 0
        )
        rest = [p for p in parts if p.code not in known or not kept]
        left = whole.beneficiaries - kept
        n_rest = sum(p.legacy_communes for p in rest)
        for p in parts:
            if p in rest:
                p.beneficiaries = round(left * p.legacy_communes / n_rest)
                p.why = f"{whole.source}, less the parts published alone, shared by old communes (assumption)"
            else:
                p.beneficiaries, p.why = known[p.code].beneficiaries, known[p.code].source
        rest[-1].beneficiaries += whole.beneficiaries - sum(p.beneficiaries for p in parts)
        if len(parts) == 1:
            parts[0].why = whole.source
        return parts
    for p in parts:
        if p.code in known:
            p.beneficiaries, p.why = known[p.code].beneficiaries, known[p.code].source
        else:
            p.beneficiaries, p.why = _mean_share(p.legacy_communes)
    return parts


def _initial_accounts(start: str) -> str:
    if start >= "2024-04":
        return (
            "    # 63.35 % had no account in Apr 2024 [seed001]: 36.65 % with one; split by terrain (assumption)\n"
            "    account_share: {urban: 0.50, rural: 0.37, mountain: 0.20}  # assumption around 36.65 % [seed001]\n"
            "    registered_share: 0.54          # 46 % of holders not yet paid into the account, Apr 2024 [seed001]\n"
        )
    return (
        "    account_share: {urban: 0.20, rural: 0.15, mountain: 0.03}  # assumption: Hòa Bình's in Jan 2023\n"
        "    registered_share: 0.0           # assumption: nobody paid into an account before the run\n"
    )


def _entries(per_commune: float) -> str:
    monthly = round(0.075 * per_commune / 12, 2)
    return (
        "    # New approvals, per commune and month: ≈ 7.5 % a year of those on the list (deaths with the age\n"
        "    # mix below ≈ 6.5 %, plus ≈ 1 % net stops: Hòa Bình's derivation, an assumption here), so the\n"
        f"    # count stays roughly level: 7.5 % × {per_commune:.0f} a commune / 12.\n"
        f"    entries_per_commune_month: {monthly}  # derived (above); assumption\n"
    )


def new_scenario_text(
    province: str,
    register: str,
    commune_data: Path | None = None,
    start: str | None = None,
    months: int = 12,
    name: str | None = None,
    data_ref: str | None = None,
) -> str:
    """The scenario's text; `data_ref` is how the scenario names `commune_data` (relative to itself).
    Raises RegisterError for an unknown province (with did-you-mean) or a bad per-commune file."""
    from welfare_sim.sim import register as reg

    unit = reg.find_province(province, register)
    start = start or ("2025-07" if register == "2025" else "2023-01")
    communes = reg.communes(unit.code, register)
    parts = province_parts(unit.code, register)
    total = sum(p.beneficiaries for p in parts)
    name = name or f"{_slug(unit.short_name)}_{register}"
    head = (
        "# yaml-language-server: $schema=scenario.schema.json\n"
        f"# {unit.name}: monthly social-assistance payments on the {'July 2025' if register == '2025' else 'pre-2025'}"
        f" map, from {start} for {months} months.\n"
        "# Written by `welfare-sim new-scenario`; edit it freely.\n#\n" + SOURCES + "\n"
        f"name: {name}\n"
        f"description: {unit.name} ({register} register), {len(communes)} communes, written by new-scenario\n"
        + _line(f"start: {start}", "assumption: the month the plan starts")
        + "\n"
        + _line(f"months: {months}", "assumption: the horizon of the plan")
        + "\n"
        + _line(f"seed: {int(start.replace('-', '')) * 100 + 1}", "any whole number: it keys the random streams")
        + "\n\n"
    )
    geography = geography_block(unit, register, parts, commune_data, data_ref, start)
    body = TEMPLATE.read_text(encoding="utf-8").format(
        entries=_entries(total / max(len(communes), 1)), initial_accounts=_initial_accounts(start)
    )
    return head + geography + "\n" + body


# bank ATMs: 20,986 in the country, Jan 2024 (State Bank via xe.today), over the legacy communes
ATMS_PER_COMMUNE = 20_986 / LEGACY_COMMUNES
PUBLISHED_ATMS = {"17": (73, "73 ATMs in Hòa Bình [bhb]")}
PUBLISHED_MINORITY = {"17": (0.74, "74.3 % non-Kinh in Hòa Bình (Mường 64.3 %; census via Wikipedia)")}
TRAVEL = [
    "  travel_to_commune_point:          # one-way, minutes; assumption (Hòa Bình's)",
    "    mean_min: {urban: 10, rural: 25, mountain: 50}",
    "    cv: 0.6                         # assumption",
    "  travel_to_town:                   # one-way to the post office or an ATM; assumption (Hòa Bình's)",
    "    mean_min: {urban: 15, rural: 45, mountain: 90}",
    "    cv: 0.5                         # assumption",
]


def _settings(part: Part, indent: str, start: str, beneficiaries: int | None, post_offices: int) -> list[str]:
    atms, atms_why = PUBLISHED_ATMS.get(
        part.code, (round(ATMS_PER_COMMUNE * part.legacy_communes), "assumption: the national mean per commune")
    )
    minority, minority_why = PUBLISHED_MINORITY.get(part.code, (0.15, "assumption: the national share, census 2019"))
    lines = []
    if beneficiaries is not None:
        lines.append(_line(f"{indent}beneficiaries: {beneficiaries}", part.why or "assumption"))
    return lines + [
        _line(f"{indent}terrain: {{urban: 0.15, rural: 0.55, mountain: 0.30}}", "assumption"),
        _line(f"{indent}ethnic_minority_share: {minority}", minority_why),
        _line(f"{indent}post_offices: {post_offices}", "[register] the former district post offices here"),
        _line(f"{indent}post_office_counters: 2", "assumption"),
        _line(f"{indent}atms: {atms}", atms_why),
        _line(f"{indent}cashless_start: {start}", "assumption: account payments from the start"),
    ]


def _file_beneficiaries(unit: object, register: str, commune_data: Path | None) -> dict[str, int]:
    """Beneficiaries by commune code that the planner's file gives (none without a file or the column)."""
    if commune_data is None:
        return {}
    from welfare_sim.sim import register as reg

    table = reg.commune_table(unit.code, register, commune_data)
    if "beneficiaries" not in table.columns:
        return {}
    known = table.filter(pl.col("beneficiaries").is_not_null())
    return dict(zip(known["code"], known["beneficiaries"].cast(pl.Int64), strict=True))


def _group_total(estimate: int, codes: list[str], counted: dict[str, int], must: bool) -> int | None:
    """A group's beneficiaries beside the file's: left out (None) where the file counts every commune
    and the key may be left out; else at least the file's sum."""
    in_file = [counted[c] for c in codes if c in counted]
    if len(in_file) == len(codes) and codes:
        return sum(in_file) if must else None
    return max(estimate, sum(in_file))


def geography_block(
    unit: object, register: str, parts: list[Part], commune_data: Path | None, data_ref: str | None, start: str
) -> str:
    """The `geography:` block: on the legacy map the register's districts; on the 2025 map `defaults`
    (the largest former province) and an area per other former province, by commune code."""
    from welfare_sim.sim import register as reg

    counted = _file_beneficiaries(unit, register, commune_data)
    total = sum(p.beneficiaries for p in parts)
    lines = [
        "geography:",
        _line(f"  register: {'legacy' if register == 'legacy' else chr(34) + '2025' + chr(34)}", "[register]"),
        _line(f"  province: {unit.name}", f"[register] code {unit.code}"),
    ]
    if data_ref is not None:
        lines.append(_line(f"  commune_data: {data_ref}", "the planner's per-commune figures (their sources there)"))
    lines += [
        f"  # Beneficiaries: {total:,} in all"
        + (" (where the per-commune file does not count them):" if counted else ":"),
        *(f"  #   {p.name}: {p.beneficiaries:,} ({p.why})" for p in parts),
        "  # Terrain shares, post-office counters and ATMs outside Hòa Bình are assumptions; the register",
        "  # places each commune (official code, name, latitude, longitude).",
    ]
    if register == "legacy":
        part = parts[0]
        districts = (
            reg.districts(unit.code)
            .join(
                reg.communes(unit.code, "legacy").group_by("district_code").agg(codes=pl.col("code")),
                left_on="code",
                right_on="district_code",
                how="inner",
            )
            .sort("code")
        )
        n_all = sum(len(c) for c in districts["codes"])
        shares = [round(part.beneficiaries * len(c) / n_all) for c in districts["codes"]]
        shares[-1] += part.beneficiaries - sum(shares)  # the remainder to the last: the districts sum to the total
        lines.append(
            "  districts:                        # the register's; beneficiaries shared by communes (assumption)"
        )
        for row, n in zip(districts.iter_rows(named=True), shares, strict=True):
            district = Part(
                part.name,
                part.code,
                len(row["codes"]),
                list(row["codes"]),
                why="share of the total by communes (assumption)",
            )
            lines.append(_line(f"    - name: {row['short_name']}", f"[register] {row['name']}, code {row['code']}"))
            lines.append(_line(f"      communes: {len(row['codes'])}", "[register]"))
            n = _group_total(n, list(row["codes"]), counted, must=True)
            lines += _settings(district, "      ", start, n, 1)[1 if n is None else 0 :]
        return "\n".join(lines + TRAVEL) + "\n"
    old_districts = reg.all_communes("legacy").group_by("province_code").agg(pl.col("district_code").n_unique())
    offices = dict(zip(old_districts["province_code"], old_districts["district_code"], strict=True))
    rest = max(parts, key=lambda p: (p.legacy_communes, p.code))
    lines.append(f"  defaults:                         # {rest.name} and every commune in no area")
    lines += _settings(
        rest, "    ", start, _group_total(rest.beneficiaries, rest.communes, counted, False), offices[rest.code]
    )
    others = [p for p in parts if p is not rest and p.communes]
    if others:
        lines.append(
            "  areas:                            # the other former provinces, by their communes' codes [register]"
        )
    for p in others:
        codes = ", ".join(f'"{c}"' for c in p.communes)
        lines += [
            f"    - name: former {p.name.removeprefix('Tỉnh ').removeprefix('Thành phố ')}",
            f"      communes: [{codes}]",
            *_settings(p, "      ", start, _group_total(p.beneficiaries, p.communes, counted, False), offices[p.code]),
        ]
    return "\n".join(lines + TRAVEL) + "\n"


def write_new_scenario(out_file: Path, text: str) -> Path:
    """Write `text` at `out_file` if nothing is there, after checking that it loads as a scenario."""
    from welfare_sim.sim.publish import OutputError, write_new_file
    from welfare_sim.sim.scenario import ScenarioError, load_scenario

    out_file = Path(out_file)
    problems: list[str] = []
    if out_file.exists() or out_file.is_symlink():
        problems.append(f"--out {out_file}: exists; new-scenario never replaces a file. Choose another --out")
    elif not out_file.parent.is_dir():
        problems.append(f"--out {out_file}: the folder {out_file.parent} does not exist; make it first")
    elif out_file.suffix.lower() not in (".yaml", ".yml"):
        problems.append(f"--out {out_file}: a scenario file ends in .yaml; give a name such as {out_file.stem}.yaml")
    if problems:
        raise WriterError(problems)

    def check(tmp: Path) -> None:
        try:
            load_scenario(tmp)
        except ScenarioError as exc:
            raise WriterError(
                ["the written scenario does not validate (a bug in new-scenario):", *exc.problems]
            ) from None

    try:
        write_new_file(out_file, text.encode("utf-8"), check)
    except OutputError as exc:
        raise WriterError(exc.problems) from None
    return out_file


# --------------------------------------------------------------------------- the command


def register(app: typer.Typer) -> None:
    """Add `new-scenario` to `welfare-sim` (entry point group welfare_sim.commands)."""
    app.command("new-scenario")(new_scenario)


def new_scenario(
    out_file: Annotated[Path, typer.Option("--out", help="the scenario file to write (must not exist)")],
    province: Annotated[
        str | None, typer.Option("--province", help="province name (diacritics optional) or official code")
    ] = None,
    country: Annotated[
        Path | None,
        typer.Option(
            "--country",
            help="write the whole country (legacy map, 63 provinces) with the rest of this scenario file: "
            "e.g. --country scenarios/vietnam.yaml",
        ),
    ] = None,
    register_: Annotated[
        str, typer.Option("--register", help='"2025" (the map from July 2025) or "legacy" (before it)')
    ] = "2025",
    commune_data: Annotated[
        Path | None, typer.Option("--commune-data", help="per-commune figures (CSV or Parquet) joined by code or name")
    ] = None,
    start: Annotated[str | None, typer.Option(help="first month, YYYY-MM (default 2025-07 on the 2025 map)")] = None,
    months: Annotated[int, typer.Option(min=1, max=240, help="months to simulate")] = 12,
) -> None:
    """Write a scenario for a province from the administrative register: communes by official code,
    beneficiaries from your file or published figures, every other value sourced or marked an assumption."""
    from welfare_sim.sim import register as reg

    if (province is None) == (country is None):
        fail(["give either --province NAME (one province) or --country FILE (the whole country)"])
    if country is not None:
        try:
            like = country.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail([f"--country {country}: cannot be read ({exc}); give a scenario .yaml file"])
        try:
            path = write_new_scenario(out_file, country_scenario_text(like))
        except WriterError as exc:
            fail(exc.problems)
        out.print(f"wrote {path}; check it with: welfare-sim validate {path}", highlight=False)
        return
    assert province is not None
    if start is not None:
        try:
            dt.date(int(start[:4]), int(start[5:7]), 1)
            assert len(start) == 7 and start[4] == "-"
        except (ValueError, AssertionError):
            fail([f"--start {start!r}: not a month; write it as YYYY-MM, e.g. 2025-07"])
    try:
        data_ref = None
        if commune_data is not None:
            data_ref = os.path.relpath(commune_data.resolve(), out_file.resolve().parent)
        text = new_scenario_text(province, register_, commune_data, start, months, data_ref=data_ref)
        path = write_new_scenario(out_file, text)
    except reg.RegisterError as exc:
        fail([f"--province {province!r}: {p}" if "province" in p else p for p in exc.problems])
    except WriterError as exc:
        fail(exc.problems)
    out.print(f"wrote {path}; check it with: welfare-sim validate {path}", highlight=False)


# --------------------------------------------------------------------------- the whole country


@dataclass(frozen=True)
class Region:
    """A socio-economic region's assumptions, as scenarios/vietnam.yaml gave them when the country was
    modelled as its 6 regions; every province of the region takes them."""

    name: str
    share: float  # of the national beneficiaries (assumption: by population, weighted up in the poorer north)
    terrain: str
    ethnic_minority_share: float
    chip_id_share: float
    atms: int  # of the 20,986 [sbv] (assumption)
    cashless_start: str
    cashless_why: str
    provinces: tuple[str, ...]  # legacy province codes (GSO's regions)


NATIONAL_BENEFICIARIES = 5_058_040  # 3,204,268 / 0.6335 [seed001]
NATIONAL_ATMS = 20_986  # [sbv]
_LATE = "assumption: Resolution 124/NQ-CP (7 Aug 2023)"
_EARLY = "assumption: early adopters, under Directive 21"
REGIONS = (
    Region("Northern midlands and mountains", 0.15, "{urban: 0.10, rural: 0.30, mountain: 0.60}", 0.60, 0.66, 1300,
           "2023-08", _LATE, ("02", "04", "06", "08", "10", "11", "12", "14", "15", "17", "19", "20", "24", "25")),
    Region("Red River delta", 0.21, "{urban: 0.35, rural: 0.65, mountain: 0.0}", 0.03, 0.80, 6500,
           "2023-01", _EARLY, ("01", "22", "26", "27", "30", "31", "33", "34", "35", "36", "37")),
    Region("North central and central coast", 0.23, "{urban: 0.15, rural: 0.55, mountain: 0.30}", 0.10, 0.75, 3500,
           "2023-08", _LATE, ("38", "40", "42", "44", "45", "46", "48", "49", "51", "52", "54", "56", "58", "60")),
    Region("Central Highlands", 0.07, "{urban: 0.10, rural: 0.40, mountain: 0.50}", 0.35, 0.66, 900,
           "2023-08", _LATE, ("62", "64", "66", "67", "68")),
    Region("South east", 0.13, "{urban: 0.50, rural: 0.45, mountain: 0.05}", 0.05, 0.80, 6000,
           "2023-01", _EARLY, ("70", "72", "74", "75", "77", "79")),
    Region("Mekong delta", 0.21, "{urban: 0.15, rural: 0.85, mountain: 0.0}", 0.08, 0.74, 2786,
           "2023-08", _LATE, ("80", "82", "83", "84", "86", "87", "89", "91", "92", "93", "94", "95", "96")),
)


def country_geography_block() -> str:
    """The `geography:` block of the whole country on the legacy map: one entry per province with its
    region's assumptions, beneficiaries and ATMs (published where known, else the region's share by
    commune count); the districts and communes come from the register when the scenario loads."""
    from welfare_sim.sim import register as reg
    from welfare_sim.sim.scenario import share_out

    provinces = reg.provinces("legacy").sort("code")
    counts = reg.all_communes("legacy").group_by("province_code").len()
    n_communes = dict(zip(counts["province_code"], counts["len"], strict=True))
    names = dict(zip(provinces["code"], provinces["short_name"], strict=True))
    listed = sorted(c for r in REGIONS for c in r.provinces)
    if listed != sorted(names):
        raise WriterError([f"the regions list {len(listed)} provinces, the legacy register {len(names)}; fix REGIONS"])
    region_benef = share_out(NATIONAL_BENEFICIARIES, [round(r.share * 100) for r in REGIONS])
    rows: dict[str, list[str]] = {}
    for region, total in zip(REGIONS, region_benef, strict=True):
        codes = list(region.provinces)
        published = {c: PUBLISHED[("legacy", c)] for c in codes if ("legacy", c) in PUBLISHED}
        rest = [c for c in codes if c not in published]
        shared = share_out(total - sum(p.beneficiaries for p in published.values()), [n_communes[c] for c in rest])
        benef = {**{c: p.beneficiaries for c, p in published.items()}, **dict(zip(rest, shared, strict=True))}
        atm_known = {c: PUBLISHED_ATMS[c][0] for c in codes if c in PUBLISHED_ATMS}
        atm_rest = [c for c in codes if c not in atm_known]
        atms = {**atm_known, **dict(zip(atm_rest, share_out(region.atms - sum(atm_known.values()),
                                                          [n_communes[c] for c in atm_rest]), strict=True))}
        for c in codes:
            why = [published[c].source if c in published else "region's share by communes (assumption)"]
            why.append(PUBLISHED_ATMS[c][1] if c in PUBLISHED_ATMS else "ATMs: region's by communes (assumption)")
            rows[c] = [
                f"    - {{province: \"{c}\", beneficiaries: {benef[c]}, atms: {atms[c]}}}",
                f"    # {names[c]}, {n_communes[c]} communes; {'; '.join(why)}",
            ]
    lines = [
        "geography:",
        _line("  register: legacy", "[register] the map before 1 July 2025: 63 provinces, districts, communes"),
        _line("  province: Việt Nam", "the country's label; each province below is run as its own province"),
        "  # Written by `welfare-sim new-scenario --country`: the legacy register's 63 provinces, grouped in",
        "  # the 6 socio-economic regions (GSO). Each province takes its region's assumptions (the `defaults`",
        "  # of its region block); its districts come from the register, one post office with 2 counters each",
        "  # (≈700 districts × 2 counters, assumption); its beneficiaries and ATMs are shared out to its",
        "  # districts by commune count (assumption).",
        f"  # Beneficiaries: {NATIONAL_BENEFICIARIES:,} in all [seed001], shared to the regions as "
        + ", ".join(f"{round(r.share * 100)}%" for r in REGIONS) + " (assumption,",
        "  # by population weighted up in the poorer north and highlands); within a region by commune count,",
        "  # except where a province's figure is published (then the rest of the region shares what is left).",
        "  # ATMs: 20,986 [sbv], shared to the regions (assumption) and within a region by commune count.",
        "  defaults:                         # country-wide; a province's own values come first",
        _line("    post_offices: 1", "per district: its district post office (assumption)"),
        _line("    post_office_counters: 2", "assumption"),
        _line("    cashless_start: 2023-08", _LATE),
        _line("    ethnic_minority_share: 0.15", "assumption: ≈15% nationally (census 2019); regions' own below"),
        _line("    terrain: {urban: 0.15, rural: 0.55, mountain: 0.30}", "assumption"),
        _line("    atms: 0", "assumption: none where a province gives no count (each does below)"),
        "  provinces:",
    ]
    for region in REGIONS:
        lines += [
            f"    # {region.name}: terrain, ethnic-minority share and chip-ID share are assumptions (as the",
            f"    # 6-region file had them); cashless_start {region.cashless_start}, {region.cashless_why}",
        ]
        settings = (
            f"region: {region.name}, terrain: {region.terrain}, ethnic_minority_share: "
            f"{region.ethnic_minority_share}, chip_id_share: {region.chip_id_share}, "
            f"cashless_start: {region.cashless_start}"
        )
        for c in region.provinces:
            entry, why = rows[c]
            lines += [why, entry[:-1] + ",", f"       {settings}}}"]
    lines += [_line("  sample_fraction: 1.0", "a run setting (assumption: everyone); 0.01 to calibrate")]
    return "\n".join(lines) + "\n"


def country_scenario_text(like: str) -> str:
    """`like` (a scenario's text) with its `geography:` block replaced by the whole country's: the
    population, payment rules, assumptions and calibration stay as that file has them."""
    lines = like.splitlines(keepends=True)
    try:
        begin = next(i for i, line in enumerate(lines) if line.startswith("geography:"))
    except StopIteration:
        raise WriterError(["--like: the file has no top-level `geography:` block to replace"]) from None
    end = next((i for i in range(begin + 1, len(lines)) if lines[i][:1] not in (" ", "\n", "#")), len(lines))
    while end > begin + 1 and (lines[end - 1].strip() == "" or lines[end - 1].startswith("#")):
        end -= 1  # the comments before the next block belong to it
    return "".join(lines[:begin]) + country_geography_block() + "".join(lines[end:])
