"""A province's own beneficiary roster, read as personal data: pseudonymised at the first step.

A roster is a CSV, Excel (.xlsx) or Parquet file with one row per person and allowance. It is read
with every cell as text (commune codes keep their leading zeros), and at once:

* each person gets a keyed pseudonym, ``HMAC-SHA256(key, national ID number)`` (or, without an ID
  number, of the folded name and date of birth), cut to 16 hex digits. The key is the user's: the same
  key gives the same pseudonyms, so runs can be linked; without the key they cannot be reversed;
* the personal columns (name, ID number, phone number, account number) are dropped. Nothing after
  `read_roster` ever sees their values, and no error message quotes them: problems name the row number
  (as a spreadsheet shows it, the header being row 1) and the column, never the value of a personal
  field.

Every row is checked: a known commune code (in the register the scenario names), a known category, an
amount consistent with the rules for that category at the roster's date, a valid date of birth, a known
sex. Bad rows are reported by row number and column, with counts; `max_bad_share` decides whether the
import stops. A bad row is never silently dropped: it is listed, and the rest of the roster runs.

Missing attributes (an empty cell, or a column the roster does not have) are left as nulls and counted
per column here; the model fills them from the scenario's shares and reports how many it filled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from pydantic import Field

from welfare_sim.models.params import ACCOUNT_TYPES, CATEGORIES, Frozen
from welfare_sim.models.roster import NO_ACCOUNT, NO_BORN, UNKNOWN, RosterPeople
from welfare_sim.sim.names import fold

# Fields the model reads, and the headers a Vietnamese roster commonly uses for them (folded: no
# diacritics, lower case, single spaces). A scenario's `roster.columns` overrides any of them.
PERSONAL_FIELDS = ("full_name", "id_number", "phone", "account_number")
FIELDS = PERSONAL_FIELDS + (
    "birth_date", "sex", "category", "amount_vnd", "commune_code", "commune_name",
    "account_provider", "payment_method", "disabled", "home_collection",
)
DEFAULT_HEADERS: dict[str, tuple[str, ...]] = {
    "full_name": ("ho ten", "ho va ten", "ho va ten doi tuong", "ten doi tuong"),
    "id_number": ("so cccd", "so dinh danh", "so dinh danh ca nhan", "cccd", "so cmnd", "cmnd/cccd", "so cmnd/cccd"),
    "phone": ("so dien thoai", "dien thoai", "sdt"),
    "account_number": ("so tai khoan", "tai khoan", "stk"),
    "birth_date": ("ngay sinh", "ngay thang nam sinh"),
    "sex": ("gioi tinh",),
    "category": ("doi tuong", "loai doi tuong", "nhom doi tuong", "che do"),
    "amount_vnd": ("muc huong", "muc tro cap", "so tien", "muc huong (dong)"),
    "commune_code": ("ma xa", "ma don vi hanh chinh", "ma dvhc"),
    "commune_name": ("ten xa", "xa", "xa/phuong", "xa, phuong, thi tran"),
    "account_provider": ("to chuc cung ung", "ngan hang", "noi mo tai khoan", "loai tai khoan"),
    "payment_method": ("hinh thuc chi tra", "hinh thuc nhan", "phuong thuc chi tra", "hinh thuc nhan tro cap"),
    "disabled": ("khuyet tat", "nguoi khuyet tat"),
    "home_collection": ("nhan tai nha", "chi tra tai nha"),
}

# Accepted values, folded. The category names follow the labour department's list headings.
CATEGORY_VALUES: dict[str, str] = {
    "bao tro xa hoi": "social_assistance", "btxh": "social_assistance", "tro cap xa hoi": "social_assistance",
    "social_assistance": "social_assistance",
    "nguoi co cong": "merit", "ncc": "merit", "uu dai nguoi co cong": "merit", "merit": "merit",
    "tro cap huu tri xa hoi": "social_pension", "huu tri xa hoi": "social_pension", "social_pension": "social_pension",
    "luong huu": "pension", "pension": "pension",
}
SEX_VALUES = {"nam": False, "male": False, "m": False, "nu": True, "female": True, "f": True}
YES_NO = {"co": True, "x": True, "1": True, "yes": True, "true": True,
          "khong": False, "0": False, "no": False, "false": False, "": None}
METHOD_VALUES = {"tien mat": False, "cash": False, "chuyen khoan": True, "tai khoan": True, "qua tai khoan": True,
                 "account": True}
PROVIDER_VALUES: dict[str, str] = {
    "ngan hang": "bank", "bank": "bank", "agribank": "bank", "vietinbank": "bank", "bidv": "bank",
    "vietcombank": "bank", "lienvietpostbank": "bank", "lpbank": "bank",
    "viettel money": "mobile_money", "vnpt money": "mobile_money", "mobifone money": "mobile_money",
    "mobile money": "mobile_money", "mobile_money": "mobile_money",
    "vi buu dien": "postal_ewallet", "postpay": "postal_ewallet", "vnpost": "postal_ewallet",
    "postal_ewallet": "postal_ewallet",
    "khong": "none", "chua co": "none", "none": "none", "": "none",
}

# Social assistance is base level × coefficient (Decree 20/2021: coefficients in steps of 0.5 from 0.5
# to 5, "hệ số"); base level 360,000 VND, and 500,000 VND from 2024-07 (Decree 76/2024).
SOCIAL_BASE_VND = ((dt.date(2021, 7, 1), 360_000), (dt.date(2024, 7, 1), 500_000))
SOCIAL_COEFFICIENT_STEP = 0.5
SOCIAL_COEFFICIENT_MAX = 5.0
# Merit allowances are the standard level × a type's coefficient (Decree 75/2021: 1,624,000 VND;
# Decree 55/2023: 2,055,000 VND from 2023-07). Types' coefficients reach about 3.8 with supplements;
# the check only refuses amounts no type reaches (0 or above 10 standards).
MERIT_STANDARD_VND = ((dt.date(2021, 6, 1), 1_624_000), (dt.date(2023, 7, 1), 2_055_000))
MERIT_MAX_STANDARDS = 10
MAX_AMOUNT_VND = 100_000_000  # no monthly allowance reaches 100 million VND

PSEUDONYM_HEX = 16
MIN_KEY_BYTES = 16
KEY_ENV = "WELFARE_SIM_ROSTER_KEY"


class RosterError(ValueError):
    """The roster cannot be used. `problems` holds one line per problem; none quotes a personal value."""

    def __init__(self, problems: list[str] | str) -> None:
        problems = [problems] if isinstance(problems, str) else problems
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Problem:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str  # the roster's own header
    what: str

    def line(self, path: Path) -> str:
        return f"{path}: row {self.row}, column {self.column!r}: {self.what}"


@dataclass
class Roster:
    """The usable part of a roster, without any personal field.

    `people` has one row per good roster row: pseudonym, row, age_years, female, category, amount_vnd,
    commune_code, account_provider, disabled, home_collection (nulls where the roster is silent)."""

    path: Path
    people: pl.DataFrame
    problems: list[Problem]
    rows_read: int
    missing: dict[str, int] = field(default_factory=dict)  # per field: rows with no value

    @property
    def bad_rows(self) -> int:
        return len({p.row for p in self.problems})

    def problem_counts(self) -> list[tuple[str, str, int]]:
        """(column, problem kind, rows), most frequent first: the summary a planner reads first."""
        kinds = Counter((p.column, re.sub(r"\d[\d,.]*", "N", p.what.split(";")[0])) for p in self.problems)
        return [(c, w, n) for (c, w), n in kinds.most_common()]


def load_key(key: bytes | str | None = None) -> bytes:
    """The pseudonymisation key: given, or from the environment variable WELFARE_SIM_ROSTER_KEY."""
    if key is None:
        key = os.environ.get(KEY_ENV)
    if key is None:
        raise RosterError(
            f"no pseudonymisation key: set the environment variable {KEY_ENV} to a secret of at least "
            f"{MIN_KEY_BYTES} characters that you keep (the same key links runs; see docs/roster.md)"
        )
    raw = key.encode() if isinstance(key, str) else bytes(key)
    if len(raw) < MIN_KEY_BYTES:
        raise RosterError(
            f"the pseudonymisation key is {len(raw)} bytes long; use at least {MIN_KEY_BYTES} "
            f"(e.g. `python -c \"import secrets; print(secrets.token_hex(32))\"`)"
        )
    return raw


def pseudonym(key: bytes, identity: str) -> str:
    """Keyed, one-way, stable: the same key and identity always give the same 16 hex digits."""
    return hmac.new(key, identity.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


def _read_text_table(path: Path) -> pl.DataFrame:
    """Every cell as text (or null), whatever the format, with the file's own headers."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise RosterError(f"{path}: no such file; give the path of the roster (CSV, .xlsx or Parquet)")
    try:
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=False)
        if suffix in (".parquet", ".pq"):
            frame = pl.read_parquet(path)
            return frame.select(pl.all().cast(pl.String))
        if suffix == ".xlsx":
            return _read_xlsx(path)
    except RosterError:
        raise
    except Exception as exc:  # noqa: BLE001 -- a damaged file: say which and how, without its content
        raise RosterError(f"{path}: cannot be read as {suffix or 'a table'} ({type(exc).__name__}); "
                          "save it again as CSV (UTF-8), .xlsx or Parquet") from None
    raise RosterError(f"{path}: the file type {suffix or '(none)'!r} is not supported; allowed: .csv, .xlsx, .parquet")


