"""Parameter blocks of the domain, validated and frozen (pydantic v2, unknown keys forbidden).

Every default lives here, once, with its unit in the field name or description and its source
(or the word *assumption*) in the description. Scenario files set these blocks; `welfare_sim.sim.scenario`
composes them into a whole scenario and checks cross-references.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

TERRAINS = ("urban", "rural", "mountain")
CATEGORIES = ("social_assistance", "merit", "pension", "social_pension")
ACCOUNT_TYPES = ("bank", "mobile_money", "postal_ewallet")
POINT_KINDS = ("commune_point", "post_office", "atm", "agent", "commune_post_office")
# cash-out points in the communes for account holders (mobile-money agents and Viettel/VNPost
# outlets; commune cultural post offices), optional in a scenario
OUTLET_KINDS = ("agent", "commune_post_office")
CashoutKind = Literal["atm", "post_office", "agent", "commune_post_office"]
AGE_GROUPS = ("under_60", "age_60_79", "age_80_plus")

# --------------------------------------------------------------------------- domain bounds
#
# Every count, amount and duration has an upper bound far above any real value, so that a
# scenario the schema accepts also runs: money stays inside int64 over the longest run of the
# largest population, and array sizes stay finite (`welfare_sim.sim.budget` then checks the
# memory of the whole scenario against the machine).

MAX_MONTHS = 240  # twenty years of monthly payments
MAX_DISTRICTS = 1_000  # Việt Nam has about 700 districts
MAX_COMMUNES_PER_DISTRICT = 20_000  # the country has about 10,600 communes; a region as one district holds 2,800
MAX_COMMUNES = 100_000  # in the whole scenario: ten times the country
MAX_BENEFICIARIES = 20_000_000  # in the whole scenario: four times the country's 5.06 million
MAX_DISTRICT_BENEFICIARIES = 10_000_000  # one district (or region modelled as one)
# ids are commune × 2**24 + rank; ranks from 2**23 are new entrants, from 2**23 + 2**22 programme joiners
MAX_COMMUNE_BENEFICIARIES = (1 << 23) - 1
MAX_POST_OFFICES = 1_000  # per district; a region modelled as one district has 170 (vietnam.yaml)
MAX_COUNTERS = 100  # servers at one point: a large post office has a dozen counters
MAX_ATMS = 50_000  # per district; Việt Nam has about 20,000 bank ATMs in all
MAX_TEAMS = 10_000  # teams of one strategy; the national drives send 400
MAX_PER_MONTH = 1_000  # communes a team visits a month (one a day is 31)
MAX_PER_COMMUNE = 100  # agents or digital teams in one commune
MAX_COURIERS = 10_000  # couriers in one district
MAX_PER_DAY = 1_000  # homes a courier reaches in a day (about 15)
MAX_HELPS = 10_000  # people a digital team helps a month (about 20)
MAX_STRATEGIES = 100  # strategies of one kind in a scenario (the package has two drives)
MAX_WAVES = 8  # waves of joiners of one programme (ids leave room for this many)
MAX_TYPES = 100  # merit types of one scenario (the decrees list a few dozen)
MAX_DATED = 1_000  # dated amounts in a list: one a month for longer than any run
MAX_ENTITLEMENT_VND = 100_000_000  # a monthly amount or base level: 200 × the 2024 base level
# With the social-assistance coefficient (≤ 10), the most one person is owed a month is 1e9 VND;
# × MAX_BENEFICIARIES × MAX_MONTHS = 4.8e18 VND, below int64's 9.2e18.
MAX_FEE_VND = 10_000_000  # a fee per payment, credit, delivery or cash-out (real fees: thousands)
MAX_COST_VND = 10_000_000_000  # a cost per team-month, per office, per point-day (real: millions)
MAX_FLOAT_VND = 1_000_000_000_000  # cash at one point in a day: an ATM holds about 2 billion; 1e12 is "no limit"
MAX_TRAVEL_VND_PER_MIN = 100_000  # a beneficiary's money cost of travel (real: under 1,000)
MAX_TIME_VND_PER_HOUR = 10_000_000  # value of a beneficiary's time (real: about 25,000)
MAX_MINUTES = 1_440.0  # a one-way trip or one service taking longer than a day is not one
MIN_SERVICE_MIN = 0.1  # minutes

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveMinutes = Annotated[float, Field(gt=0.0, le=MAX_MINUTES)]
# a service of a few e-324 minutes draws as 0.0 (the queue needs > 0): no cash-out takes under 6 seconds
ServiceMinutes = Annotated[float, Field(ge=MIN_SERVICE_MIN, le=MAX_MINUTES)]
Vnd = Annotated[int, Field(ge=0, le=MAX_COST_VND, description="integer VND")]
FeeVnd = Annotated[int, Field(ge=0, le=MAX_FEE_VND, description="integer VND")]
FloatVnd = Annotated[int, Field(ge=0, le=MAX_FLOAT_VND, description="integer VND")]


def _no_repeats(values: list | None) -> list | None:
    # names key streams and districts select people: a name twice is a typo, never a weight
    if values is None:
        return values
    seen: set = set()
    repeated = [v for v in values if v in seen or seen.add(v)]
    if repeated:
        raise ValueError(f"lists {', '.join(map(str, dict.fromkeys(repeated)))} more than once; name each once")
    return values


def UniqueList(item: object, **field: object) -> object:  # noqa: N802 (reads as a type)
    """A list of `item` in which no value appears twice."""
    return Annotated[list[item], AfterValidator(_no_repeats), Field(**field)]

_YM = re.compile(r"^(\d{4})-(\d{2})$")


class Frozen(BaseModel):
    # strict: `true` is not 1 and "12" is not 12 (lax pydantic takes both); and only finite numbers
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True, allow_inf_nan=False)


def _check_month(value: object) -> str:
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value).strip()
    match = _YM.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"must be a month written YYYY-MM, such as 2023-05 (got {value!r})")
    return text


Month = Annotated[str, BeforeValidator(_check_month), Field(pattern=_YM.pattern)]
"""A calendar month written ``YYYY-MM``."""


def month_index(month: str) -> int:
    """Months since year 0, so that differences give month offsets."""
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def month_offset(start: str, month: str) -> int:
    """Months from `start` to `month` (both YYYY-MM)."""
    return month_index(month) - month_index(start)


def month_label(start: str, offset: int) -> str:
    index = month_index(start) + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def shares_sum_to_one(values: dict[str, float], what: str) -> dict[str, float]:
    total = sum(values.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{what} must sum to 1 (got {total:.6g}); rescale the shares")
    return values


class TerrainShares(Frozen):
    urban: Share = 0.0
    rural: Share = 0.0
    mountain: Share = 0.0

    @model_validator(mode="after")
    def _sum(self) -> TerrainShares:
        shares_sum_to_one(self.model_dump(), "terrain shares")
        return self


class ByTerrain(Frozen):
    """A value for each terrain class."""

    urban: float
    rural: float
    mountain: float

    def array(self):  # noqa: ANN201
        import numpy as np

        return np.array([self.urban, self.rural, self.mountain], dtype=np.float64)


class ProbByTerrain(ByTerrain):
    urban: Probability
    rural: Probability
    mountain: Probability


class MinutesByTerrain(ByTerrain):
    urban: PositiveMinutes
    rural: PositiveMinutes
    mountain: PositiveMinutes


class TravelTime(Frozen):
    """One-way travel time, lognormal across beneficiaries of a terrain class."""

    mean_min: MinutesByTerrain = Field(description="mean one-way travel time, minutes")
    cv: Annotated[float, Field(gt=0.0, le=5.0)] = Field(
        0.6, description="coefficient of variation across beneficiaries (assumption)"
    )

    @field_validator("mean_min")
    @classmethod
    def _positive(cls, value: MinutesByTerrain) -> MinutesByTerrain:
        if min(value.urban, value.rural, value.mountain) <= 0:
            raise ValueError("travel times must be > 0 minutes")
        return value


class SpeedByTerrain(ByTerrain):
    urban: Annotated[float, Field(gt=0.0, le=200.0)]
    rural: Annotated[float, Field(gt=0.0, le=200.0)]
    mountain: Annotated[float, Field(gt=0.0, le=200.0)]


class DetourByTerrain(ByTerrain):
    urban: Annotated[float, Field(ge=1.0, le=5.0)]
    rural: Annotated[float, Field(ge=1.0, le=5.0)]
    mountain: Annotated[float, Field(ge=1.0, le=5.0)]


class TravelMode(Frozen):
    speed_kmh: SpeedByTerrain = Field(description="door-to-door speed on the road, by the commune's terrain, km/h")
    vnd_per_km: int = Field(ge=0, le=MAX_FEE_VND, description="money cost per road km, VND")
    fixed_vnd: int = Field(0, ge=0, le=MAX_FEE_VND, description="money cost per one-way trip (a fare's flag fall), VND")
    wait_min: Annotated[float, Field(ge=0.0, le=MAX_MINUTES)] = Field(
        0.0, description="minutes waiting for the ride per one-way trip"
    )


class Travel(Frozen):
    """How a trip's time and money follow from its distance: road km = great-circle km × a detour
    factor; a short trip is walked, a longer one ridden (on one's own or a relative's motorbike, or a
    hired xe ôm), a long one by bus. Every default is an assumption unless its description cites a source."""

    detour_factor: DetourByTerrain = Field(
        DetourByTerrain(urban=1.3, rural=1.4, mountain=1.7),
        description="road km ÷ great-circle km (assumption: road circuity of about 1.2-1.4 is usual on "
        "national networks; more on mountain roads)",
    )
    walk_max_km: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        2.0, description="road km up to which people walk (assumption)"
    )
    bus_min_km: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(
        30.0, description="road km from which people take the bus (assumption)"
    )
    hired_share: Share = Field(
        0.4,
        description="share of riders who hire a xe ôm rather than ride their own or a relative's motorbike "
        "(assumption; drawn once per beneficiary)",
    )
    walk: TravelMode = Field(
        TravelMode(speed_kmh=SpeedByTerrain(urban=4.0, rural=3.5, mountain=2.5), vnd_per_km=0),
        description="walking (assumption: elderly walkers, slower on mountain paths)",
    )
    motorbike: TravelMode = Field(
        TravelMode(speed_kmh=SpeedByTerrain(urban=20.0, rural=25.0, mountain=15.0), vnd_per_km=600),
        description="own or relative's motorbike: fuel and wear (assumption: about 2 l/100 km at about "
        "24,000 VND/l is 480 VND/km, plus wear)",
    )
    xe_om: TravelMode = Field(
        TravelMode(
            speed_kmh=SpeedByTerrain(urban=20.0, rural=25.0, mountain=15.0), vnd_per_km=5000, fixed_vnd=5000,
            wait_min=10.0,
        ),
        description="hired motorbike taxi (assumption: of the order of app motorbike-taxi fares, about "
        "4,000-5,000 VND/km after a first-km fare)",
    )
    bus: TravelMode = Field(
        TravelMode(speed_kmh=SpeedByTerrain(urban=20.0, rural=30.0, mountain=25.0), vnd_per_km=1200, wait_min=30.0),
        description="local bus (assumption: about 1,000-1,500 VND/km; half an hour's wait)",
    )

    @model_validator(mode="after")
    def _order(self) -> Travel:
        if self.bus_min_km < self.walk_max_km:
            raise ValueError(f"bus_min_km ({self.bus_min_km}) must not be below walk_max_km ({self.walk_max_km})")
        return self


# --------------------------------------------------------------------------- geography

Registers = Literal["legacy", "2025", "none"]


class GroupSettings(Frozen):
    """What the model keys on a group of communes (a district, a named area, or the rest of the
    province): rollout date, post offices, ATMs and the defaults for communes the planner's file
    leaves out. Every field may be left out where a wider level gives it."""

    beneficiaries: int | None = Field(
        None, ge=0, le=MAX_DISTRICT_BENEFICIARIES,
        description="monthly-benefit recipients living here, split across the communes the "
        "per-commune file does not count; None: the file counts them all",
    )
    terrain: TerrainShares | None = Field(
        None, description="share of the communes in each terrain class, for communes with no terrain in the file"
    )
    ethnic_minority_share: Share | None = Field(None, description="share of beneficiaries of an ethnic minority")
    post_offices: int | None = Field(
        None, ge=1, le=MAX_POST_OFFICES,
        description="post offices with cash counters serving the group; each beneficiary is assigned to one",
    )
    post_office_counters: int | None = Field(None, ge=1, le=MAX_COUNTERS, description="counters at each post office")
    atms: int | None = Field(None, ge=0, le=MAX_ATMS, description="bank ATMs here")
    chip_id_share: Share | None = Field(
        None, description="share holding a chip ID card at the start; default: population.chip_id_share"
    )
    smartphone_share: ProbByTerrain | None = Field(
        None, description="share owning a smartphone, by terrain; default: population.smartphone_share"
    )
    cashless_start: Month | None = Field(
        None, description="month (YYYY-MM) from which beneficiaries here can be paid into accounts"
    )


class District(Frozen):
    name: str = Field(min_length=1)
    communes: int | None = Field(
        None, ge=1, le=MAX_COMMUNES_PER_DISTRICT,
        description="number of communes (commune-level units); with a register, the register's count "
        "(leave it out, or give the same number)",
    )
    beneficiaries: int = Field(
        ge=0, le=MAX_DISTRICT_BENEFICIARIES, description="monthly-benefit recipients living in the district"
    )
    terrain: TerrainShares = Field(description="share of the district's communes in each terrain class")
    ethnic_minority_share: Share = Field(description="share of beneficiaries of an ethnic minority")
    post_offices: int = Field(
        1, ge=1, le=MAX_POST_OFFICES,
        description="post offices with cash counters in the district; each beneficiary "
        "is assigned to one of them (for a region modelled as one district, its district towns)"
    )
    post_office_counters: int = Field(
        2, ge=1, le=MAX_COUNTERS, description="counters at each of the district's post offices"
    )
    atms: int = Field(ge=0, le=MAX_ATMS, description="bank ATMs in the district")
    chip_id_share: Share | None = Field(
        None, description="share holding a chip ID card at the start, here; default: population.chip_id_share"
    )
    smartphone_share: ProbByTerrain | None = Field(
        None, description="share owning a smartphone here, by terrain; default: population.smartphone_share"
    )
    cashless_start: Month = Field(
        description="month (YYYY-MM) from which beneficiaries here can be paid into accounts"
    )
    commune_beneficiaries: list[Annotated[int, Field(ge=0, le=MAX_COMMUNE_BENEFICIARIES)]] | None = Field(
        None,
        description="beneficiaries in each commune; None: split the district's total across "
        "its communes by random commune sizes",
    )

    @model_validator(mode="after")
    def _commune_counts(self) -> District:
        counts = self.commune_beneficiaries
        if counts is not None:
            if self.communes is not None and len(counts) != self.communes:
                raise ValueError(
                    f"commune_beneficiaries lists {len(counts)} communes but communes is {self.communes}"
                )
            if sum(counts) != self.beneficiaries:
                raise ValueError(
                    f"commune_beneficiaries sums to {sum(counts)} but beneficiaries is {self.beneficiaries}"
                )
        return self


class Area(GroupSettings):
    """A group of communes the planner names (on a map without districts): its own rollout date,
    post offices and ATMs, and a name strategies can be scoped to (`districts: [<area name>]`).
    Fields left out take `geography.defaults`."""

    name: str = Field(min_length=1)
    communes: UniqueList(Annotated[str, Field(min_length=1)], min_length=1) = Field(
        description="the communes, by official code or name (diacritics and case ignored)"
    )


# "register" is the key planners write; pydantic warns that it shadows ABCMeta.register, which a
# scenario block never uses.
warnings.filterwarnings("ignore", message=r'Field name "register" in "\w*Geography" shadows', category=UserWarning)


class Geography(Frozen):
    register: Registers = Field(
        "legacy",
        description='administrative register the province is named in: "legacy" (the map before 1 July '
        '2025, with districts), "2025" (34 provinces, no districts) or "none" (a made-up world: '
        "anonymous communes, counted per district)",
    )
    province: str = Field(min_length=1, description="the province, by name or official code, in `register`")
    districts: list[District] | None = Field(
        None, min_length=1, max_length=MAX_DISTRICTS,
        description="legacy map: the province's districts, named as in the register; None: the whole province "
        "as `defaults` and `areas`",
    )
    areas: list[Area] = Field(
        default_factory=list, max_length=MAX_DISTRICTS,
        description="named groups of communes with their own settings (only without `districts`)",
    )
    defaults: GroupSettings | None = Field(
        None, description="without `districts`: the settings of the communes in no area, and the defaults of areas"
    )
    commune_data: str | None = Field(
        None,
        min_length=1,
        description="CSV or Parquet file of per-commune figures (path relative to the scenario file), joined "
        "by official code or name: beneficiaries, ethnic_minority_share, terrain, chip_id_share, "
        "smartphone_share, post_offices, atms, agents",
    )
    travel_to_commune_point: TravelTime | None = Field(
        None, description="register none only: one-way minutes to the commune point, drawn by terrain"
    )
    travel_to_town: TravelTime | None = Field(
        None, description="register none only: one-way minutes to the post office or an ATM, drawn by terrain"
    )
    travel: Travel = Field(
        Travel(),
        description="with coordinates (a register): trips' minutes and money from their distance, by mode",
    )
    sample_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        1.0,
        description="simulate this fraction of each commune's beneficiaries (the same people "
        "as in the full run, by id); counts in the outputs are of the simulated sample",
    )
    # Set by the scenario layer once the register is read (`welfare_sim.sim.scenario`): the model's map.
    _places: object = PrivateAttr(None)
    _roster: object = PrivateAttr(None)  # a models.roster.RosterPeople when the scenario starts from a roster

    @model_validator(mode="after")
    def _unique_names(self) -> Geography:
        if self.register == "none" and not self.districts:
            raise ValueError('register "none" (anonymous communes) needs `districts` with their commune counts')
        if self.register == "none" and (self.travel_to_commune_point is None or self.travel_to_town is None):
            raise ValueError(
                'register "none" (no places to measure trips on) needs travel_to_commune_point and travel_to_town'
            )
        if self.districts is None:
            if self.defaults is None:
                raise ValueError(
                    "without `districts`, give `defaults` (terrain, ethnic_minority_share, atms, cashless_start, ...)"
                )
            names = [a.name for a in self.areas]
        else:
            if self.areas or self.defaults is not None:
                raise ValueError(
                    "`areas` and `defaults` are for a scenario without `districts`; "
                    "set these values on the districts instead"
                )
            names = [d.name for d in self.districts]
            missing = [d.name for d in self.districts if d.communes is None]
            if self.register == "none" and missing:
                raise ValueError(
                    f'register "none": districts {", ".join(missing)} need `communes` '
                    "(there is no register to count them)"
                )
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"district names must be unique; repeated: {', '.join(dupes)}")
        if self.districts is not None and sum(d.beneficiaries for d in self.districts) == 0:
            raise ValueError("the districts have no beneficiaries at all; give at least one district beneficiaries > 0")
        if self.n_beneficiaries > MAX_BENEFICIARIES:
            raise ValueError(
                f"the districts hold {self.n_beneficiaries:,} beneficiaries in all; at most "
                f"{MAX_BENEFICIARIES:,} (four times Việt Nam's) can be simulated: use fewer or smaller districts"
            )
        if self.n_communes > MAX_COMMUNES:
            raise ValueError(
                f"the districts hold {self.n_communes:,} communes in all; at most {MAX_COMMUNES:,}"
            )
        return self

    @property
    def places(self):  # noqa: ANN201 (a models.geography.Places; typed there to keep this module light)
        return self._places

    @property
    def roster(self):  # noqa: ANN201 (a models.roster.RosterPeople, or None for a synthetic population)
        return self._roster

    @property
    def groups(self) -> list[District]:
        """The groups the model keys on: the districts, or (without districts) the areas and the rest."""
        if self._places is not None:
            return list(self._places.groups)
        return list(self.districts or [])

    @property
    def group_names(self) -> list[str]:
        """Names strategies may be scoped to (`districts: [...]`)."""
        if self.districts is not None:
            return [d.name for d in self.districts]
        return [a.name for a in self.areas]

    @property
    def n_communes(self) -> int:
        if self._places is not None:
            return self._places.n
        return sum(d.communes or 0 for d in self.districts or [])

    @property
    def n_beneficiaries(self) -> int:
        groups = self.groups if self._places is not None else self.districts or []
        return sum(d.beneficiaries for d in groups)


# --------------------------------------------------------------------------- population


CategoryName = Literal["social_assistance", "merit", "pension", "social_pension"]
MAX_AGE_YEARS = 100  # ages are drawn below this; q(x) of the last group applies beyond


class DatedAmount(Frozen):
    start: Month = Field(description="first month (YYYY-MM) the amount applies")
    vnd: int = Field(ge=0, le=MAX_ENTITLEMENT_VND, description="integer VND a month")



class DatedAge(Frozen):
    start: Month = Field(description="first month (YYYY-MM) the age applies")
    years: int = Field(ge=0, le=MAX_AGE_YEARS, description="age in whole years")


class MeritType(Frozen):
    share: Share = Field(description="share of the merit recipients of this type")
    coefficient: float = Field(
        gt=0.0, le=10.0, description="monthly allowance = the dated allowance standard × this coefficient"
    )


class Joiners(Frozen):
    """A wave of new approvals into one programme alone, such as those a lowered age makes eligible."""

    start: Month = Field(description="first month (YYYY-MM) they are approved")
    months: int = Field(1, ge=1, le=MAX_MONTHS, description="months the wave is spread over, evenly")
    per_commune: float = Field(
        ge=0.0, le=100_000.0, description="mean joiners per commune in all (Poisson), before any sample fraction"
    )
    min_age_years: int = Field(0, ge=0, lt=MAX_AGE_YEARS, description="youngest age at joining")
    max_age_years: int = Field(MAX_AGE_YEARS, ge=1, le=MAX_AGE_YEARS, description="ages at joining are below this")

    @model_validator(mode="after")
    def _ages(self) -> Joiners:
        if self.max_age_years <= self.min_age_years:
            raise ValueError(
                f"max_age_years ({self.max_age_years}) must be above min_age_years ({self.min_age_years})"
            )
        return self


class CategoryParams(Frozen):
    """One programme the post office pays: who is in it, and what it pays each month."""

    share: Share = Field(description="share of the province's beneficiaries in this programme (their first one)")
    coefficients: dict[str, Share] | None = Field(
        None,
        description="social assistance: allowance = base level × coefficient; "
        "share of recipients by coefficient (keys such as '1.5')",
    )
    amount: list[DatedAmount] | None = Field(
        None, max_length=MAX_DATED,
        description="merit allowances, pensions and social pensions: monthly amount, VND, dated "
        "(for merit with `types`: the allowance standard, times each type's coefficient)",
    )
    types: dict[str, MeritType] | None = Field(
        None, max_length=MAX_TYPES,
        description="merit: recipients by type (war invalid by rate, martyr's relative, ...), each with its "
        "share and its coefficient of the standard",
    )
    min_age_years: list[DatedAge] | None = Field(
        None, max_length=MAX_DATED,
        description="social pension: the age from which it is paid, dated; members join the list in the month "
        "they reach it (before the first date: not paid)",
    )
    also: dict[CategoryName, Share] | None = Field(
        None,
        description="share of this programme's recipients who also receive another programme (amounts add)",
    )
    joiners: list[Joiners] | None = Field(
        None, max_length=MAX_WAVES,
        description="waves of new approvals into this programme alone, on top of the demography's entries",
    )

    @field_validator("coefficients")
    @classmethod
    def _coefficients(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return value
        for key in value:
            try:
                coef = float(key)
            except ValueError:
                raise ValueError(f"coefficient keys must be numbers such as '1.5' (got {key!r})") from None
            if not 0 < coef <= 10:
                raise ValueError(f"coefficients must be in (0, 10] (got {key})")
        return shares_sum_to_one(value, "coefficient shares")

    @field_validator("types")
    @classmethod
    def _types(cls, value: dict[str, MeritType] | None) -> dict[str, MeritType] | None:
        if value:
            shares_sum_to_one({k: t.share for k, t in value.items()}, "merit type shares")
        return value

    @field_validator("also")
    @classmethod
    def _also(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value and sum(value.values()) > 1.0 + 1e-9:
            raise ValueError(f"`also` shares sum to {sum(value.values()):.6g}: at most 1 (one second programme each)")
        return value


class DeathProbBySex(Frozen):
    female: Probability
    male: Probability


class Demography(Frozen):
    """Deaths, new approvals and re-applications: the population lives."""

    female_share: Share = Field(description="share of beneficiaries who are women (drawn once, up front)")
    annual_death_prob: dict[Literal["under_60", "age_60_79", "age_80_plus"], DeathProbBySex] = Field(
        description=(
            "annual probability of dying by age group and sex, from a Vietnamese life table (the shipped "
            "scenarios: UN World Population Prospects 2024, Viet Nam 2022, deaths over person-years in each "
            "group's ages); the monthly chance is derived as 1 - (1 - q)^(1/12)"
        )
    )
    detection_lag_months: int = Field(
        2, ge=0, le=MAX_MONTHS,
        description="months after a death before the population database shows it and the person leaves the list",
    )
    proxy_collect_share: Probability = Field(
        0.0, description="monthly chance a proxy collects the cash of a dead person not yet detected"
    )
    entries_per_commune_month: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(
        0.0, description="mean new approvals per commune per month (Poisson), before any sample fraction"
    )
    reapply_prob: Probability = Field(0.0, description="monthly chance a stopped beneficiary re-applies and returns")


class Population(Frozen):
    categories: dict[CategoryName, CategoryParams]
    base_level: list[DatedAmount] = Field(
        min_length=1, max_length=MAX_DATED, description="social-assistance base level, VND/month, dated"
    )
    age_groups: dict[Literal["under_60", "age_60_79", "age_80_plus"], Share]
    disabled_share: Share
    immobile_share: Share = Field(description="share who cannot travel to a point (home delivery)")
    chip_id_share: Share = Field(description="share holding a chip ID card at the start")
    smartphone_share: ProbByTerrain = Field(description="share owning a smartphone, by terrain")
    demography: Demography | None = Field(
        None, description="deaths, new approvals and re-applications; none: a closed population"
    )

    @model_validator(mode="after")
    def _check(self) -> Population:
        shares_sum_to_one({k: v.share for k, v in self.categories.items()}, "category shares")
        shares_sum_to_one(dict(self.age_groups), "age-group shares")
        seconds = {other for cat in self.categories.values() for other in (cat.also or {})}
        for name, cat in self.categories.items():
            used = cat.share > 0 or name in seconds
            if name == "social_assistance" and used and not cat.coefficients:
                raise ValueError("social_assistance needs `coefficients` (allowance = base × coefficient)")
            if name != "social_assistance" and used and not cat.amount:
                raise ValueError(f"{name} needs `amount`: a dated list of monthly amounts in VND")
            if name == "social_pension" and used and not cat.min_age_years:
                raise ValueError("social_pension needs `min_age_years`: the dated age from which it is paid")
            if name in (cat.also or {}):
                raise ValueError(f"{name}: `also` names {name} itself; a second programme must be another one")
        missing = sorted(seconds - set(self.categories))
        if missing:
            raise ValueError(f"`also` names {', '.join(missing)}, which `categories` does not define; add it (share 0)")
        return self


# --------------------------------------------------------------------------- payment run


class DayWindow(Frozen):
    first_day: int = Field(ge=1, le=31)
    last_day: int = Field(ge=1, le=31)

    @model_validator(mode="after")
    def _order(self) -> DayWindow:
        if self.last_day < self.first_day:
            raise ValueError(f"last_day ({self.last_day}) must be ≥ first_day ({self.first_day})")
        return self


class PaymentSchedule(Frozen):
    """The post office's announced schedule of commune payment days.

    No published source says how a district post office assigns commune payment days; every
    default here is an assumption. Teams of the district's post offices go round its communes in
    commune order: each team serves `communes_per_team_day` communes a day (the opening hours
    split into that many sessions, less the move between them), each commune on
    `days_per_commune` consecutive open days of the commune window. A commune point is open
    (staffed, with cash) only on its scheduled days; communes the teams cannot fit into the
    window get no commune day, and their beneficiaries are paid at the post-office counter.
    """

    teams_per_post_office: int = Field(
        6, ge=1, le=50,
        description="payment teams per post office (assumption); bound: a district office has tens of staff",
    )
    communes_per_team_day: int = Field(
        1, ge=1, le=6,
        description="communes a team serves in one day (assumption); bound: sessions of at least an hour",
    )
    days_per_commune: int = Field(
        2, ge=1, le=31,
        description="payment days per commune point (assumption); bound: days in a month",
    )
    move_min: float = Field(
        60.0, ge=0.0, le=600.0,
        description="minutes a team needs to move to its next commune of the day (assumption); "
        "bound: most of a working day",
    )
    late_share: Probability = Field(
        0.05,
        description="share of cash recipients who miss their commune's days and go to the counter "
        "window instead (assumption)",
    )


class CashInTransit(Frozen):
    """Escorted cash runs that carry the commune points' cash (assumptions: not published)."""

    max_vnd_per_run: FloatVnd = Field(
        2_000_000_000, ge=100_000,
        description="most cash one escorted run may carry (assumption: insurance limit); "
        "bound: 100,000 VND (the rounding unit) to 1,000 bn VND",
    )
    runs_per_team_day: int = Field(
        1, ge=1, le=10,
        description="escorted runs a team may make in a day (assumption); bound: a few per working day",
    )
    cost_per_run_vnd: Vnd = Field(
        500_000, le=10**9,
        description="cost of one escorted run, VND (assumption); counted in the month's "
        "cash_in_transit_cost_vnd; bound: 1 bn VND",
    )


