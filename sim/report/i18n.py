"""Words and number formats of the report, in English or Vietnamese.

Vietnamese numbers use a dot between thousands and a comma before decimals (1.234.567 VND,
37,8 %); months are written 01/2023. In the workbook numbers stay numbers: only the cell
format changes, tagged with the Vietnamese locale (LCID 0x042A) so that a spreadsheet
program that honours it shows Vietnamese separators.
"""

from __future__ import annotations

import datetime as dt
import gettext
import math
import sys
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

LANGS = ("en", "vi")
LOCALES = {"en": "en", "vi": "vi"}
MONTH_FORMAT = {"en": "yyyy-MM", "vi": "MM/yyyy"}
PERCENT_SIGN = {"en": "%", "vi": " %"}
DOMAIN = "welfare_sim"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@cache
def catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of a language (English is the source text: no catalogue)."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang])


# key -> (English, Vietnamese). Templates use str.format fields.
TEXT: dict[str, str] = {
    # ------------------------------------------------------------------ page
    "report": "Welfare payment report",
    "comparison_report": "Comparison of payment strategies",
    "subtitle_run": "{province} · scenario {scenario} · {start} to {end} ({months} months) · seed {seed}",
    "subtitle_comparison": "{names} against the base ({base}) · {seeds} seeds each",
    "headline": "Headline figures",
    "charts": "Charts",
    "reading": "Reading",
    "by_district_title": "Districts at a glance",
    "about": "About this report",
    "tables_in_xlsx": (
        "Every table behind these charts, with the scenario's assumptions and their sources, is in "
        "{xlsx} next to this file."
    ),
    "assumption_count": (
        "Of the scenario's {total} values, {sourced} carry a published source, {assumed} are "
        "assumptions and {other} are model defaults or settings."
    ),
    "sample_note": "Counts are of a {pct} sample of beneficiaries (geography.sample_fraction).",
    "roster_note": "This run starts from a real roster, pseudonymised on import: figures for groups of fewer "
    "than {k} people are left blank here and in the workbook (roster.min_cell_size).",
    "scenario_changed": "The scenario file has changed since this run: its sources may not match the values used.",
    "scenario_missing": "The scenario file {file} was not found; sources are taken from the model's descriptions.",
    "made_by": "Made by welfare-sim {version}.",
    "figure": "Figure",
    "value": "Value",
    "unit": "Unit",
    "no_data": "no data",
    # ------------------------------------------------------------------ headline figures
    "h.beneficiaries_first": "Beneficiaries, first month",
    "h.beneficiaries_last": "Beneficiaries, last month",
    "h.coverage_first": "Account coverage, first month",
    "h.coverage_last": "Account coverage, last month",
    "h.cashless_run": "Cashless share of payments, whole run",
    "h.cashless_last": "Cashless share of payments, last month",
    "h.cashless_amount": "Cashless share of money paid, whole run",
    "h.days_mean": "Days from run start to money in hand, mean",
    "h.days_p95": "Days from run start to money in hand, 95th percentile",
    "h.wait_mean": "Queue wait at {kind}, mean of all visits",
    "h.wait_p50": "Queue wait at {kind}, median (half of visits wait less)",
    "h.wait_p95": "Queue wait at {kind}, 95th percentile (1 visit in 20 waits longer)",
    "h.unpaid_share": "Unpaid in a month: {group}",
    "h.suspended_last": "Suspended in the last month: {group}",
    "h.failed_credits": "Failed credits (returned)",
    "h.failed_credit_vnd": "Failed credits, amount",
    "h.payments_total": "Payments made",
    "h.state_per_payment": "Cost per payment to the state",
    "h.beneficiary_per_payment": "Cost per payment to the beneficiary (travel, time, fees)",
    "h.state_total": "Total cost to the state",
    "h.beneficiary_total": "Total cost to beneficiaries",
    "h.entitled": "Money due (entitlements)",
    "h.forfeited": "Money forfeited",
    "h.owed_end": "Money still owed at the end",
    "card.coverage": "accounts by the last month",
    "card.cashless": "of payments into accounts, last month",
    "card.days": "mean days to money in hand",
    "card.unpaid": "unpaid in an average month",
    "card.state": "cost per payment to the state",
    "card.beneficiary": "cost per payment to beneficiaries",
    "unit.people": "people",
    # ------------------------------------------------------------------ the table `run` prints
    "term.figure": "figure",
    "term.value": "value",
    "term.beneficiaries": "beneficiaries (first → last month)",
    "term.coverage": "account coverage (first → last month)",
    "term.cashless_run": "cashless share of payments (whole run)",
    "term.cashless_last": "cashless share of payments (last month)",
    "term.days": "days from run start to money in hand (mean / p95)",
    "term.days_value": "{mean} / {p95} days",
    "term.wait": "queue wait at {kind} (p50 / p95)",
    "term.unpaid": "unpaid in a month: {group}",
    "term.unpaid_value": "{n} per month ({share})",
    "term.failed_credits": "failed credits (returned)",
    "term.state_per_payment": "cost per payment to the state",
    "term.beneficiary_per_payment": "cost per payment to the beneficiary (travel + time)",
    "term.state_total": "total cost to the state",
    "term.base": "base",
    "term.compare_column": "value · Δ vs base [95 % interval]",
    "term.title": "{scenario} · seed {seed} · {start} to {end}",
    "term.wrote_run": "wrote {folder}/ ({tables} .parquet; summary.json, manifest.json, scenario.resolved.yaml) "
    "in {seconds} s",
    "term.compare_title": "{scenarios} scenarios · {seeds} seed(s) {first}…{last} · {start}, {months} months",
    "term.one_seed": "With one seed there is no interval: every difference is one draw. Use --seeds 5 or more.",
    "term.delta_note": "Δ: scenario minus base, paired seed by seed, with its 95 % t-interval over {seeds} seeds; "
    "≈0 (dim): the seeds cannot tell this difference from zero. pp: percentage points.",
    "term.wrote_comparison": "wrote {folder}/ (comparison.json, table, runs, timeseries, strategies .parquet; "
    "compare.png, table.md): {runs} runs in {run_seconds} s, {seconds} s in all, {workers} worker(s)",
    "unit.pp_short": "pp",
    "unit.share": "% of beneficiaries",
    "unit.share_payments": "% of payments",
    "unit.share_money": "% of money paid",
    "unit.share_group": "% of the group's beneficiary-months",
    "unit.share_group_last": "% of the group, last month",
    "unit.days": "days",
    "unit.min": "minutes",
    "unit.vnd": "VND",
    "unit.mn_vnd": "million VND",
    "unit.bn_vnd": "billion VND",
    "unit.count": "count",
    # ------------------------------------------------------------------ names
    "province_line": "Province",
    "other_districts": "other districts",
    "district": "District",
    "commune": "Commune",
    "commune_no": "Commune no. in district",
    "commune_id": "Commune no.",
    "commune_label": "commune {n}",
    "month": "Month",
    "period": "Month",
    "day": "Day of month",
    "kind": "Kind of point",
    "subgroup": "Group",
    "scenario": "Strategy",
    "seed": "Seed",
    "base": "base",
    "kind.commune_point": "commune points",
    "kind.post_office": "district post offices",
    "kind.atm": "ATMs",
    "kind.agent": "mobile-money agents and outlets",
    "kind.commune_post_office": "commune post offices",
    "group.all": "all beneficiaries",
    "group.elderly_60_plus": "elderly (60+)",
    "group.aged_80_plus": "aged 80+",
    "group.disabled": "disabled",
    "group.ethnic_minority": "ethnic minority",
    "group.mountain_communes": "mountain communes",
    "channel.account": "into an account",
    "channel.cash_commune": "in cash at a commune point",
    "channel.cash_counter": "in cash at the post office",
    "channel.home": "at home",
    # ------------------------------------------------------------------ charts
    "c.coverage.title": "Account coverage by district",
    "c.coverage.y": "beneficiaries with an account (%)",
    "c.cashless.title": "Cashless share of payments by district",
    "c.cashless.y": "payments made into accounts (% of payments)",
    "c.month_x": "month",
    "c.coverage.read": (
        "Account coverage went from {first} to {last} across the province; {low} ended lowest at "
        "{low_v} and {high} highest at {high_v}."
    ),
    "c.cashless.read": (
        "The share of payments made into accounts went from {first} in {p0} to {last} in {p1}; "
        "{low} "
        "ended lowest at {low_v} and {high} highest at {high_v}."
    ),
    "c.days.title": "Days from the start of the payment run to money in hand",
    "c.days.x": "days after the funds arrive (day {start} of the month)",
    "c.days.y": "payments (% of all payments in hand)",
    "c.days.read": (
        "Half of all payments were in hand within {p50} days and 95% within {p95} days; payments "
        "{fast} took {fast_v} days on average and payments {slow} {slow_v} days."
    ),
    "c.days_month.y": "mean days to money in hand (days)",
    "c.days_month.read": (
        "The mean wait for money went from {first} days in {p0} to {last} days in {p1}; {slow} was "
        "slowest over the run at {slow_v} days."
    ),
    "c.waits.title": "Queue waits by day of the month, at each kind of point",
    "c.waits.y": "wait in the queue (minutes)",
    "c.waits.visits": "visits per month (mean)",
    "c.waits.mean": "mean wait",
    "c.waits.p95": "95th percentile (median over months)",
    "c.waits.read": (
        "Waits were longest at {kind} on day {day}, with a mean of {mean} min and a 95th percentile"
        " of "
        "{p95} min; at {calm} the mean wait never exceeded {calm_v} min."
    ),
    "c.groups.title": "Unpaid and suspended beneficiaries by group",
    "c.groups.unpaid_x": "unpaid in an average month (% of the group)",
    "c.groups.suspended_x": "suspended in the last month (% of the group)",
    "c.groups.read": (
        "{worst} had the highest unpaid share, {worst_v} of beneficiary-months against {all_v} for "
        "all "
        "beneficiaries; {susp} had the most suspended in the last month ({susp_v})."
    ),
    "c.cost.title": "Cost per payment to the state and to beneficiaries",
    "c.cost.y": "cost per payment (VND)",
    "c.cost.state": "state: fees, staff, cash transport",
    "c.cost.beneficiary": "beneficiaries: travel, time, fees",
    "c.cost.read": (
        "The state's cost per payment went from {s0} in {p0} to {s1} in {p1}, and the beneficiaries' from {b0} to {b1}."
    ),
    "c.scen_coverage.title": "Account coverage by strategy",
    "c.scen_cashless.title": "Cashless share of payments by strategy",
    "c.scen.band": "lines: mean over seeds; band: lowest to highest seed",
    "c.scen.read": (
        "By {period}, {best} reached {best_v} against {base_v} for the base ({base}); {worst} ended"
        " lowest at {worst_v}."
    ),
    "c.scen.read_base_lowest": (
        "By {period}, {best} reached {best_v} against {base_v} for the base ({base}); every "
        "strategy ended at or above the base."
    ),
    "c.scen.read_base_best": (
        "By {period}, no strategy ended above the base ({base}, {base_v}); {worst} ended lowest at {worst_v}."
    ),
    "c.forest.title": "Each strategy against the base ({base}): difference and interval",
    "c.forest.x": "{unit}",
    "c.forest.legend_yes": "distinguishable from the base",
    "c.forest.legend_no": "not distinguishable",
    "c.forest.legend": "dot: mean difference over seeds; bar: 95% interval; blue: distinguishable from zero, grey: not",
    "c.forest.read": (
        "On {figure}, {scenario} moved furthest from the base: {diff} (95% interval {interval})"
        "{cost}; {n_yes} of the {n_all} differences in these panels are distinguishable from zero."
    ),
    "c.forest.cost": ", changing the state's total cost by {diff} ({interval})",
    "c.forest.read_none": "None of the {n_all} differences is distinguishable from zero with these seeds.",
    "c.forest.read_one_seed": (
        "With one seed there is no interval: each difference is a single draw; run the comparison "
        "with --seeds 5 or more before reading anything into it."
    ),
    "unit.pp": "percentage points",
    # ------------------------------------------------------------------ comparison table
    "t.legend": (
        "Each cell: the strategy's mean over the seeds; below it, the difference from the base "
        "and its 95% interval (paired by seed). ● = the seeds tell the difference from zero."
    ),
    "to": "to",
    "t.mean": "Mean over seeds",
    "t.diff": "Difference from base",
    "t.interval": "Interval",
    "t.lo": "Interval, low",
    "t.hi": "Interval, high",
    "t.distinguishable": "Distinguishable",
    "t.n_seeds": "Seeds",
    "yes": "yes",
    "no": "no",
    # ------------------------------------------------------------------ workbook
    "sheet.headline": "Headline",
    "sheet.by_month": "By month",
    "sheet.by_district": "By district",
    "sheet.district_month": "District x month",
    "sheet.by_commune": "By commune",
    "sheet.commune_month": "Commune x month",
    "sheet.communes": "Communes (map)",
    # ------------------------------------------------------------------ the map
    "map.title": "Map of communes",
    "map.note": (
        "Each circle is one of the {n} communes, at its place in the administrative register, coloured by "
        "its figure in {period}, the run's last month. Dots are commune payment points, squares post "
        "offices, triangles ATMs; hover over a circle or a point for its name and value."
    ),
    "map.unplaced": "{n} communes have no official code or place in the register and are not drawn.",
    "map.points_at_centre": (
        "The scenario gives post offices and ATMs no place of their own: they are drawn at the centre of "
        "the communes they serve (a district, or an area on the 2025 map)."
    ),
    "map.no_table": "This run folder has no communes.parquet (it was written by an older version): run it again.",
    "map.no_codes": (
        "No map: the scenario's communes have no official codes. Name a province from the register in the "
        "scenario's geography to place its communes."
    ),
    "map.fig.coverage": "Paid into an account, last month",
    "map.fig.unpaid": "Unpaid, last month",
    "map.fig.wait": "Wait at the commune point, 95th percentile, last month",
    "map.fig.cost": "Cost per payment to the beneficiary (travel, time, fees), last month",
    "map.legend": "Colour: {unit}",
    "map.no_data": "no data",
    "map.alt": "a map of {n} communes, one circle each",
    "sheet.points": "Points",
    "sheet.waits": "Waits",
    "sheet.subgroups": "Subgroups",
    "sheet.ledger": "Money ledger",
    "sheet.funnel": "Account funnel",
    "sheet.assumptions": "Assumptions",
    "sheet.about": "About",
    "sheet.runs": "Runs",
    "sheet.timeseries": "By month",
    "sheet.strategies": "Strategies",
    "t.figure_key": "Figure key",
    "a.key": "Key (for --set)",
    "a.meaning": "Meaning",
    "a.status": "Status",
    "a.source": "Source or note (from the scenario file)",
    "a.at": "Comment found at",
    "a.refs": "References",
    "a.differs": "Differs from base",
    "status.sourced": "sourced",
    "status.assumption": "assumption",
    "status.mixed": "sourced, partly assumed",
    "status.default": "model default",
    "status.override": "set on the command line",
    "status.setting": "run setting",
    "status.unmarked": "no source given",
    "about.item": "Item",
    "about.folder": "Folder",
    "about.scenario_file": "Scenario file",
    "about.overrides": "Overrides (--set)",
    "about.git": "Model version (git commit)",
    "about.packages": "Packages",
    "about.scenario_check": "Scenario file check",
    "about.matches": "the file still gives the values of this run",
    "about.files": "Scenario files",
    "about.seeds": "Seeds",
    "about.period": "Period simulated",
    "about.period_value": "{start} to {end} ({months} months)",
    "none": "none",
}