def _read_xlsx(path: Path) -> pl.DataFrame:
    import openpyxl  # only for Excel rosters

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise RosterError(f"{path}: the first sheet is empty; the header row must be row 1")
        names = [str(h).strip() if h is not None else f"column {i + 1}" for i, h in enumerate(header)]
        columns: list[list[str | None]] = [[] for _ in names]
        for row in rows:
            for i in range(len(names)):
                v = row[i] if i < len(row) else None
                if isinstance(v, dt.datetime):
                    v = v.date().isoformat()
                elif isinstance(v, dt.date):
                    v = v.isoformat()
                elif isinstance(v, float) and v.is_integer():
                    v = str(int(v))
                columns[i].append(None if v is None else str(v))
    finally:
        book.close()
    return pl.DataFrame({n: c for n, c in zip(names, columns, strict=True)}, schema=dict.fromkeys(names, pl.String))


def resolve_columns(headers: list[str], mapping: dict[str, str] | None, path: Path) -> dict[str, str]:
    """field -> the roster's header. The scenario's mapping wins; otherwise the common Vietnamese headers."""
    mapping = dict(mapping or {})
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise RosterError([f"{path}: roster.columns.{u}: not a roster field; allowed: {', '.join(FIELDS)}"
                           for u in unknown])
    by_fold = {fold(h): h for h in headers}
    out: dict[str, str] = {}
    problems = []
    for f in FIELDS:
        if f in mapping:
            want = mapping[f]
            if want in headers:
                out[f] = want
            elif fold(want) in by_fold:
                out[f] = by_fold[fold(want)]
            else:
                problems.append(f"{path}: roster.columns.{f} names the column {want!r}, which the roster does not "
                                f"have; its columns are: {', '.join(headers)}")
            continue
        for h in DEFAULT_HEADERS[f]:
            if h in by_fold:
                out[f] = by_fold[h]
                break
    if problems:
        raise RosterError(problems)
    needed = [f for f in ("commune_code", "category", "amount_vnd") if f not in out]
    if "commune_code" in needed and "commune_name" in out:
        needed.remove("commune_code")
    if needed:
        raise RosterError(
            f"{path}: no column for {', '.join(needed)}; name them under roster.columns in the scenario "
            f"(e.g. roster.columns.{needed[0]}: \"<header>\"), or use the usual headers "
            + "; ".join(f"{f}: {DEFAULT_HEADERS[f][0]!r}" for f in needed)
        )
    if "id_number" not in out and not ("full_name" in out and "birth_date" in out):
        raise RosterError(
            f"{path}: each person needs an identity to pseudonymise: a column for the ID number (e.g. 'Số CCCD'), "
            "or both the name and the date of birth; name it under roster.columns"
        )
    return out