class PaymentRun(Frozen):
    run_start_day: int = Field(1, ge=1, le=28, description="day of the month the list and funds arrive")
    commune_window: DayWindow = Field(description="cash at commune payment points")
    counter_window: DayWindow = Field(description="cash at district post-office counters")
    suspend_after_months: int = Field(3, ge=1, le=MAX_MONTHS, description="consecutive months uncollected")
    stop_after_suspended_months: int = Field(3, ge=1, le=MAX_MONTHS)
    schedule: PaymentSchedule = Field(
        default_factory=PaymentSchedule, description="commune payment days (assumptions)"
    )
    cash_in_transit: CashInTransit = Field(
        default_factory=CashInTransit, description="escorted cash runs to commune points (assumptions)"
    )

    @model_validator(mode="after")
    def _windows(self) -> PaymentRun:
        if self.counter_window.first_day <= self.commune_window.last_day:
            raise ValueError("counter_window must start after commune_window ends")
        if self.commune_window.first_day <= self.run_start_day:
            raise ValueError("commune_window must start after run_start_day")
        if self.counter_window.last_day > 28:
            raise ValueError("counter_window.last_day must be ≤ 28 so every month has it")
        return self


# --------------------------------------------------------------------------- assumptions


class InitialAccounts(Frozen):
    account_share: ProbByTerrain = Field(description="share with an open account at the start")
    registered_share: Probability = Field(
        description="of those, share already on the account payment list at the start"
    )