# Column headers of the workbook and HTML tables (units in brackets).
COLUMNS: dict[str, str] = {
    "period": "Month",
    "month": "Month no. (0 = first)",
    "district": "District no.",
    "district_name": "District",
    "commune": "Commune no.",
    "commune_no": "Commune no. in district",
    "commune_name": "Commune",
    "commune_code": "Commune code",
    "paid_into_account_share": "Paid into an account, share of beneficiaries (%)",
    "commune_point_wait_min_p50": "Commune-point wait, median (min)",
    "commune_point_wait_min_p95": "Commune-point wait, 95th percentile (min)",
    "beneficiary_cost_per_payment_vnd": "Cost per payment to beneficiaries (VND)",
    "communes": "Communes",
    "category": "Category",
    "beneficiaries": "Beneficiaries",
    "beneficiaries_first": "Beneficiaries, first month",
    "beneficiaries_last": "Beneficiaries, last month",
    "with_account": "With an account",
    "without_account": "Without an account",
    "account_coverage": "Account coverage (%)",
    "coverage_first": "Account coverage, first month (%)",
    "coverage_last": "Account coverage, last month (%)",
    "on_account_list": "On the account payment list",
    "payments": "Payments made",
    "paid_into_account": "Paid into an account",
    "paid_in_cash": "Paid in cash",
    "paid_at_commune_point": "Paid in cash at the commune point",
    "paid_at_post_office": "Paid in cash at the post office",
    "paid_at_home": "Paid at home",
    "home_unreached": "Home recipients not reached",
    "paid_partly": "Paid partly",
    "cashless_share": "Cashless share of payments (%)",
    "cashless_last": "Cashless share, last month (%)",
    "cashless_run": "Cashless share, whole run (%)",
    "unpaid": "Unpaid",
    "unpaid_share": "Unpaid share (%)",
    "unpaid_share_run": "Unpaid, share of beneficiary-months (%)",
    "held_vnd": "Held for a record mismatch (VND)",
    "held": "Held (record mismatch)",
    "failed_credits": "Failed credits (returned)",
    "uncollected": "Uncollected",
    "suspended": "Suspended",
    "suspended_share": "Suspended share (%)",
    "suspended_last": "Suspended, last month",
    "reached_by_drive": "Reached by an account drive",
    "entitled_vnd": "Entitled (VND)",
    "paid_vnd": "Paid (VND)",
    "paid_into_account_vnd": "Paid into accounts (VND)",
    "paid_in_cash_vnd": "Paid in cash (VND)",
    "paid_at_home_vnd": "Paid at home (VND)",
    "failed_credit_vnd": "Failed credits (VND)",
    "owed_end_vnd": "Owed at month end (VND)",
    "withdrawn_vnd": "Withdrawn from accounts (VND)",
    "trips": "Trips to a point",
    "failed_atm_visits": "Failed cash-out visits (card, PIN, literacy)",
    "home_cashouts": "Withdrawals brought home",
    "days_to_money_mean": "Days to money in hand, mean (days)",
    "travel_cost_vnd": "Beneficiaries' travel cost (VND)",
    "time_cost_vnd": "Beneficiaries' time cost (VND)",
    "beneficiary_fees_vnd": "Beneficiaries' fees (VND)",
    "state_fees_vnd": "State's payment fees (VND)",
    "point_cost_vnd": "State's staff and cash transport (VND)",
    "state_cost_vnd": "Cost to the state (VND)",
    "state_per_payment": "Cost per payment to the state (VND)",
    "beneficiary_cost_vnd": "Cost to beneficiaries (VND)",
    "beneficiary_per_payment": "Cost per payment to beneficiaries (VND)",
    "point": "Point no.",
    "kind": "Kind of point",
    "open_days": "Days open",
    "down_days": "Days down",
    "visits": "Visits",
    "served": "Served",
    "float_vnd": "Cash delivered (VND)",
    "wait_min_mean": "Wait, mean (min)",
    "travel_min_per_payment": "Travel per payment, both ways (min)",
    "wait_min_per_payment": "Queue wait per payment (min)",
    "wait_min_p50": "Wait, median (min)",
    "wait_min_p95": "Wait, 95th percentile (min)",
    "staff_cost_vnd": "Staff cost (VND)",
    "cash_transport_cost_vnd": "Cash transport cost (VND)",
    "day": "Day of month",
    "turned_away_no_cash": "Turned away: no cash",
    "not_reached": "Not reached before closing",
    "found_closed": "Found closed",
    "failed_visits": "Failed at the machine",
    "subgroup": "Group",
    "scenario": "Strategy",
    "seed": "Seed",
    "figure": "Figure",
    "label": "Figure",
    "unit": "Unit",
    "mean": "Mean over seeds",
    "diff_mean": "Difference from base",
    "diff_lo": "Interval, low",
    "diff_hi": "Interval, high",
    "distinguishable": "Distinguishable from base",
    "n_seeds": "Seeds",
    "seed_min": "Lowest seed value",
    "seed_max": "Highest seed value",
    # ledger
    "owed_start_vnd": "Owed at month start (VND)",
    "suspended_start_vnd": "Suspended at month start (VND)",
    "credited_vnd": "Credited to accounts (VND)",
    "paid_cash_commune_vnd": "Paid in cash at commune points (VND)",
    "paid_cash_counter_vnd": "Paid in cash at post offices (VND)",
    "paid_home_vnd": "Paid at home (VND)",
    "forfeited_vnd": "Forfeited (VND)",
    "returned_vnd": "Returned credits (VND)",
    "balance_start_vnd": "Account balances at month start (VND)",
    "float_delivered_vnd": "Cash delivered to points (VND)",
    "float_paid_vnd": "Cash paid out at points (VND)",
    "float_paid_others_vnd": "Cash taken by other customers (VND)",
    "float_returned_vnd": "Cash returned from points (VND)",
    "suspended_end_vnd": "Suspended at month end (VND)",
    "balance_end_vnd": "Account balances at month end (VND)",
    # funnel
    "chip_ids_issued": "Chip ID cards issued",
    "accounts_opened": "Accounts opened",
    "applications_failed": "Applications failed",
    "applications": "Applications",
    "went_dormant": "Went dormant",
    "reactivated": "Reactivated",
    "registrations": "Registered for account payment",
}