def _parse_date(text: str) -> dt.date | None:
    text = text.strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    if re.fullmatch(r"\d{4}", text):  # a year only, as some lists give for the old
        return dt.date(int(text), 7, 1)
    return None


def _level(table: tuple[tuple[dt.date, int], ...], on: dt.date) -> int:
    value = table[0][1]
    for start, vnd in table:
        if on >= start:
            value = vnd
    return value


def _amount_problem(category: str, vnd: int, on: dt.date, social_base: int | None = None) -> str | None:
    if category == "social_assistance":
        base = social_base or _level(SOCIAL_BASE_VND, on)
        coef = vnd / base
        steps = coef / SOCIAL_COEFFICIENT_STEP
        if abs(steps - round(steps)) > 1e-9 or not (SOCIAL_COEFFICIENT_STEP <= coef <= SOCIAL_COEFFICIENT_MAX):
            return (f"a social-assistance amount must be the base level ({base:,} VND on {on:%Y-%m}) times a "
                    f"coefficient from 0.5 to 5 in steps of 0.5 (Decree 20/2021); this amount is {coef:.3f} times it")
    elif category == "merit":
        std = _level(MERIT_STANDARD_VND, on)
        if vnd > MERIT_MAX_STANDARDS * std:
            return (f"a merit allowance above {MERIT_MAX_STANDARDS} standard levels ({std:,} VND on {on:%Y-%m}) "
                    "is not a rate any type has")
    return None


