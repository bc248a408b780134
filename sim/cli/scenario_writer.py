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
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

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


def beneficiary_parts(province: str, register: str) -> list[tuple[str, int, str]]:
    """(part, beneficiaries, comment) of a province: the whole province where a figure is published;
    else each legacy province it was made of (2025) with its published figure or the national mean
    per commune times its communes, an assumption."""
    from welfare_sim.sim import register as reg

    unit = reg.find_province(province, register)
    if (register, unit.code) in PUBLISHED:
        p = PUBLISHED[(register, unit.code)]
        return [(unit.name, p.beneficiaries, p.source)]
    communes = reg.communes(unit.code, register)
    if register == "legacy":
        olds = communes.group_by("province_code", "province").len()
    else:
        table = reg.conversion_table().filter(pl.col("default") & pl.col("code").is_in(communes["code"].implode()))
        legacy = reg.all_communes("legacy").select(
            legacy_code="code", province_code="province_code", province="province"
        )
        olds = table.join(legacy, on="legacy_code").group_by("province_code", "province").len()
    parts = []
    for row in olds.sort("province_code").iter_rows(named=True):  # sorted: the same text every time
        known = PUBLISHED.get(("legacy", row["province_code"]))
        if known is not None:
            parts.append((row["province"], known.beneficiaries, known.source))
        else:
            n = round(BCP_PER_COMMUNE * row["len"])
            parts.append(
                (
                    row["province"],
                    n,
                    f"assumption: no published figure; the national mean {BCP_PER_COMMUNE:.0f} a commune "
                    f"(3.35 million [bcp] / {LEGACY_COMMUNES:,} legacy communes) × {row['len']} communes",
                )
            )
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
) -> str:
    """The scenario's text. Raises RegisterError for an unknown province (with did-you-mean)."""
    from welfare_sim.sim import register as reg

    unit = reg.find_province(province, register)
    start = start or ("2025-07" if register == "2025" else "2023-01")
    communes = reg.communes(unit.code, register)
    parts = beneficiary_parts(unit.code, register)
    total = sum(n for _, n, _ in parts)
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
    geography = geography_block(unit, register, communes, parts, commune_data, start)
    body = TEMPLATE.read_text(encoding="utf-8").format(
        entries=_entries(total / max(len(communes), 1)), initial_accounts=_initial_accounts(start)
    )
    return head + geography + "\n" + body


def geography_block(
    unit: object,
    register: str,
    communes: pl.DataFrame,
    parts: list[tuple[str, int, str]],
    commune_data: Path | None,
    start: str,
) -> str:
    """The `geography:` block (the legacy form: the register's districts, each with its communes)."""
    from welfare_sim.sim import register as reg

    total = sum(n for _, n, _ in parts)
    lines = [
        "geography:",
        _line(f"  province: {unit.name}", f"[register] code {unit.code}"),
        f"  # Beneficiaries: {total:,} in all:",
        *(f"  #   {part}: {n:,} ({why})" for part, n, why in parts),
        "  # shared among districts in proportion to their communes (assumption).",
        "  # Terrain by kind of district (cities and towns mostly urban, rural districts rural and mountain),",
        "  # ethnic-minority shares (≈15 % nationally, census 2019), post-office counters and ATMs",
        "  # (20,986 in the country, Jan 2024, State Bank) per district are assumptions.",
        "  districts:",
    ]
    districts = (
        reg.districts(unit.code)
        .join(communes.group_by("district_code").len(), left_on="code", right_on="district_code", how="inner")
        .sort("code")
    )
    n_all = int(districts["len"].sum())
    shares = [round(total * int(c) / n_all) for c in districts["len"]]
    shares[-1] += total - sum(shares)  # the remainder to the last, so the districts sum to the total
    for row, n in zip(districts.iter_rows(named=True), shares, strict=True):
        urban = row["type"] in ("Thành phố", "Quận", "Thị xã")
        terrain = "{urban: 0.6, rural: 0.4, mountain: 0.0}" if urban else "{urban: 0.05, rural: 0.6, mountain: 0.35}"
        lines += [
            _line(f"    - name: {row['short_name']}", f"[register] {row['name']}, code {row['code']}"),
            _line(f"      communes: {row['len']}", "[register]"),
            _line(f"      beneficiaries: {n}", "share of the total by communes (assumption)"),
            _line(f"      terrain: {terrain}", "assumption"),
            _line("      ethnic_minority_share: 0.15", "assumption: the national share, census 2019"),
            _line("      post_office_counters: 2", "assumption"),
            _line(f"      atms: {20 if urban else 4}", "assumption"),
            _line(f"      cashless_start: {start}", "assumption: account payments from the start"),
        ]
    lines += [
        "  travel_to_commune_point:          # one-way, minutes; assumption (Hòa Bình's)",
        "    mean_min: {urban: 10, rural: 25, mountain: 50}",
        "    cv: 0.6                         # assumption",
        "  travel_to_town:                   # one-way to the district post office or an ATM; assumption",
        "    mean_min: {urban: 15, rural: 45, mountain: 90}",
        "    cv: 0.5                         # assumption",
    ]
    return "\n".join(lines) + "\n"


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
    province: Annotated[str, typer.Option("--province", help="province name (diacritics optional) or official code")],
    out_file: Annotated[Path, typer.Option("--out", help="the scenario file to write (must not exist)")],
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

    if start is not None:
        try:
            dt.date(int(start[:4]), int(start[5:7]), 1)
            assert len(start) == 7 and start[4] == "-"
        except (ValueError, AssertionError):
            fail([f"--start {start!r}: not a month; write it as YYYY-MM, e.g. 2025-07"])
    try:
        text = new_scenario_text(province, register_, commune_data, start, months)
        path = write_new_scenario(out_file, text)
    except reg.RegisterError as exc:
        fail([f"--province {province!r}: {p}" if "province" in p else p for p in exc.problems])
    except WriterError as exc:
        fail(exc.problems)
    out.print(f"wrote {path}; check it with: welfare-sim validate {path}", highlight=False)