def _comparison_words() -> dict[str, str]:
    """The words of the comparison's answer (recommendation, cost-effectiveness, who gains), kept
    beside the code that uses them."""
    from welfare_sim.sim.report.decision_text import TEXT as DECISION_TEXT

    return DECISION_TEXT


TEXT.update(_comparison_words())


class Lang:
    """Words and number formatting for one language.

    English is the source text (the msgid); other languages come from the gettext catalogue
    locale/<lang>/LC_MESSAGES/welfare_sim.mo, each message under the context of its key. Numbers,
    percentages, money and months are formatted by Babel with the language's locale."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            raise ValueError(lang)
        self.code = lang
        self.vi = lang == "vi"
        self.locale = LOCALES[lang]
        self._tr = catalogue(lang)

    # ------------------------------------------------------------- words
    def _word(self, context: str, english: str) -> str:
        return self._tr.pgettext(context, english)

    def t(self, key: str, **fields: object) -> str:
        text = self._word(key, TEXT[key])
        return text.format(**fields) if fields else text

    def col(self, name: str) -> str:
        english = COLUMNS.get(name)
        return self._word(f"column:{name}", english) if english else name.replace("_", " ")

    def name(self, prefix: str, value: str) -> str:
        """A translated category name (kind of point, subgroup, channel), or the raw value."""
        key = f"{prefix}.{value}"
        return self.t(key) if key in TEXT else str(value).replace("_", " ")

    def unit(self, unit: str) -> str:
        return self._word(f"unit:{unit}", unit) if unit in UNITS else unit

    def period(self, period: dt.date | str) -> str:
        """A month as the reader writes it: 2023-01 in English, 01/2023 in Vietnamese. Takes
        the Date of the tables or the YYYY-MM text of summary.json."""
        if isinstance(period, str):
            if len(period) < 7 or period[4] != "-":
                return period
            period = dt.date(int(period[:4]), int(period[5:7]), 1)
        return format_date(period, MONTH_FORMAT[self.code], locale=self.locale)

    # ------------------------------------------------------------- numbers
    def num(self, value: float | None, decimals: int = 1) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
        # the float's exact binary value, so rounding is the same as Python's own formatting
        text = format_decimal(Decimal(value), format=pattern, locale=self.locale)
        if text.startswith("-") and not text.strip("-0.,"):
            text = text[1:]  # -0.00: a tiny negative rounds to zero, and zero has no sign
        return text

    def count(self, value: float | None) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        return format_decimal(round(value), format="#,##0", locale=self.locale)

    def vnd(self, value: float | None) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        # the ISO code (¤¤), not the ₫ sign: planners' tables write VND
        return format_currency(round(value), "VND", format="#,##0 ¤¤", locale=self.locale, currency_digits=False)

    def vnd_short(self, value: float | None) -> str:
        """Large sums in millions or billions (tỷ) of VND, three significant figures at least;
        sums under ten million in full."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        size = abs(value)
        if size >= 1e9:
            return f"{self.num(value / 1e9, 2)} {self.t('unit.bn_vnd')}"
        if size >= 1e7:
            return f"{self.num(value / 1e6, 1)} {self.t('unit.mn_vnd')}"
        return self.vnd(value)

    def pct(self, share: float | None, decimals: int = 1) -> str:
        if share is None or (isinstance(share, float) and not math.isfinite(share)):
            return "–"
        # Vietnamese writes a space before the sign (37,8 %), English none (37.8%)
        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + PERCENT_SIGN[self.code]
        text = format_percent(Decimal(share), format=pattern, locale=self.locale)
        if text.startswith("-") and not text.strip("-0.,% "):
            text = text[1:]
        return text

    def signed(self, text: str, value: float) -> str:
        """+ before a positive difference, unless it rounds to zero."""
        if value > 0 and not text.startswith("-") and text.strip("0.,")[:1].isdigit():
            return "+" + text
        return text

    # ------------------------------------------------------------- spreadsheet formats
    def xl_format(self, kind: str) -> str:
        """Excel number format code for a kind of column; numbers stay numbers."""
        base = {
            "int": "#,##0",
            "vnd": "#,##0",
            "pct": "0.0%" if not self.vi else "0.0 %",
            "dec1": "#,##0.0",
            "dec2": "#,##0.00",
            "dec3": "#,##0.000",
        }[kind]
        # LCID 0x042A = Vietnamese: LibreOffice takes the separators from it; Excel from the system.
        return f"[$-42A]{base}" if self.vi else base