def read_roster(
    path: str | Path,
    *,
    key: bytes,
    communes: pl.DataFrame,
    on: dt.date,
    mapping: dict[str, str] | None = None,
    max_bad_share: float = 0.0,
    social_base_vnd: int | None = None,
) -> Roster:
    """Read, pseudonymise and check a roster.

    `communes` is the register's table for the scenario's province (columns code, name, short_name);
    `on` is the date the roster describes (amounts and ages are checked at it; social assistance against
    `social_base_vnd`, the scenario's base level then, or the national one). Raises RosterError when
    the file cannot be used, or when more than `max_bad_share` of its rows are bad."""
    path = Path(path)
    raw = _read_text_table(path)
    headers = raw.columns
    cols = resolve_columns(headers, mapping, path)
    n = raw.height
    if n == 0:
        raise RosterError(f"{path}: the roster has a header but no rows")

    def column(f: str) -> list[str | None]:
        return raw[cols[f]].to_list() if f in cols else [None] * n

    # Identity first, then the personal columns are gone: nothing below can quote them.
    ids, names, births = column("id_number"), column("full_name"), column("birth_date")
    pseudonyms: list[str | None] = []
    problems: list[Problem] = []
    for i in range(n):
        idn = re.sub(r"\s+", "", ids[i] or "")
        if idn:
            pseudonyms.append(pseudonym(key, "id:" + idn))
        elif (names[i] or "").strip() and (births[i] or "").strip():
            pseudonyms.append(pseudonym(key, "name:" + fold(names[i]) + "|" + births[i].strip()))
        else:
            pseudonyms.append(None)
            problems.append(Problem(i + 2, cols.get("id_number", cols.get("full_name", "?")),
                                    "no ID number, and no name with a date of birth, to identify the person by"))
    del ids, names
    raw = raw.drop([cols[f] for f in PERSONAL_FIELDS if f in cols])

    code_by_fold: dict[str, str] = {}
    for code, name, short in communes.select("code", "name", "short_name").iter_rows():
        code_by_fold.setdefault(fold(name), code)
        code_by_fold.setdefault(fold(short), code)
    known_codes = set(communes["code"].to_list())

    out = {k: [] for k in ("pseudonym", "row", "age_years", "born_ym", "female", "category", "amount_vnd",
                           "commune_code", "account_provider", "into_account", "disabled", "home_collection")}
    missing: Counter[str] = Counter()
    values = {f: column(f) for f in FIELDS if f not in PERSONAL_FIELDS}
    seen: dict[tuple[str, str], int] = {}
    for i in range(n):
        row = i + 2
        bad: list[Problem] = []

        def cell(f: str, _i: int = i) -> str:
            v = values[f][_i]
            return "" if v is None else str(v).strip()

        # commune: by code, else by name
        code = cell("commune_code")
        if code:
            code = code.zfill(5) if code.isdigit() else code
            if code not in known_codes:
                bad.append(Problem(row, cols["commune_code"], f"commune code {code!r} is not a commune of the "
                                   "scenario's province in its register"))
        elif cell("commune_name"):
            code = code_by_fold.get(fold(cell("commune_name")), "")
            if not code:
                bad.append(Problem(row, cols["commune_name"], f"commune {cell('commune_name')!r} is not in the "
                                   "scenario's province; give its official code instead"))
        else:
            bad.append(Problem(row, cols.get("commune_code", cols.get("commune_name", "?")), "no commune"))

        category = CATEGORY_VALUES.get(fold(cell("category")))
        if category is None:
            bad.append(Problem(row, cols["category"], f"category {cell('category')!r} is not known; allowed: "
                               "Bảo trợ xã hội, Người có công, Trợ cấp hưu trí xã hội"))

        amount = None
        text = re.sub(r"[.,]0+$", "", cell("amount_vnd"))  # 500000.0 from a float column
        text = text.replace(".", "").replace(",", "").replace(" ", "")  # 1.624.000 / 1,624,000
        if not text.isdigit() or int(text) <= 0 or int(text) > MAX_AMOUNT_VND:
            bad.append(Problem(row, cols["amount_vnd"], f"amount {cell('amount_vnd')!r} is not a whole number "
                               f"of VND between 1 and {MAX_AMOUNT_VND:,}"))
        else:
            amount = int(text)
            if category is not None and (why := _amount_problem(category, amount, on, social_base_vnd)):
                bad.append(Problem(row, cols["amount_vnd"], why))

        age = born_ym = None
        if births[i] is not None and str(births[i]).strip():
            born = _parse_date(str(births[i]))
            # the date of birth is personal: the message never quotes it
            if born is None:
                bad.append(Problem(row, cols["birth_date"], "the date of birth is not a date (use dd/mm/yyyy)"))
            elif born > on or (on.year - born.year) > 120:
                bad.append(Problem(row, cols["birth_date"], f"the date of birth gives an age outside 0-120 on {on}"))
            else:
                age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
                born_ym = 12 * born.year + born.month - 1
        else:
            missing["birth_date"] += 1

        female = None
        if cell("sex"):
            female = SEX_VALUES.get(fold(cell("sex")))
            if female is None:
                bad.append(Problem(row, cols["sex"], f"sex {cell('sex')!r} is not known; allowed: Nam, Nữ"))
        else:
            missing["sex"] += 1

        provider = PROVIDER_VALUES.get(fold(cell("account_provider")))
        if provider is None:
            provider = "bank"  # a named bank not in the list is still a bank account
        if "account_provider" not in cols:
            provider = None
            missing["account_provider"] += 1

        into_account = None
        if "payment_method" in cols and cell("payment_method"):
            into_account = METHOD_VALUES.get(fold(cell("payment_method")))
            if into_account is None:
                bad.append(Problem(row, cols["payment_method"], f"payment method {cell('payment_method')!r} is not "
                                   "known; allowed: Tiền mặt, Chuyển khoản"))
            elif into_account and provider in (None, "none"):
                bad.append(Problem(row, cols["payment_method"], "paid into an account, but no account provider"))
        else:
            missing["payment_method"] += 1

        flags = {}
        for f in ("disabled", "home_collection"):
            if f not in cols or not cell(f):
                missing[f] += 1
                flags[f] = None
                continue
            flags[f] = YES_NO.get(fold(cell(f)))
            if flags[f] is None:
                bad.append(Problem(row, cols[f], f"{cell(f)!r} is not yes or no; allowed: Có, Không (or x, blank)"))

        who = pseudonyms[i]
        if who is not None and category is not None:
            first = seen.setdefault((who, category), row)
            if first != row:
                bad.append(Problem(row, cols.get("id_number", cols.get("full_name", "?")),
                                   f"the same person already has a {category.replace('_', ' ')} row (row {first})"))
        if who is None or bad:
            problems.extend(bad)
            continue
        for k, v in (("pseudonym", who), ("row", row), ("age_years", age), ("born_ym", born_ym), ("female", female),
                     ("category", category), ("amount_vnd", amount), ("commune_code", code),
                     ("account_provider", provider), ("into_account", into_account),
                     ("disabled", flags["disabled"]),
                     ("home_collection", flags["home_collection"])):
            out[k].append(v)

    problems.sort(key=lambda p: (p.row, p.column))
    roster = Roster(
        path=path,
        people=pl.DataFrame(out, schema={
            "pseudonym": pl.String, "row": pl.Int64, "age_years": pl.Int16, "born_ym": pl.Int32, "female": pl.Boolean,
            "category": pl.String, "amount_vnd": pl.Int64, "commune_code": pl.String,
            "account_provider": pl.String, "into_account": pl.Boolean, "disabled": pl.Boolean,
            "home_collection": pl.Boolean,
        }),
        problems=problems,
        rows_read=n,
        missing=dict(sorted(missing.items())),
    )
    share = roster.bad_rows / n
    if share > max_bad_share:
        shown = [p.line(path) for p in problems[:20]]
        more = [f"... and {len(problems) - 20:,} more problems"] if len(problems) > 20 else []
        counts = [f"  {c!r}: {w} ({k:,} rows)" for c, w, k in roster.problem_counts()[:10]]
        raise RosterError(
            [f"{path}: {roster.bad_rows:,} of {n:,} rows are bad ({share:.1%}); the scenario allows "
             f"roster.max_bad_share = {max_bad_share:g}. Fix the rows, or raise roster.max_bad_share to run "
             "without them (they are listed either way)", "by column and problem:", *counts, *shown, *more]
        )
    return roster