class AccountOpening(Frozen):
    monthly_apply_prob: Probability = Field(description="monthly chance an unbanked ID holder applies")
    multipliers: dict[
        Literal["age_80_plus", "disabled", "ethnic_minority", "smartphone", "mountain"],
        Annotated[float, Field(ge=0.0, le=20.0)],
    ] = Field(default_factory=dict, description="relative applying rate for each subgroup")
    needs_chip_id: bool = True
    monthly_chip_id_prob: Probability = Field(description="monthly chance someone without a chip ID gets one")
    success_prob: Probability = Field(description="chance an application ends in an open account")
    proxy_signature_factor: Probability = Field(
        description="success multiplier for the immobile, whose proxy must sign with them"
    )
    type_shares: dict[Literal["bank", "mobile_money", "postal_ewallet"], Share]

    @field_validator("type_shares")
    @classmethod
    def _types(cls, value: dict[str, float]) -> dict[str, float]:
        return shares_sum_to_one(value, "account type shares")


class AccountLife(Frozen):
    monthly_register_prob: Probability = Field(
        description="monthly chance an account holder is put on the account payment list, "
        "once the district's cashless rollout has started"
    )
    credit_mismatch_prob: Probability = Field(
        description="chance a new account's details do not match the population database, "
        "so credits fail and are returned"
    )
    monthly_mismatch_fix_prob: Probability
    monthly_dormancy_prob: Probability
    monthly_reactivation_prob: Probability