def check_lang(lang: str) -> list[str]:
    """Problems with a --lang value (empty if fine)."""
    if lang in LANGS:
        return []
    return [f"--lang {lang}: unknown language; use one of {', '.join(LANGS)} (en = English, vi = Vietnamese)"]


def lookup(mapping: Mapping[str, object], *keys: str) -> object:
    """mapping[k1][k2]... or None when any key is missing."""
    node: object = mapping
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


# Figures of `welfare-sim compare` (welfare_sim.sim.experiments.compare.FIGURES), by key: (English, Vietnamese).
FIGURES: dict[str, str] = {
    "account_coverage_last": "Account coverage, last month",
    "cashless_share_run": "Cashless share of payments, whole run",
    "cashless_share_last": "Cashless share of payments, last month",
    "days_to_money_mean": "Days from run start to money in hand, mean",
    "days_to_money_p95": "Days from run start to money in hand, p95",
    "wait_p95_min": "Queue wait at any point, p95 of visits",
    "travel_min_per_payment": "Travel time per payment (all trips, both ways)",
    "unpaid_all": "Unpaid in a month: all beneficiaries",
    "unpaid_elderly_60_plus": "Unpaid in a month: aged 60+",
    "unpaid_aged_80_plus": "Unpaid in a month: aged 80+",
    "unpaid_disabled": "Unpaid in a month: disabled",
    "unpaid_ethnic_minority": "Unpaid in a month: ethnic minority",
    "unpaid_mountain_communes": "Unpaid in a month: in mountain communes",
    "state_cost_per_payment_vnd": "Cost per payment to the state",
    "beneficiary_cost_per_payment_vnd": "Cost per payment to beneficiaries (travel, time, fees)",
    "strategy_cost_vnd": "Spent on strategies (teams, points, agents, enrolment, waived fees)",
    "state_cost_total_vnd": "Total cost to the state, strategies included",
    "beneficiary_cost_total_vnd": "Total cost to beneficiaries",
    "total_cost_vnd": "Total cost, state and beneficiaries",
}