# --------------------------------------------------------------------------- the scenario's `roster:` block


class RosterInput(Frozen):
    """`roster:` in a scenario: start from this list of real people instead of a synthetic draw."""

    path: str = Field(min_length=1, description="the roster file (.csv, .xlsx, .parquet), relative to the scenario")
    date: dt.date | None = Field(
        None, description="the date the roster describes (ages and amounts are checked at it); default: the "
        "first day of the scenario's start month"
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="field -> the roster's header, where it differs from the usual Vietnamese headers "
        "(docs/roster.md); fields: " + ", ".join(FIELDS),
    )
    max_bad_share: float = Field(
        0.0, ge=0.0, le=1.0,
        description="the run stops when more than this share of rows is bad; at or below it, bad rows are "
        "left out and listed",
    )
    min_cell_size: int = Field(
        5, ge=1, le=1000, description="aggregates of fewer people than this are suppressed in reports and workbooks"
    )
    per_person_tables: bool = Field(
        False, description="write payments.parquet (per person, pseudonyms only); off unless asked"
    )


@dataclass
class ResolvedRoster:
    """A scenario's roster, read and checked: the domain's arrays, and what the run reports of the import."""

    settings: RosterInput
    people: RosterPeople
    pseudonyms: tuple[str, ...]  # in `people`'s order; kept in the scenario layer, never in the domain
    rows_read: int
    bad_rows: int
    problem_lines: list[str]  # the first problems, by row number and column
    problem_counts: list[tuple[str, str, int]]
    missing: dict[str, int]

    def summary(self) -> dict:
        """What a run folder records of its roster: counts only, nothing personal."""
        return {
            "file": Path(self.settings.path).name,
            "rows_read": self.rows_read,
            "people": self.people.n,
            "bad_rows_left_out": self.bad_rows,
            "problems_by_column": [{"column": c, "problem": w, "rows": n} for c, w, n in self.problem_counts],
            "missing_in_roster": self.missing,
            "min_cell_size": self.settings.min_cell_size,
        }