class Verification(Frozen):
    db_mismatch_share: Probability = Field(
        description="share of payment-list records not matched in the population database at the start"
    )
    monthly_fix_prob: Probability = Field(description="monthly chance a held record is fixed")
    monthly_mismatch_prob: Probability = Field(
        0.0, description="monthly chance an active record changes and no longer matches the population database"
    )


class CashoutBehaviour(Frozen):
    mode_shares: dict[Literal["all_at_once", "partial", "keep_balance"], Share] = Field(
        description="what account holders do with a credit; keep_balance needs a smartphone"
    )
    partial_fraction: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    mean_delay_days: Annotated[float, Field(ge=0.0, le=30.0)] = Field(
        description="mean days from credit to cash-out"
    )
    point_by_account_type: dict[
        Literal["bank", "mobile_money", "postal_ewallet"], UniqueList(CashoutKind, min_length=1)
    ] = Field(
        description="the kinds of point each account type cashes out at (one, or a list to choose from by "
        "cost, among those present in the holder's commune or district; the first is the fallback)"
    )

    @field_validator("point_by_account_type", mode="before")
    @classmethod
    def _as_lists(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("mode_shares")
    @classmethod
    def _modes(cls, value: dict[str, float]) -> dict[str, float]:
        return shares_sum_to_one(value, "cash-out mode shares")


class CashCollection(Frozen):
    mean_first_delay_days: Annotated[float, Field(ge=0.0, le=20.0)] = Field(
        description="mean days after the window opens before a cash recipient first goes"
    )
    retry_prob: Probability = Field(description="chance of trying again after a failed trip")
    mean_retry_delay_days: Annotated[float, Field(ge=0.0, le=20.0)]
    counter_visit_prob: ProbByTerrain = Field(
        description="chance someone not paid in the commune window goes to the district counter"
    )
    monthly_absent_prob: Probability = Field(description="chance a cash recipient does not try at all")
    home_delivery_takeup: Probability = Field(
        description="share of the eligible (80+ or immobile) who are paid at home"
    )
    resume_prob: Probability = Field(description="monthly chance a suspended beneficiary claims again")


class PointKind(Frozen):
    counters: int = Field(ge=1, le=MAX_COUNTERS, description="counters (servers) per point")
    open_min: float = Field(ge=0.0, lt=1440.0, description="opening time, minutes after midnight")
    close_min: float = Field(gt=0.0, le=1440.0, description="closing time, minutes after midnight")
    open_weekdays: UniqueList(Annotated[int, Field(ge=0, le=6)]) = Field(
        default=[0, 1, 2, 3, 4, 5, 6], description="0 = Monday … 6 = Sunday"
    )
    service_mean_min: ServiceMinutes
    service_cv: Annotated[float, Field(gt=0.0, le=5.0)] = 0.5
    early_arrival_min: float = Field(
        0.0, ge=0.0, le=600.0, description="how long before opening the first arrivals come"
    )
    downtime_prob: Probability = Field(description="chance the point is down (power, network) on a day")
    float_vnd_per_day: FloatVnd | None = Field(
        None, description="cash delivered per open day; None: sized from the day's list"
    )
    float_cover: Annotated[float, Field(gt=0.0, le=100.0)] = Field(
        1.5, description="cash delivered ÷ expected demand of the day, when sized from the list"
    )
    float_cap_vnd: FloatVnd | None = Field(None, description="most cash a planned float may hold; None: no cap")
    fee_vnd: FeeVnd | None = Field(
        None, description="fee a beneficiary pays per cash-out here; None: costs.withdrawal_fee_vnd"
    )

    @model_validator(mode="after")
    def _hours(self) -> PointKind:
        if self.close_min <= self.open_min:
            raise ValueError(f"close_min ({self.close_min}) must be after open_min ({self.open_min})")
        return self


class FailMultipliers(Frozen):
    age_80_plus: Annotated[float, Field(ge=0.0, le=100.0)] = 1.0
    disabled: Annotated[float, Field(ge=0.0, le=100.0)] = 1.0


class AtmKind(PointKind):
    """Bank ATMs: a cassette reloaded on the bank's days, other customers' load, visits in the
    daytime hours, and visits that fail (card, PIN, literacy)."""

    visit_hour_shares: list[Share] | None = Field(
        None, min_length=24, max_length=24,
        description="share of ATM visits starting in each hour 0-23 (sums to 1); None: spread over "
        "the opening hours like the counters' visits",
    )
    other_customers_per_day: float = Field(
        0.0, ge=0.0, le=10_000.0, description="other customers' visits per ATM and open day (same hours)"
    )
    other_withdrawal_vnd: FloatVnd = Field(1_000_000, description="cash each other customer takes, VND")
    replenish_weekdays: UniqueList(Annotated[int, Field(ge=0, le=6)], min_length=1) | None = Field(
        None,
        description="the bank reloads the cassette to float_vnd_per_day on these weekdays (and on the "
        "first open day of the month); cash left over stays in the machine. None: a fresh "
        "float_vnd_per_day every open day",
    )
    fail_prob: Probability = Field(0.0, description="chance a visit fails (card, PIN, literacy)")
    fail_multipliers: FailMultipliers = Field(
        default_factory=FailMultipliers, description="the chance's multiplier for the 80+ and the disabled"
    )
    failed_to_counter_prob: Probability = Field(
        0.0, description="chance someone whose ATM visit failed goes to their post-office counter next"
    )

    @field_validator("visit_hour_shares")
    @classmethod
    def _hour_shares(cls, value: list[float] | None) -> list[float] | None:
        if value is not None:
            shares_sum_to_one(dict(enumerate(value)), "atm.visit_hour_shares")
        return value

    @model_validator(mode="after")
    def _reloads(self) -> AtmKind:
        if self.replenish_weekdays is not None and self.float_vnd_per_day is None:
            raise ValueError("replenish_weekdays needs float_vnd_per_day (the cassette load, VND)")
        return self


class OutletKind(PointKind):
    """Cash-out points in the communes: a share of the communes have them, `per_commune` each."""

    share_of_communes: Share = Field(description="share of the communes that have this kind of point")
    per_commune: int = Field(1, ge=1, le=MAX_PER_COMMUNE, description="points in a commune that has them")
    travel_factor: Annotated[float, Field(gt=0.0, le=5.0)] = Field(
        1.0, description="trip to the point ÷ trip to the commune payment point"
    )


class CashoutPoints(Frozen):
    commune_point: PointKind
    post_office: PointKind
    atm: AtmKind
    agent: OutletKind | None = Field(None, description="mobile-money agents and Viettel/VNPost outlets")
    commune_post_office: OutletKind | None = Field(None, description="commune (cultural) post offices")
    partial_payout: bool = Field(
        description="when cash runs short: True pays what is left, False says come back tomorrow"
    )


CostModel = Literal["fee", "bottom_up"]


class Costs(Frozen):
    model: CostModel = Field(
        "fee",
        description="what the state pays for cash payments, one or the other, never both: fee (the "
        "post office's fee per cash payment, `fee_per_cash_payment_vnd`, covers its staff and cash "
        "transport; the way the state contracts Vietnam Post for these payments) or bottom_up (no "
        "fee per cash payment; the state pays the staff per team-day, `staff_per_team_day_vnd`, the "
        "escorted cash runs to commune points, `run.cash_in_transit.cost_per_run_vnd`, and each "
        "post office's cash delivery, `cash_transport_per_point_day_vnd`). The fee and credit fees "
        "for accounts and home delivery are charged in both",
    )
    fee_per_account_credit_vnd: FeeVnd
    fee_per_cash_payment_vnd: FeeVnd = Field(description="fee model only: the post office's fee per cash payment")
    fee_per_home_delivery_vnd: FeeVnd
    staff_per_team_day_vnd: Vnd = Field(
        description="bottom_up model only: a payment team's staff, per team-day on which it pays at least "
        "one commune (a team serving several communes a day is charged once)"
    )
    cash_transport_per_point_day_vnd: Vnd = Field(
        description="bottom_up model only: cash delivered to a post office, per day it gets new cash (commune "
        "points' escorted runs are costed per run)"
    )
    withdrawal_fee_vnd: FeeVnd = Field(description="fee a beneficiary pays per ATM or e-wallet cash-out")
    travel_cost_vnd_per_min: int | None = Field(
        None,
        ge=0,
        le=MAX_TRAVEL_VND_PER_MIN,
        description="without places (geography.register none): beneficiary's money cost of travel, per minute; "
        "with places, travel costs what its mode and distance cost (geography.travel)",
    )
    value_of_time_vnd_per_hour: int = Field(ge=0, le=MAX_TIME_VND_PER_HOUR)


class CostResponse(Frozen):
    """Choices that respond to what a trip costs the beneficiary: the generalised cost, VND plus
    the value of time × minutes (travel both ways, and the expected wait), with the scenario's
    travel cost per minute and value of time."""

    choice_scale_vnd: float | None = Field(
        None, gt=0.0, le=1e9,
        description="logit scale of the choice between the kinds of point one can use: the odds of "
        "two fall by e for each this many VND of cost between them; None: the first listed kind present",
    )
    expected_wait_min: dict[CashoutKind, Annotated[float, Field(ge=0.0, le=MAX_MINUTES)]] = Field(
        default_factory=dict, description="the wait people expect at each kind of point, minutes"
    )
    retry_scale_vnd: float | None = Field(
        None, gt=0.0, le=1e9,
        description="the log-odds of retrying after a failed trip fall by 1 for each this many VND of "
        "the trip's cost above retry_reference_cost_vnd; None: collection.retry_prob whatever the cost",
    )
    retry_reference_cost_vnd: Vnd = Field(0, description="the trip cost at which the retry chance is retry_prob")


class HomeService(Frozen):
    """Home delivery's couriers, and how immobile account holders get their cash."""

    couriers_per_district: int | None = Field(
        None, ge=1, le=MAX_COURIERS,
        description="couriers delivering cash home in each district in the commune window; None: no limit",
    )
    deliveries_per_courier_day: int = Field(15, ge=1, le=MAX_PER_DAY, description="homes a courier reaches in a day")
    proxy_prob: Probability | None = Field(
        None,
        description="chance an immobile account holder's cash-out is made by a proxy (family member); "
        "None: they travel themselves",
    )
    home_cashout_fee_vnd: FeeVnd | None = Field(
        None,
        description="with proxy_prob set: those without a proxy cash out at home through a home cash-out "
        "service at this fee; None: there is none and they keep their balance",
    )


class Assumptions(Frozen):
    """Assumed values, kept in one block so calibration can find and free them."""

    initial_accounts: InitialAccounts
    opening: AccountOpening
    account_life: AccountLife
    verification: Verification
    cashout: CashoutBehaviour
    collection: CashCollection
    points: CashoutPoints
    costs: Costs
    behaviour: CostResponse = Field(default_factory=CostResponse)
    home: HomeService = Field(default_factory=HomeService)


# --------------------------------------------------------------------------- interventions
#
# Each strategy is a dated, targeted block; `models.interventions` turns it into a mechanism
# (teams that visit communes, points that open, couriers with a capacity, ...). Strategies of one
# kind sit in a list, so a scenario can run several (say, two drives in different districts).
# Costs to the state carry a default marked "assumption": set them in the scenario when known.

Targeting = Literal["largest_first", "remote_first", "by_category", "random"]
Placement = Literal["largest_first", "remote_first", "random"]
AccountType = Literal["bank", "mobile_money", "postal_ewallet"]
Weekdays = UniqueList(Annotated[int, Field(ge=0, le=6)])


class Drive(Frozen):
    """An account-opening drive: teams visit communes and open accounts on the spot."""

    name: str = Field(
        "drive", min_length=1, description="unique among the drives; names its random streams"
    )
    start: Month
    end: Month
    districts: UniqueList(str) | None = Field(None, description="None: every district")
    provinces: UniqueList(Annotated[str, Field(min_length=1)]) | None = Field(
        None,
        description="a many-province scenario (geography.provinces): only these provinces, by name or "
        "official code (diacritics and case ignored); with `districts`, the districts are looked up in "
        "these provinces. None: every province",
    )
    communes: UniqueList(Annotated[int, Field(ge=0, le=MAX_COMMUNES)]) | None = Field(
        None,
        description="only these communes (index in the province's commune list, places.parquet), "
        "reached in the order listed (the targeting order is then not used); None: every commune "
        "of the districts",
    )
    teams: int = Field(ge=1, le=MAX_TEAMS)
    communes_per_team_per_month: int = Field(ge=1, le=MAX_PER_MONTH)
    targeting: Targeting = Field(
        "largest_first",
        description="order of visits: largest_first (most beneficiaries), remote_first (mountain "
        "communes, then largest), by_category (most beneficiaries of `categories`), random",
    )
    categories: UniqueList(CategoryName) | None = Field(
        None,
        description="the categories the teams are sent for: they meet only these beneficiaries, "
        "and by_category visits first the communes with most of them; None: everyone",
    )
    reach: Probability = Field(
        description="share of a visited commune's unbanked that the team meets"
    )
    apply_prob: Probability = Field(description="chance a beneficiary met by the team applies")
    revisit: bool = Field(False, description="start again once every commune has been visited")
    cost_per_team_month_vnd: Vnd = Field(
        30_000_000,
        description="staff, travel and materials per team and month of visits, VND (assumption: "
        "three staff at about 8 million VND a month plus travel)",
    )

    @model_validator(mode="after")
    def _order(self) -> Drive:
        if month_index(self.end) < month_index(self.start):
            raise ValueError(f"end ({self.end}) must not be before start ({self.start})")
        if self.targeting == "by_category" and not self.categories:
            raise ValueError("targeting: by_category needs `categories`, e.g. [merit, pension]")
        return self


class Dated(Frozen):
    """What every strategy other than a drive has: a name, dates and the districts it covers."""

    name: str = Field(min_length=1, description="unique within its kind; names its random streams")
    start: Month = Field(description="first month (YYYY-MM) the strategy is in force")
    end: Month | None = Field(None, description="last month in force; None: to the end of the run")
    districts: UniqueList(str) | None = Field(None, description="None: every district")
    provinces: UniqueList(Annotated[str, Field(min_length=1)]) | None = Field(
        None,
        description="a many-province scenario (geography.provinces): only these provinces, by name or "
        "official code (diacritics and case ignored); with `districts`, the districts are looked up in "
        "these provinces. None: every province",
    )

    @model_validator(mode="after")
    def _dates(self) -> Dated:
        if self.end is not None and month_index(self.end) < month_index(self.start):
            raise ValueError(f"end ({self.end}) must not be before start ({self.start})")
        return self


class PointRollout(Dated):
    """Cash-out points placed commune by commune, a number of communes each month."""

    communes_per_month: int = Field(
        ge=1, le=MAX_COMMUNES, description="communes that get their point(s) each month"
    )
    max_communes: int | None = Field(
        None, ge=1, le=MAX_COMMUNES,
        description="stop after this many communes; None: every commune of the districts",
    )
    targeting: Placement = Field("remote_first", description="order in which communes get points")
    communes: UniqueList(Annotated[int, Field(ge=0, le=MAX_COMMUNES)]) | None = Field(
        None,
        description="only these communes (index in the province's commune list, places.parquet), "
        "reached in the order listed (the targeting order is then not used); None: every commune "
        "of the districts",
    )
    account_types: UniqueList(AccountType) = Field(
        min_length=1,
        description="account holders of these types cash out here when their commune has one",
    )
    counters: int = Field(1, ge=1, le=MAX_COUNTERS, description="counters (servers) per point")
    open_min: float = Field(ge=0.0, lt=1440.0, description="opening time, minutes after midnight")
    close_min: float = Field(gt=0.0, le=1440.0, description="closing time, minutes after midnight")
    open_weekdays: Weekdays = Field(description="0 = Monday … 6 = Sunday")
    service_mean_min: ServiceMinutes = Field(description="mean minutes to serve one cash-out")
    service_cv: Annotated[float, Field(gt=0.0, le=5.0)] = 0.5
    downtime_prob: Probability = Field(
        description="chance the point is down (power, network) on a day"
    )

    @model_validator(mode="after")
    def _hours(self) -> PointRollout:
        if self.close_min <= self.open_min:
            raise ValueError(
                f"close_min ({self.close_min}) must be after open_min ({self.open_min})"
            )
        return self


class CommuneAtmPoints(PointRollout):
    """Commune post offices turned into "ATM" points: e-wallet holders cash out there on any open
    day, not only in the payment window, instead of travelling to the district post office.
    VNPost's plan for remote areas (Hòa Bình Project 06 report, early 2024 [seed 002])."""

    account_types: UniqueList(AccountType) = Field(
        ["postal_ewallet"], min_length=1,
        description="account types cashed out at the commune post office (the postal e-wallet; "
        "add mobile_money if its provider settles there)",
    )
    open_min: float = Field(450.0, ge=0.0, lt=1440.0, description="07:30 (assumption)")
    close_min: float = Field(1020.0, gt=0.0, le=1440.0, description="17:00 (assumption)")
    open_weekdays: Weekdays = Field(
        [0, 1, 2, 3, 4, 5], description="Monday to Saturday (assumption)"
    )
    service_mean_min: ServiceMinutes = Field(4.0, description="minutes per cash-out (assumption)")
    downtime_prob: Probability = Field(0.02, description="power or network down (assumption)")
    float_cap_vnd: FloatVnd = Field(
        50_000_000,
        description="cash float: the most cash the office holds for cash-outs in a day, VND "
        "(assumption); it brings what the day's cash-outs need, up to this",
    )
    float_cover: Annotated[float, Field(gt=0.0, le=100.0)] = Field(
        1.5, description="cash brought ÷ the day's expected cash-outs, below the cap (assumption)"
    )
    conversion_cost_vnd: Vnd = Field(
        20_000_000,
        description="one-off cost per office: terminal, safe, training, VND (assumption)",
    )
    monthly_cost_vnd: Vnd = Field(
        3_000_000,
        description="running cost per point and month: staff time, network, and topping up the "
        "office's cash with its usual deliveries, VND (assumption)",
    )


class MobileMoneyAgents(PointRollout):
    """Mobile-money agents placed in communes: a shop with a cash float and long opening hours,
    in the village, where mobile-money holders cash out."""

    agents_per_commune: int = Field(1, ge=1, le=MAX_PER_COMMUNE)
    account_types: UniqueList(AccountType) = Field(["mobile_money"], min_length=1)
    open_min: float = Field(360.0, ge=0.0, lt=1440.0, description="06:00 (assumption)")
    close_min: float = Field(1200.0, gt=0.0, le=1440.0, description="20:00 (assumption)")
    open_weekdays: Weekdays = Field([0, 1, 2, 3, 4, 5, 6], description="every day (assumption)")
    service_mean_min: ServiceMinutes = Field(3.0, description="minutes per cash-out (assumption)")
    downtime_prob: Probability = Field(0.03, description="agent away or network down (assumption)")
    float_vnd_per_day: FloatVnd = Field(
        15_000_000,
        description="cash the agent holds each day, VND (assumption; Kenya HSNP: pay agents need "
        "a large float)",
    )
    travel_factor: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.6,
        description="trip to the agent ÷ trip to the commune point: agents sit in the villages "
        "(assumption)",
    )
    cashout_fee_vnd: FeeVnd = Field(
        0, description="fee per cash-out charged to the beneficiary, VND (assumption)"
    )
    state_cost_per_agent_month_vnd: Vnd = Field(
        1_000_000,
        description="what the province pays each agent a month (commission), VND (assumption)",
    )