# units written after a number; translated under the context unit:<unit>
UNITS = ("days", "day", "min", "minutes", "people")


# Figures per subgroup (welfare_sim.sim.experiments.compare builds them as PREFIX + subgroup id): the label of the
# whole figure, then the group's name.
GROUP_FIGURES = {"account_coverage_last_": "account_coverage_last", "unpaid_": "unpaid"}
GROUP_FIGURE_PREFIX: dict[str, str] = {
    "account_coverage_last": "Account coverage, last month",
    "unpaid": "Unpaid in a month",
}


def figure_label(lang: Lang, key: str, label: str) -> str:
    """A comparison figure's label in the report's language (the given label if unknown)."""
    english = FIGURES.get(key)
    if english:
        return lang._word(f"figure:{key}", english)
    for prefix, whole in GROUP_FIGURES.items():
        group = key[len(prefix) :]
        if key.startswith(prefix) and f"group.{group}" in TEXT:
            head = lang._word(f"figure_group:{whole}", GROUP_FIGURE_PREFIX[whole])
            return f"{head}: {lang.name('group', group)}"
    label = str(label)
    return label[:1].upper() + label[1:]


def unit_text(lang: Lang, unit: str) -> str:
    """A unit as the reader writes it ('%' for shares stored as fractions)."""
    if unit_kind(unit) == "share":
        return "%"
    return lang.unit(unit)