def _flag(value: bool | None) -> int:
    return UNKNOWN if value is None else int(value)


def to_people(
    roster: Roster, codes: tuple[str, ...], social_base_vnd: int, start: str
) -> tuple[RosterPeople, tuple[str, ...]]:
    """The domain's arrays, one per person in rank order (commune, then pseudonym), and the pseudonyms in
    that order. A person with rows in two programmes is one person receiving both (the first row's
    programme first); their attributes are the first row's."""
    from welfare_sim.models.programmes import NO_SECOND

    index = {c: i for i, c in enumerate(codes)}
    frame = roster.people.with_columns(
        pl.col("commune_code").replace_strict(index, default=-1, return_dtype=pl.Int32).alias("_commune")
    ).sort("row")
    firsts = frame.unique("pseudonym", keep="first", maintain_order=True)
    seconds = frame.filter(pl.col("pseudonym").is_duplicated()).filter(
        pl.col("row") != pl.col("row").min().over("pseudonym")
    ).unique("pseudonym", keep="first").select("pseudonym", second_category="category", second_vnd="amount_vnd")
    frame = firsts.join(seconds, on="pseudonym", how="left").sort("_commune", "pseudonym")
    rows = frame.to_dicts()
    social = CATEGORIES.index("social_assistance")
    category = np.array([CATEGORIES.index(r["category"]) for r in rows], np.int8)
    second = np.array([NO_SECOND if r["second_category"] is None else CATEGORIES.index(r["second_category"])
                       for r in rows], np.int8)
    # the social-assistance amount, whichever of the person's rows it is on
    social_vnd = np.array([r["amount_vnd"] if r["category"] == "social_assistance" else (r["second_vnd"] or 0)
                           for r in rows], np.float64)
    start_ym = int(start[:4]) * 12 + int(start[5:7]) - 1
    provider = {"none": NO_ACCOUNT, None: UNKNOWN} | {t: i for i, t in enumerate(ACCOUNT_TYPES)}
    people = RosterPeople(
        commune=frame["_commune"].to_numpy().astype(np.int32),
        category=category,
        second=second,
        born=np.array([NO_BORN if r["born_ym"] is None else r["born_ym"] - start_ym for r in rows], np.int32),
        coefficient=np.where((category == social) | (second == social), social_vnd / social_base_vnd, np.nan),
        female=np.array([_flag(r["female"]) for r in rows], np.int8),
        disabled=np.array([_flag(r["disabled"]) for r in rows], np.int8),
        home_collection=np.array([_flag(r["home_collection"]) for r in rows], np.int8),
        account_type=np.array([provider[r["account_provider"]] for r in rows], np.int8),
        into_account=np.array([_flag(r["into_account"]) for r in rows], np.int8),
    )
    return people, tuple(frame["pseudonym"].to_list())