class ChipIdPayment(Dated):
    """The chip ID card as the payment card: a cash recipient who holds a chip ID is offered, at
    the point where the cash is paid, an account keyed by their ID number. The account is on the
    payment list at once and cannot mismatch the population database (it is keyed by it). The chip
    ID replaces the bank card (Project 06 [seed 004])."""

    enrol_prob: Probability = Field(
        0.5,
        description="share of ID holders who agree when offered; the others keep refusing "
        "(a lasting preference, drawn once per beneficiary) (assumption)",
    )
    account_type: AccountType = Field(
        "postal_ewallet", description="the provider that pays on the ID"
    )
    link_existing: bool = Field(
        True, description="account holders not yet on the list have their account linked and listed"
    )
    cost_per_enrolment_vnd: FeeVnd = Field(
        20_000, description="staff time and chip authentication per enrolment, VND (assumption)"
    )


class HomeDelivery(Dated):
    """Couriers bring the cash home to the 80+ and the immobile who ask, within the couriers'
    capacity (VSS Dispatch 972, 2020: home delivery for the 80+ and those who cannot travel)."""

    groups: UniqueList(Literal["age_80_plus", "immobile", "disabled"]) = Field(
        ["age_80_plus", "immobile"], min_length=1, description="who may ask"
    )
    request_prob: Probability = Field(
        0.8,
        description="chance an eligible cash recipient asks for delivery each month (assumption)",
    )
    couriers_per_district: int = Field(2, ge=1, le=MAX_COURIERS)
    deliveries_per_courier_day: int = Field(
        15, ge=1, le=MAX_PER_DAY, description="homes a courier reaches in a day (assumption)"
    )