def unit_kind(unit: str) -> str:
    """'share' (a fraction shown as %), 'vnd' or 'other', from a figure's unit text."""
    u = (unit or "").strip().lower()
    if u in {"share", "fraction", "proportion", "%", "percent"} or u.startswith("share") or u.startswith("%"):
        return "share"
    if "vnd" in u:
        return "vnd"
    return "other"


def fmt_value(lang: Lang, value: float | None, unit: str, short: bool = False) -> str:
    """A figure's value with its unit; `short` writes large VND sums in millions or billions."""
    kind = unit_kind(unit)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if kind == "share":
        return lang.pct(value, 1)
    if kind == "vnd":
        return lang.vnd_short(value) if short else lang.vnd(value)
    decimals = 0 if abs(value) >= 100 else (1 if abs(value) >= 10 else 2)
    return f"{lang.num(value, decimals)} {unit_text(lang, unit)}".strip()


def interval_text(lang: Lang, lo: float | None, hi: float | None, unit: str, short: bool = False) -> str:
    """'+13.6 to +14.0 pp': both bounds, the unit once when they share it."""
    lo_t, hi_t = fmt_diff(lang, lo, unit, short), fmt_diff(lang, hi, unit, short)
    lo_parts, hi_parts = lo_t.split(" ", 1), hi_t.split(" ", 1)
    if len(lo_parts) == 2 and len(hi_parts) == 2 and lo_parts[1] == hi_parts[1]:
        lo_t = lo_parts[0]
    return f"{lo_t} {lang.t('to')} {hi_t}"


