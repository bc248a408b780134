"""A made-up beneficiary roster in the format a provincial labour department keeps: for tests and demos.

Every person is invented: names are drawn from common Vietnamese family, middle and given names,
ID numbers follow the 12-digit chip-ID layout (province code, sex-and-century digit, year of birth,
six random digits) but are random, phone and account numbers are random. Nothing comes from a real
list. Communes are the register's, by official code, so a roster written here imports like a real one.

    python -m welfare_sim.sim.synthetic_roster --province "Hòa Bình" --register legacy --people 2000 \\
        --out roster.csv
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Đinh",
          "Quách", "Xa", "Hà", "Lò", "Sa", "Triệu", "Lường")
MIDDLE_M = ("Văn", "Đức", "Công", "Minh", "Quang", "Văn")
MIDDLE_F = ("Thị", "Thị", "Thu", "Ngọc", "Thị Thu", "Thanh")
GIVEN_M = ("An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Lâm", "Long", "Mạnh", "Nam", "Phong",
           "Quân", "Sơn", "Thắng", "Tiến", "Toàn", "Trung", "Tuấn", "Việt")
GIVEN_F = ("Anh", "Chi", "Dung", "Hà", "Hằng", "Hoa", "Hương", "Lan", "Liên", "Mai", "Nga", "Nhung", "Oanh",
           "Phương", "Thảo", "Thủy", "Trang", "Tuyết", "Vân", "Yến")
PROVIDERS = ("Agribank", "VietinBank", "LPBank", "Viettel Money", "VNPT Money", "Ví Bưu điện")

# The labour department's headers (sim/roster.py reads them without a column mapping).
HEADERS = {
    "full_name": "Họ và tên", "id_number": "Số CCCD", "phone": "Số điện thoại", "birth_date": "Ngày sinh",
    "sex": "Giới tính", "category": "Đối tượng", "amount_vnd": "Mức hưởng", "commune_code": "Mã xã",
    "commune_name": "Tên xã", "account_number": "Số tài khoản", "account_provider": "Tổ chức cung ứng",
    "payment_method": "Hình thức chi trả", "disabled": "Khuyết tật", "home_collection": "Nhận tại nhà",
}


@dataclass(frozen=True)
class Shares:
    """The shares the made-up roster is drawn from (defaults: Hòa Bình's scenario, 2023)."""

    merit: float = 0.0
    pension: float = 0.0
    age_80_plus: float = 0.48  # Hòa Bình: 48 % of recipients are 80+ (scenarios/hoa_binh.yaml)
    age_60_79: float = 0.30
    female: float = 0.58
    disabled: float = 0.30
    account: float = 0.11
    home_collection: float = 0.10


def synthetic_roster(
    communes: pl.DataFrame, people: int, seed: int, on: dt.date, shares: Shares | None = None
) -> pl.DataFrame:
    """`people` made-up rows over `communes` (the register's table: code, name), dated `on`."""
    s = shares or Shares()
    rng = np.random.default_rng([seed, people])
    codes = communes["code"].to_numpy()
    names = communes["name"].to_numpy()
    where = rng.integers(0, codes.size, people)
    female = rng.random(people) < s.female
    u = rng.random(people)
    age = np.where(u < s.age_80_plus, rng.integers(80, 100, people),
                   np.where(u < s.age_80_plus + s.age_60_79, rng.integers(60, 80, people), rng.integers(1, 60, people)))
    birth_year = on.year - age
    born = [dt.date(int(y), int(m), int(d)) for y, m, d in zip(birth_year, rng.integers(1, 13, people),
                                                                rng.integers(1, 29, people), strict=True)]
    c = rng.random(people)
    category = np.where(c < s.merit, "Người có công", np.where(c < s.merit + s.pension, "Trợ cấp hưu trí xã hội",
                                                                 "Bảo trợ xã hội"))
    base = 360_000 if on < dt.date(2024, 7, 1) else 500_000
    standard = 1_624_000 if on < dt.date(2023, 7, 1) else 2_055_000
    coef = rng.choice(np.array([1.0, 1.5, 2.0, 2.5, 3.0]), people, p=[0.55, 0.2, 0.15, 0.05, 0.05])
    amount = np.where(category == "Bảo trợ xã hội", (base * coef).astype(np.int64),
                      np.where(category == "Người có công", standard, base))
    century = np.where(birth_year >= 2000, 2, 0) + female.astype(int)
    province_code = communes["province_code"].to_numpy()[where]
    cccd = [f"{int(p):03d}{c}{y % 100:02d}{r:06d}"
            for p, c, y, r in zip(province_code, century, birth_year, rng.integers(0, 10**6, people), strict=True)]
    banked = rng.random(people) < s.account
    family = rng.choice(np.array(FAMILY), people)
    middle = np.where(female, rng.choice(np.array(MIDDLE_F), people), rng.choice(np.array(MIDDLE_M), people))
    given = np.where(female, rng.choice(np.array(GIVEN_F), people), rng.choice(np.array(GIVEN_M), people))
    return pl.DataFrame({
        HEADERS["full_name"]: [f"{a} {b} {g}" for a, b, g in zip(family, middle, given, strict=True)],
        HEADERS["id_number"]: cccd,
        HEADERS["phone"]: [f"09{n:08d}" for n in rng.integers(0, 10**8, people)],
        HEADERS["birth_date"]: [d.strftime("%d/%m/%Y") for d in born],
        HEADERS["sex"]: np.where(female, "Nữ", "Nam"),
        HEADERS["category"]: category,
        HEADERS["amount_vnd"]: amount,
        HEADERS["commune_code"]: codes[where],
        HEADERS["commune_name"]: names[where],
        HEADERS["account_number"]: [f"{n:013d}" if b else "" for n, b in
                                    zip(rng.integers(0, 10**13, people), banked, strict=True)],
        HEADERS["account_provider"]: [rng.choice(PROVIDERS) if b else "" for b in banked],
        HEADERS["payment_method"]: np.where(banked & (rng.random(people) < 0.5), "Chuyển khoản", "Tiền mặt"),
        HEADERS["disabled"]: np.where(rng.random(people) < s.disabled, "Có", "Không"),
        HEADERS["home_collection"]: np.where(rng.random(people) < s.home_collection, "Có", "Không"),
    })


def write_roster(frame: pl.DataFrame, out: Path) -> None:
    """Write as CSV (UTF-8 with BOM, as Excel reads it), .xlsx or Parquet by suffix; never overwrite."""
    from welfare_sim.sim.publish import atomic_write

    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists; choose another file name (nothing was written)")
    suffix = out.suffix.lower()
    if suffix == ".csv":
        atomic_write(out, lambda tmp: tmp.write_bytes("\ufeff".encode() + frame.write_csv().encode()))
    elif suffix in (".parquet", ".pq"):
        atomic_write(out, lambda tmp: frame.write_parquet(tmp))
    elif suffix == ".xlsx":
        atomic_write(out, lambda tmp: frame.write_excel(tmp))
    else:
        raise ValueError(f"{out}: the file type {suffix!r} is not supported; allowed: .csv, .xlsx, .parquet")


def main(argv: list[str] | None = None) -> int:
    import argparse

    from welfare_sim.sim import register

    ap = argparse.ArgumentParser(description="Write a made-up roster (never real people) for tests and demos.")
    ap.add_argument("--province", required=True)
    ap.add_argument("--register", default="legacy", choices=register.REGISTERS)
    ap.add_argument("--people", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--date", default="2023-01-01", help="the date the roster describes (YYYY-MM-DD)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    communes = register.communes(args.province, args.register)
    frame = synthetic_roster(communes, args.people, args.seed, dt.date.fromisoformat(args.date))
    write_roster(frame, args.out)
    print(f"wrote {args.out}: {frame.height:,} made-up people in {communes.height} communes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def roster_of_model(scenario, seed: int, people_seed: int = 1) -> pl.DataFrame:  # noqa: ANN001 (a sim Scenario)
    """The scenario's own synthetic starting population written as a roster (made-up names and numbers):
    the roster a run from it should agree with, within sampling error. Listed accounts are the
    accounts at the start, paid into when on the payment list; ages are drawn within each age group."""
    from welfare_sim.models.params import ACCOUNT_TYPES, CATEGORIES
    from welfare_sim.models.programmes import NO_SECOND, programme_amounts
    from welfare_sim.sim.engine import build_province

    p = build_province(scenario, seed)
    at_start = np.flatnonzero(p.people.entry_month < 0)
    people, acc = p.people, p.accounts
    n = at_start.size
    rng = np.random.default_rng([people_seed, n])
    on = dt.date.fromisoformat(f"{scenario.start}-01")
    low, high = np.array([18, 60, 80]), np.array([60, 80, 100])
    g = people.age_group[at_start]
    age = rng.integers(low[g], high[g])
    female = people.female[at_start]
    born = [dt.date(int(on.year - a), int(m), int(d)) for a, m, d in
            zip(age, rng.integers(1, 13, n), rng.integers(1, 29, n), strict=True)]
    born = [b if (on.month, on.day) >= (b.month, b.day) else b.replace(year=b.year - 1) for b in born]
    holds = acc.has_account[at_start]
    kind = np.where(holds, acc.type[at_start], -1)
    listed = (acc.has_account & acc.registered)[at_start]
    provider_of = {"bank": "Agribank", "mobile_money": "Viettel Money", "postal_ewallet": "Ví Bưu điện"}
    label = {"social_assistance": "Bảo trợ xã hội", "merit": "Người có công", "pension": "Lương hưu",
             "social_pension": "Trợ cấp hưu trí xã hội"}
    cat = [CATEGORIES[c] for c in people.category[at_start]]
    first_vnd, second_vnd = programme_amounts(people, scenario.population, scenario.start, 0)
    amount = first_vnd[at_start]
    codes = np.array(p.communes.places.code)[people.commune[at_start]]
    names = np.array(p.communes.places.name)[people.commune[at_start]]
    family = rng.choice(np.array(FAMILY), n)
    middle = np.where(female, rng.choice(np.array(MIDDLE_F), n), rng.choice(np.array(MIDDLE_M), n))
    given = np.where(female, rng.choice(np.array(GIVEN_F), n), rng.choice(np.array(GIVEN_M), n))
    ids = rng.choice(10**11, n, replace=False)  # distinct made-up ID numbers
    rows = pl.DataFrame({
        HEADERS["full_name"]: [f"{a} {b} {c}" for a, b, c in zip(family, middle, given, strict=True)],
        HEADERS["id_number"]: [f"0{i:011d}" for i in ids],
        HEADERS["phone"]: [f"09{x:08d}" for x in rng.integers(0, 10**8, n)],
        HEADERS["birth_date"]: [b.strftime("%d/%m/%Y") for b in born],
        HEADERS["sex"]: np.where(female, "Nữ", "Nam"),
        HEADERS["category"]: [label[c] for c in cat],
        HEADERS["amount_vnd"]: amount,
        HEADERS["commune_code"]: codes,
        HEADERS["commune_name"]: names,
        HEADERS["account_number"]: [f"{x:013d}" if k >= 0 else "" for x, k in
                                    zip(rng.integers(0, 10**13, n), kind, strict=True)],
        HEADERS["account_provider"]: [provider_of[ACCOUNT_TYPES[k]] if k >= 0 else "" for k in kind],
        HEADERS["payment_method"]: np.where(listed, "Chuyển khoản", "Tiền mặt"),
        HEADERS["disabled"]: np.where(people.disabled[at_start], "Có", "Không"),
        HEADERS["home_collection"]: np.where(p.home_takeup[at_start], "Có", "Không"),
    })
    # a person with a second programme has a second row: the same person, the other allowance
    two = people.second[at_start] != NO_SECOND
    extra = rows.filter(pl.Series(two)).with_columns(
        pl.Series(HEADERS["category"], [label[CATEGORIES[c]] for c in people.second[at_start][two]]),
        pl.Series(HEADERS["amount_vnd"], second_vnd[at_start][two]),
    )
    return pl.concat([rows, extra])