class FeeWaiver(Dated):
    """The state pays the beneficiaries' cash-out fees (ATM, agent): accounts cost them nothing."""

    account_types: UniqueList(AccountType) | None = Field(None, description="None: every account type")
    apply_multiplier: Annotated[float, Field(ge=1.0, le=10.0)] = Field(
        1.0,
        description="relative applying rate of the unbanked while fees are waived (assumption; "
        "1: cost does not hold anyone back)",
    )


class DigitalTeams(Dated):
    """Community digital-technology teams (tổ công nghệ số cộng đồng) in every commune of the
    districts: each helps a number of people a month, applicants first (so the application
    succeeds), then dormant accounts (woken), then account holders without a smartphone (kept
    in use)."""

    teams_per_commune: int = Field(1, ge=1, le=MAX_PER_COMMUNE)
    helps_per_team_per_month: int = Field(
        20, ge=1, le=MAX_HELPS, description="people a team helps a month (assumption)"
    )
    helped_success_prob: Probability = Field(
        0.95, description="chance a helped application ends in an open account (assumption)"
    )
    helped_dormancy_factor: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.2, description="dormancy rate of a helped account ÷ the usual rate (assumption)"
    )
    helped_reactivation_prob: Probability = Field(
        0.6, description="chance a helped dormant account is woken that month (assumption)"
    )
    cost_per_team_month_vnd: Vnd = Field(
        1_500_000, description="allowance per team and month, VND (assumption)"
    )