def fmt_diff(lang: Lang, value: float | None, unit: str, short: bool = False) -> str:
    """A difference with its sign and unit (percentage points for shares)."""
    kind = unit_kind(unit)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if kind == "share":
        text = f"{lang.num(100 * value, 1)} {lang.t('unit.pp_short')}"
    elif kind == "vnd":
        text = lang.vnd_short(value) if short else lang.vnd(value)
    else:
        decimals = 0 if abs(value) >= 100 else (1 if abs(value) >= 10 else 2)
        text = f"{lang.num(value, decimals)} {unit_text(lang, unit)}".strip()
    return lang.signed(text, value)


# --------------------------------------------------------------------------- the terminal


def summary_rows(summary: Mapping, words: Lang) -> list[tuple[str, str]]:
    """The headline table that `welfare-sim run` prints: (figure, value) rows in the language."""
    t = words.t

    def minutes(x: float | None) -> str:
        return "n/a" if x is None else f"{words.num(x, 1)} {words.unit('min')}"

    def pct(x: float | None) -> str:
        return "n/a" if x is None else words.pct(x)

    def vnd(x: float | None) -> str:
        return "n/a" if x is None else words.vnd(x)

    cov, cl, days = summary["account_coverage"], summary["cashless_share"], summary["days_to_money"]
    b = summary["beneficiaries"]
    rows = [
        (t("term.beneficiaries"), f"{words.count(b['first_month'])} → {words.count(b['last_month'])}"),
        (t("term.coverage"), f"{pct(cov['first_month'])} → {pct(cov['last_month'])}"),
        (t("term.cashless_run"), pct(cl["run_payments"])),
        (t("term.cashless_last"), pct(cl["last_month_payments"])),
        (
            t("term.days"),
            t("term.days_value", mean=words.num(days["mean_days"], 2), p95=words.num(days["p95_days"], 1)),
        ),
    ]
    for kind, w in summary["queue_wait"].items():
        rows.append(
            (t("term.wait", kind=words.name("kind", kind)), f"{minutes(w['p50_min'])} / {minutes(w['p95_min'])}")
        )
    for group, u in summary["unpaid_by_subgroup"].items():
        value = t("term.unpaid_value", n=words.count(u["unpaid_per_month"]), share=pct(u["unpaid_share"]))
        rows.append((t("term.unpaid", group=words.name("group", group)), value))
    fc, c = summary["failed_credits"], summary["cost_vnd"]
    rows += [
        (t("term.failed_credits"), f"{words.count(fc['count'])} ({vnd(fc['vnd'])})"),
        (t("term.state_per_payment"), vnd(c["state_per_payment"])),
        (t("term.beneficiary_per_payment"), vnd(c["beneficiary_per_payment"])),
        (t("term.state_total"), vnd(c["state_total"])),
    ]
    return rows