def resolve_roster(settings: RosterInput, geography, population, start: str, source: str):  # noqa: ANN001, ANN201
    """Read the scenario's roster against its map: returns (ResolvedRoster, the Places with the roster's
    commune counts, the groups with the roster's totals). Raises RosterError, each line at the key path."""
    import dataclasses

    from welfare_sim.models.programmes import dated_amount
    from welfare_sim.sim import register as reg

    places = geography.places
    at = f"{source} › roster"
    if geography.register == "none" or not any(places.code):
        raise RosterError([f"{at}: a roster names communes by official code, so the scenario needs a register "
                           "map; set geography.register to legacy or \"2025\" and geography.province"])
    on = settings.date or dt.date.fromisoformat(f"{start}-01")
    base = dated_amount(population.base_level, on.strftime("%Y-%m"))
    try:
        key = load_key()
        prov = reg.find_province(geography.province, geography.register)
        communes = reg.communes(prov.code, geography.register).filter(pl.col("code").is_in(list(places.code)))
        roster = read_roster(settings.path, key=key, communes=communes, on=on, mapping=settings.columns,
                             max_bad_share=settings.max_bad_share, social_base_vnd=base)
    except RosterError as exc:
        raise RosterError([f"{at}: {line}" for line in exc.problems]) from None
    people, pseudonyms = to_people(roster, tuple(places.code), base, start)
    counts = people.counts(places.n)
    totals = np.bincount(places.group, weights=counts, minlength=len(places.groups)).astype(np.int64)
    groups = tuple(g.model_copy(update={"beneficiaries": int(t), "commune_beneficiaries": None})
                   for g, t in zip(places.groups, totals, strict=True))
    new_places = dataclasses.replace(places, beneficiaries=counts, groups=groups)
    resolved = ResolvedRoster(
        settings=settings, people=people, pseudonyms=pseudonyms, rows_read=roster.rows_read,
        bad_rows=roster.bad_rows, problem_lines=[p.line(roster.path) for p in roster.problems[:20]],
        problem_counts=roster.problem_counts(), missing=roster.missing,
    )
    return resolved, new_places