class CashClosure(Dated):
    """From `start`, account holders are paid only into their accounts: they are put on the
    account payment list at once, and a failed credit is retried next month, not paid in cash."""

    exempt_home_delivery: bool = Field(
        True, description="account holders who take home delivery keep it"
    )
    cash_after_failed_credit: bool = Field(
        False, description="True: a failed credit still falls back to cash next month"
    )


class EnrolmentAccounts(Dated):
    """New approvals leave enrolment with an account opened from the enrolment record and listed
    for payment at once (its data are those the database was just checked against)."""

    share: Probability = Field(
        0.5, description="share of new approvals without an account who leave enrolment with one (assumption)"
    )
    account_type: AccountType = Field("postal_ewallet", description="the provider that opens the accounts")
    cost_per_account_vnd: FeeVnd = Field(
        30_000, description="staff time and the provider's opening cost per account, VND (assumption)"
    )


class Interventions(Frozen):
    drives: list[Drive] = Field(default_factory=list, max_length=MAX_STRATEGIES)
    atm_points: list[CommuneAtmPoints] = Field(default_factory=list, max_length=MAX_STRATEGIES)
    agents: list[MobileMoneyAgents] = Field(default_factory=list, max_length=MAX_STRATEGIES)
    chip_id_payment: list[ChipIdPayment] = Field(default_factory=list, max_length=MAX_STRATEGIES)
    home_delivery: list[HomeDelivery] = Field(default_factory=list, max_length=MAX_STRATEGIES)
    fee_waivers: list[FeeWaiver] = Field(default_factory=list, max_length=MAX_STRATEGIES)
    digital_teams: list[DigitalTeams] = Field(default_factory=list, max_length=MAX_STRATEGIES)
    cash_closure: list[CashClosure] = Field(default_factory=list, max_length=MAX_STRATEGIES)
    enrolment_accounts: list[EnrolmentAccounts] = Field(default_factory=list, max_length=MAX_STRATEGIES)

    @model_validator(mode="after")
    def _unique_names(self) -> Interventions:
        # names key the random streams, so two strategies of a kind must not share one
        for kind in ("drives", *STRATEGY_KINDS):
            names = [s.name for s in getattr(self, kind)]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{kind}: names must be unique; repeated: {', '.join(dupes)}")
        return self

    def scoped(self) -> list[tuple[str, int, Drive | Dated]]:
        """(kind, index, strategy) of every strategy, drives first."""
        return [(kind, i, s) for kind in ("drives", *STRATEGY_KINDS) for i, s in enumerate(getattr(self, kind))]

    def district_references(self) -> list[tuple[str, list[str] | None]]:
        """(key path, districts named) of every strategy, for the scenario's cross-check."""
        return [
            (f"interventions.{kind}[{i}].districts", s.districts)
            for kind in ("drives", *STRATEGY_KINDS)
            for i, s in enumerate(getattr(self, kind))
        ]


STRATEGY_KINDS = (
    "atm_points", "agents", "chip_id_payment", "home_delivery", "fee_waivers", "digital_teams",
    "cash_closure", "enrolment_accounts",
)