# --------------------------------------------------------------------------- catalogues


def messages() -> Iterator[tuple[str, str]]:
    """(context, English text) of every message of the report: what a catalogue translates."""
    yield from TEXT.items()
    yield from ((f"column:{k}", v) for k, v in COLUMNS.items())
    yield from ((f"figure:{k}", v) for k, v in FIGURES.items())
    yield from ((f"figure_group:{k}", v) for k, v in GROUP_FIGURE_PREFIX.items())
    yield from ((f"unit:{u}", u) for u in UNITS)


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def compiled(lang: str) -> bytes:
    """The .mo of a language's .po, as bytes (Babel's compiler: the same bytes every time)."""
    from io import BytesIO

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path(lang).open("rb") as handle:
        cat = read_po(handle, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, cat, use_fuzzy=False)
    return buffer.getvalue()


def update_catalogues() -> None:
    """Bring every .po in line with the English text (new messages come in untranslated, gone
    ones leave), then compile its .mo: `python -m welfare_sim.sim.report.i18n`."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    template = Catalog(fuzzy=False)
    for context, english in messages():
        template.add(english, context=context)
    for lang in LANGS:
        if lang == "en":
            continue
        with po_path(lang).open("rb") as handle:
            cat = read_po(handle, locale=lang)
        cat.update(template, no_fuzzy_matching=True, update_creation_date=False)
        cat.obsolete.clear()
        with po_path(lang).open("wb") as handle:
            write_po(handle, cat, width=0, sort_output=False, include_lineno=False, ignore_obsolete=True)
        po_path(lang).with_suffix(".mo").write_bytes(compiled(lang))
        print(f"wrote {po_path(lang)} and its .mo")


if __name__ == "__main__":
    sys.exit(update_catalogues())
