"""A report a planner can read: report.html (charts) and report.xlsx (tables, assumptions).

    welfare-sim report RUN_OR_COMPARISON_DIR [--lang en|vi]

`write_report(folder, lang)` reads a run folder (summary.json, monthly.parquet, manifest.json, ...)
or a comparison folder (comparison.json, table.parquet, ...) and writes both files into it,
atomically. Nothing is re-simulated: every number comes from the folder's tables.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import polars as pl

from welfare_sim.sim.report import data as d
from welfare_sim.sim.report.data import ReportError
from welfare_sim.sim.report.i18n import (
    LANGS,
    Lang,
    check_lang,
    figure_label,
    fmt_diff,
    fmt_value,
    interval_text,
    lookup,
    unit_kind,
    unit_text,
)
from welfare_sim.sim.report.sources import (
    ScenarioSources,
    find_scenario_file,
    flatten,
    model_description,
    override_map,
    value_text,
)

__all__ = ["LANGS", "ReportError", "check_lang", "write_report"]

HTML_NAME = "report.html"
XLSX_NAME = "report.xlsx"


def report_names(lang: str = "en") -> tuple[str, str]:
    """File names of the report in a language: report.html and report.xlsx in English, and
    report.<lang>.html and report.<lang>.xlsx beside them otherwise (never over the English)."""
    if lang == "en":
        return HTML_NAME, XLSX_NAME
    return f"report.{lang}.html", f"report.{lang}.xlsx"


def xlsx_beside(html: Path) -> Path:
    """The workbook written with the page `html` (same language)."""
    return html.with_name(html.name.removesuffix(".html") + ".xlsx")


def write_report(folder: Path, lang: str = "en") -> Path:
    """Write report.html and report.xlsx into a run or comparison folder (report.vi.html and
    report.vi.xlsx for Vietnamese, beside the English ones); return the HTML path.

    Raises ReportError (with one line per problem) for bad input.
    """
    problems = check_lang(lang)
    if problems:
        raise ReportError(problems)
    folder = Path(folder)
    kind = d.kind_of_folder(folder)
    words = Lang(lang)
    if kind == "run":
        run = d.load_run(folder)
        html_text = _run_html(run, words)
        xlsx = _run_workbook(run, words)
    else:
        comparison = d.load_comparison(folder)
        html_text = _comparison_html(comparison, words)
        xlsx = _comparison_workbook(comparison, words)
    import contextlib

    from welfare_sim.sim.publish import atomic_write_bytes, private_files

    html_name, xlsx_name = report_names(lang)
    # a roster run's folder is its owner's only, and so are the reports added to it
    private = kind == "run" and run.min_cell_size is not None
    with private_files() if private else contextlib.nullcontext():
        atomic_write_bytes(folder / xlsx_name, xlsx)
        atomic_write_bytes(folder / html_name, html_text.encode("utf-8"))
    return folder / html_name


# --------------------------------------------------------------------------- headline figures

# (label, value, kind of number, unit)
Headline = tuple[str, Any, str, str]


def run_headline(
    summary: dict[str, Any], words: Lang, wait_means: dict[str, float] | None = None
) -> list[Headline]:
    """The headline figures of a run; `wait_means` (mean queue wait by kind of point, from
    waits.parquet) goes next to the median, which is often 0: most visits meet no queue."""
    t = words.t
    s = summary
    rows: list[Headline] = [
        (
            t("h.beneficiaries_first"),
            lookup(s, "beneficiaries", "first_month"),
            "int",
            t("unit.people"),
        ),
        (
            t("h.beneficiaries_last"),
            lookup(s, "beneficiaries", "last_month"),
            "int",
            t("unit.people"),
        ),
        (
            t("h.coverage_first"),
            lookup(s, "account_coverage", "first_month"),
            "pct",
            t("unit.share"),
        ),
        (t("h.coverage_last"), lookup(s, "account_coverage", "last_month"), "pct", t("unit.share")),
        (
            t("h.cashless_run"),
            lookup(s, "cashless_share", "run_payments"),
            "pct",
            t("unit.share_payments"),
        ),
        (
            t("h.cashless_last"),
            lookup(s, "cashless_share", "last_month_payments"),
            "pct",
            t("unit.share_payments"),
        ),
        (
            t("h.cashless_amount"),
            lookup(s, "cashless_share", "run_amount"),
            "pct",
            t("unit.share_money"),
        ),
        (t("h.days_mean"), lookup(s, "days_to_money", "mean_days"), "dec1", t("unit.days")),
        (t("h.days_p95"), lookup(s, "days_to_money", "p95_days"), "dec1", t("unit.days")),
    ]
    for kind, w in (s.get("queue_wait") or {}).items():
        name = words.name("kind", kind)
        if wait_means and kind in wait_means:
            rows.append((t("h.wait_mean", kind=name), wait_means[kind], "dec1", t("unit.min")))
        rows.append((t("h.wait_p50", kind=name), w.get("p50_min"), "dec1", t("unit.min")))
        rows.append((t("h.wait_p95", kind=name), w.get("p95_min"), "dec1", t("unit.min")))
    for group, u in (s.get("unpaid_by_subgroup") or {}).items():
        rows.append(
            (
                t("h.unpaid_share", group=words.name("group", group)),
                u.get("unpaid_share"),
                "pct",
                t("unit.share_group"),
            )
        )
    for group, u in (s.get("unpaid_by_subgroup") or {}).items():
        rows.append(
            (
                t("h.suspended_last", group=words.name("group", group)),
                u.get("suspended_last_month"),
                "int",
                t("unit.people"),
            )
        )
    rows += [
        (t("h.failed_credits"), lookup(s, "failed_credits", "count"), "int", t("unit.count")),
        (t("h.failed_credit_vnd"), lookup(s, "failed_credits", "vnd"), "vnd", "VND"),
        (t("h.payments_total"), lookup(s, "payments", "total"), "int", t("unit.count")),
        (t("h.state_per_payment"), lookup(s, "cost_vnd", "state_per_payment"), "vnd", "VND"),
        (
            t("h.beneficiary_per_payment"),
            lookup(s, "cost_vnd", "beneficiary_per_payment"),
            "vnd",
            "VND",
        ),
        (t("h.state_total"), lookup(s, "cost_vnd", "state_total"), "vnd", "VND"),
        (t("h.beneficiary_total"), lookup(s, "cost_vnd", "beneficiary_total"), "vnd", "VND"),
        (t("h.entitled"), lookup(s, "money_vnd", "entitled"), "vnd", "VND"),
        (t("h.forfeited"), lookup(s, "money_vnd", "forfeited"), "vnd", "VND"),
        (t("h.owed_end"), lookup(s, "money_vnd", "owed_at_end"), "vnd", "VND"),
    ]
    return rows


def _show(words: Lang, value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return words.pct(value, 1)
    if kind == "vnd":
        return words.vnd(value)
    if kind == "int":
        return words.count(value)
    return words.num(value, {"dec1": 1, "dec2": 2, "dec3": 3}.get(kind, 1))


# --------------------------------------------------------------------------- a run: html


def _run_html(run: d.RunData, words: Lang) -> str:
    from welfare_sim.sim.report import page
    from welfare_sim.sim.report.charts import run_charts

    s = run.summary
    t = words.t
    period = s.get("period") or [run.monthly["period"].min(), run.monthly["period"].max()]
    subtitle = t(
        "subtitle_run",
        province=run.province,
        scenario=s.get("scenario", run.scenario.get("name", "")),
        start=words.period(period[0]),
        end=words.period(period[1]),
        months=s.get("months", "?"),
        seed=s.get("seed", run.manifest.get("seed", "?")),
    )
    description = run.scenario.get("description") or ""
    headline = run_headline(s, words, d.wait_means(run))
    card_items = [
        (words.pct(lookup(s, "account_coverage", "last_month"), 0), t("card.coverage")),
        (words.pct(lookup(s, "cashless_share", "last_month_payments"), 0), t("card.cashless")),
        (words.num(lookup(s, "days_to_money", "mean_days"), 1), t("card.days")),
        (words.pct(lookup(s, "unpaid_by_subgroup", "all", "unpaid_share"), 1), t("card.unpaid")),
        (words.vnd(lookup(s, "cost_vnd", "state_per_payment")), t("card.state")),
        (words.vnd(lookup(s, "cost_vnd", "beneficiary_per_payment")), t("card.beneficiary")),
    ]
    head_table = page.table(
        [(t("figure"), False), (t("value"), True), (t("unit"), False)],
        # the unit column says VND, so the value does not repeat it
        [
            [
                (label, False),
                (_show(words, value, "int" if kind == "vnd" else kind), True),
                (unit, False),
            ]
            for label, value, kind, unit in headline
        ],
    )
    sections = [
        f'<section id="headline"><h2>{page.esc(t("headline"))}</h2>'
        + (f"<p>{page.esc(description)}</p>" if description else "")
        + page.cards(card_items)
        + head_table
        + "</section>"
    ]
    charts = run_charts(run, words)
    sections.append(
        f'<section id="charts"><h2>{page.esc(t("charts"))}</h2>'
        + "".join(page.figure(c, words) for c in charts)
        + "</section>"
    )
    from welfare_sim.sim.report.geomap import map_section

    sections.append(map_section(run, words))
    districts = d.by_district(run)
    cols = [
        ("district_name", "text"),
        ("beneficiaries_last", "int"),
        ("coverage_last", "pct"),
        ("cashless_last", "pct"),
        ("unpaid_share_run", "pct"),
        ("days_to_money_mean", "dec1"),
        ("state_per_payment", "vnd"),
        ("beneficiary_per_payment", "vnd"),
    ]
    rows = [
        [(_show(words, r[c], k) if k != "text" else str(r[c]), k != "text") for c, k in cols]
        for r in districts.iter_rows(named=True)
    ]
    sections.append(
        f'<section id="districts"><h2>{page.esc(t("by_district_title"))}</h2>'
        + page.table([(words.col(c), k != "text") for c, k in cols], rows)
        + "</section>"
    )
    assumptions = run_assumptions(run, words)
    counts = assumptions.counts
    about = [
        t(
            "assumption_count",
            total=sum(counts.values()),
            sourced=counts.get("sourced", 0) + counts.get("mixed", 0),
            assumed=counts.get("assumption", 0),
            other=sum(v for k, v in counts.items() if k not in {"sourced", "mixed", "assumption"}),
        ),
        *assumptions.notes,
        t("tables_in_xlsx", xlsx=report_names(words.code)[1]),
    ]
    fraction = lookup(run.scenario, "geography", "sample_fraction")
    if isinstance(fraction, int | float) and fraction < 1:
        about.insert(0, t("sample_note", pct=words.pct(float(fraction), 0)))
    if run.min_cell_size is not None:
        about.insert(0, t("roster_note", k=run.min_cell_size))
    manifest = run.manifest
    facts = [
        (t("about.scenario_file"), str(manifest.get("scenario_file") or "–")),
        (t("about.overrides"), ", ".join(manifest.get("overrides") or []) or t("none")),
        (t("about.git"), str(manifest.get("git_commit") or "–")),
    ]
    sections.append(
        f'<section id="about"><h2>{page.esc(t("about"))}</h2>'
        + "".join(f"<p>{page.esc(p)}</p>" for p in about)
        + page.table(
            [(t("about.item"), False), (t("value"), False)],
            [[(k, False), (v, False)] for k, v in facts],
        )
        + "</section>"
    )
    title = f"{t('report')}: {run.province}" if run.province else t("report")
    return page.page(words, title, subtitle, sections, page.esc(t("made_by", version=_version())))


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("welfare-sim")
    except metadata.PackageNotFoundError:
        return "(unknown version)"


# --------------------------------------------------------------------------- assumptions


class Assumptions:
    def __init__(self) -> None:
        self.rows: list[list[tuple[Any, str]]] = []
        self.notes: list[str] = []
        self.counts: dict[str, int] = {}


def _meaning(parts: tuple[str, ...], scenario: dict[str, Any]) -> str:
    meaning = model_description(parts)
    if len(parts) > 2 and parts[:2] == ("geography", "districts") and parts[2].isdigit():
        districts = scenario.get("geography", {}).get("districts", [])
        i = int(parts[2])
        if i < len(districts):
            meaning = (
                f"{districts[i].get('name')}: {meaning}"
                if meaning
                else str(districts[i].get("name"))
            )
    return meaning


def _value_cell(value: Any) -> tuple[Any, str]:
    value = value_text(value)
    if isinstance(value, bool):
        return value, "text"
    if isinstance(value, int):
        return value, "int" if abs(value) >= 10000 else "general"
    if isinstance(value, float):
        return value, "general"
    return value, "wrap"


def run_assumptions(run: d.RunData, words: Lang) -> Assumptions:
    """Each value the run used, with its status and source from the scenario file's comments."""
    out = Assumptions()
    manifest = run.manifest
    recorded = str(manifest.get("scenario_file") or "")
    path = find_scenario_file(recorded, run.folder)
    if path is None:
        out.notes.append(words.t("scenario_missing", file=recorded or "?"))
    elif manifest.get("scenario_sha256") and not _same_scenario(path, manifest):
        out.notes.append(words.t("scenario_changed"))
    sources = ScenarioSources(path)
    overrides = override_map(manifest.get("overrides") or [])
    for parts, value in flatten(run.scenario):
        src = sources.source(parts, overrides)
        out.counts[src.status] = out.counts.get(src.status, 0) + 1
        out.rows.append(
            [
                (".".join(parts), "text"),
                (_meaning(parts, run.scenario), "wrap"),
                _value_cell(value),
                (words.t(f"status.{src.status}"), "text"),
                (src.text, "wrap"),
                (src.at, "text"),
                (src.refs, "wrap"),
            ]
        )
    return out


def _same_scenario(path: Path, manifest: dict[str, Any]) -> bool:
    from welfare_sim.sim.scenario import ScenarioError, load_scenario

    try:
        return (
            load_scenario(path, list(manifest.get("overrides") or [])).digest()
            == manifest["scenario_sha256"]
        )
    except ScenarioError:
        return False


ASSUMPTION_HEADER = ("a.key", "a.meaning", "value", "a.status", "a.source", "a.at", "a.refs")
ASSUMPTION_WIDTHS = (46, 44, 18, 16, 60, 34, 50)


# --------------------------------------------------------------------------- a run: workbook

MONTH_COLUMNS = [
    ("period", "period"),
    ("beneficiaries", "int"),
    ("with_account", "int"),
    ("account_coverage", "pct"),
    ("on_account_list", "int"),
    ("payments", "int"),
    ("paid_into_account", "int"),
    ("paid_at_commune_point", "int"),
    ("paid_at_post_office", "int"),
    ("paid_at_home", "int"),
    ("cashless_share", "pct"),
    ("unpaid", "int"),
    ("unpaid_share", "pct"),
    ("suspended", "int"),
    ("failed_credits", "int"),
    ("days_to_money_mean", "dec2"),
    ("entitled_vnd", "vnd"),
    ("paid_vnd", "vnd"),
    ("paid_into_account_vnd", "vnd"),
    ("state_fees_vnd", "vnd"),
    ("point_cost_vnd", "vnd"),
    ("state_cost_vnd", "vnd"),
    ("state_per_payment", "vnd"),
    ("travel_cost_vnd", "vnd"),
    ("time_cost_vnd", "vnd"),
    ("beneficiary_fees_vnd", "vnd"),
    ("beneficiary_cost_vnd", "vnd"),
    ("beneficiary_per_payment", "vnd"),
    ("reached_by_drive", "int"),
]


# the communes table (communes.parquet), as the map shows it
COMMUNE_MAP_COLUMNS = [
    ("commune", "int"),
    ("commune_code", "text"),
    ("commune_name", "text"),
    ("district_name", "text"),
    ("beneficiaries", "int"),
    ("with_account", "int"),
    ("account_coverage", "pct"),
    ("paid_into_account", "int"),
    ("paid_into_account_share", "pct"),
    ("unpaid", "int"),
    ("unpaid_share", "pct"),
    ("days_to_money_mean", "dec2"),
    ("paid_at_commune_point", "int"),
    ("commune_point_wait_min_p50", "dec1"),
    ("commune_point_wait_min_p95", "dec1"),
    ("payments", "int"),
    ("beneficiary_cost_vnd", "vnd"),
    ("beneficiary_cost_per_payment_vnd", "vnd"),
]


def _run_workbook(run: d.RunData, words: Lang) -> bytes:
    from welfare_sim.sim.report.workbook import Book, Sheet

    t = words.t
    buffer = io.BytesIO()
    book = Book(buffer, words)
    headline = run_headline(run.summary, words, d.wait_means(run))
    book.rows(
        t("sheet.headline"),
        [t("figure"), t("value"), t("unit")],
        [[(label, "text"), (value, kind), (unit, "text")] for label, value, kind, unit in headline],
        widths=(62, 18, 34),
    )
    district_first = [("district_name", "text")]
    book.table(Sheet(t("sheet.by_month"), d.by_month(run), MONTH_COLUMNS))
    book.table(
        Sheet(
            t("sheet.by_district"),
            d.by_district(run),
            [
                ("district", "int"),
                *district_first,
                ("communes", "int"),
                ("beneficiaries_first", "int"),
                ("beneficiaries_last", "int"),
                ("coverage_first", "pct"),
                ("coverage_last", "pct"),
                ("cashless_last", "pct"),
                ("cashless_run", "pct"),
                ("unpaid_share_run", "pct"),
                ("suspended_last", "int"),
                ("days_to_money_mean", "dec2"),
                ("state_per_payment", "vnd"),
                ("beneficiary_per_payment", "vnd"),
                ("paid_vnd", "vnd"),
            ],
        )
    )
    book.table(
        Sheet(
            t("sheet.district_month"),
            d.district_month(run).sort("district", "month"),
            [("district", "int"), *district_first, *MONTH_COLUMNS],
        )
    )
    book.table(
        Sheet(
            t("sheet.by_commune"),
            d.by_commune(run),
            [
                ("commune", "int"),
                *district_first,
                ("commune_no", "int"),
                ("commune_name", "text"),
                ("beneficiaries_last", "int"),
                ("coverage_last", "pct"),
                ("cashless_last", "pct"),
                ("cashless_run", "pct"),
                ("unpaid_share_run", "pct"),
                ("suspended_last", "int"),
                ("days_to_money_mean", "dec2"),
                ("beneficiary_per_payment", "vnd"),
                ("reached_by_drive", "int"),
                ("paid_vnd", "vnd"),
            ],
        )
    )
    commune_cols = [
        c
        for c in MONTH_COLUMNS
        if c[0] not in {"point_cost_vnd", "state_cost_vnd", "state_per_payment"}
    ]
    book.table(
        Sheet(
            t("sheet.commune_month"),
            d.commune_month(run).sort("commune", "month"),
            [
                ("commune", "int"),
                *district_first,
                ("commune_no", "int"),
                ("commune_name", "text"),
                *commune_cols,
            ],
        )
    )
    if run.communes is not None:
        book.table(
            Sheet(
                t("sheet.communes"),
                d._with_district_name(run.communes, run).sort("month", "commune"),
                [("period", "period"), *COMMUNE_MAP_COLUMNS],
            )
        )
    points = d._with_district_name(run.points, run).sort("month", "point")
    book.table(
        Sheet(
            t("sheet.points"),
            points,
            [
                ("period", "period"),
                ("point", "int"),
                ("kind", "kind"),
                ("district_name", "text"),
                ("open_days", "int"),
                ("down_days", "int"),
                ("visits", "int"),
                ("served", "int"),
                ("paid_vnd", "vnd"),
                ("float_vnd", "vnd"),
                ("wait_min_mean", "dec1"),
                ("staff_cost_vnd", "vnd"),
                ("cash_transport_cost_vnd", "vnd"),
            ],
        )
    )
    book.table(
        Sheet(
            t("sheet.waits"),
            run.waits.sort("month", "day", "kind"),
            [
                ("period", "period"),
                ("day", "int"),
                ("kind", "kind"),
                ("visits", "int"),
                ("served", "int"),
                ("turned_away_no_cash", "int"),
                ("not_reached", "int"),
                ("found_closed", "int"),
                ("wait_min_mean", "dec1"),
                ("wait_min_p50", "dec1"),
                ("wait_min_p95", "dec1"),
            ],
        )
    )
    book.table(
        Sheet(
            t("sheet.subgroups"),
            d.subgroup_table(run),
            [
                ("period", "period"),
                ("subgroup", "group"),
                ("beneficiaries", "int"),
                ("with_account", "int"),
                ("account_coverage", "pct"),
                ("unpaid", "int"),
                ("unpaid_share", "pct"),
                ("suspended", "int"),
                ("suspended_share", "pct"),
                ("payments", "int"),
                ("days_to_money_mean", "dec1"),
                ("travel_min_per_payment", "dec1"),
                ("wait_min_per_payment", "dec1"),
                ("beneficiary_cost_per_payment_vnd", "vnd"),
            ],
        )
    )
    if run.ledger is not None:
        book.table(
            Sheet(
                t("sheet.ledger"),
                run.ledger,
                [("period", "period")]
                + [(c, c, "vnd") for c in run.ledger.columns if c not in {"month", "period"}],
            )
        )
    if run.funnel is not None:
        book.table(
            Sheet(
                t("sheet.funnel"),
                run.funnel,
                [("period", "period")]
                + [(c, c, "int") for c in run.funnel.columns if c not in {"month", "period"}],
            )
        )
    assumptions = run_assumptions(run, words)
    book.rows(
        t("sheet.assumptions"),
        [t(k) for k in ASSUMPTION_HEADER],
        assumptions.rows,
        widths=ASSUMPTION_WIDTHS,
        notes=assumptions.notes,
    )
    manifest = run.manifest
    about = [
        (t("about.folder"), str(run.folder.resolve())),
        (t("about.scenario_file"), str(manifest.get("scenario_file") or "–")),
        (t("seed"), manifest.get("seed")),
        (t("month"), manifest.get("months")),
        (t("about.overrides"), ", ".join(manifest.get("overrides") or []) or t("none")),
        (t("about.git"), str(manifest.get("git_commit") or "–")),
        ("scenario_sha256", str(manifest.get("scenario_sha256") or "–")),
        (
            t("about.packages"),
            ", ".join(f"{k} {v}" for k, v in (manifest.get("packages") or {}).items()),
        ),
        (t("made_by", version=_version()), ""),
    ]
    book.rows(
        t("sheet.about"),
        [t("about.item"), t("value")],
        [[(k, "text"), (v, "general" if isinstance(v, int) else "wrap")] for k, v in about],
        widths=(34, 90),
    )
    book.close()
    return buffer.getvalue()


# --------------------------------------------------------------------------- a comparison


def _comparison_html(data: d.ComparisonData, words: Lang) -> str:
    from welfare_sim.sim.report import page
    from welfare_sim.sim.report.charts import comparison_charts

    t = words.t
    others = [s for s in data.scenarios if s != data.base]
    seeds = data.meta.get("seeds") or sorted(set(data.runs["seed"].to_list()))
    subtitle = t("subtitle_comparison", names=", ".join(others), base=data.base, seeds=len(seeds))
    header = [(t("figure"), False), (f"{data.base} ({t('base')})", True)] + [
        (s, True) for s in others
    ]
    rows = []
    for fig_row in d.comparison_figures(data).iter_rows(named=True):
        sub = data.table.filter(pl.col("figure") == fig_row["figure"])
        unit = str(fig_row["unit"])
        base = sub.filter(pl.col("scenario") == data.base)
        label = figure_label(words, fig_row["figure"], fig_row["label"])
        base_text = fmt_value(words, base["mean"][0] if base.height else None, unit, short=True)
        cells = [
            (f"{label} ({unit_text(words, unit)})", False),
            (page.Raw(f'<div class="m">{page.esc(base_text)}</div>'), True),
        ]
        for name in others:
            r = sub.filter(pl.col("scenario") == name)
            if r.height == 0:
                cells.append(("–", True))
                continue
            cells.append((page.Raw(_comparison_cell(words, r.row(0, named=True), unit)), True))
        rows.append(cells)
    legend = t("t.legend")
    strategies = strategy_descriptions(data)
    listing = "".join(
        f"<li><b>{page.esc(name)}</b>"
        + (f" ({page.esc(t('base'))})" if name == data.base else "")
        + (f": {page.esc(strategies[name])}" if strategies.get(name) else "")
        + "</li>"
        for name in data.scenarios
    )
    from welfare_sim.sim.report.decision import decision_sections

    sections = [
        *decision_sections(data, words),
        f'<section id="headline"><h2>{page.esc(t("headline"))}</h2>'
        + f'<ul class="strategies">{listing}</ul>'
        + page.table(header, rows, css_class="cmp")
        + f'<p class="note">{page.esc(legend)}</p></section>'
    ]
    charts = comparison_charts(data, words)
    sections.append(
        f'<section id="charts"><h2>{page.esc(t("charts"))}</h2>'
        + "".join(page.figure(c, words) for c in charts)
        + "</section>"
    )
    files = data.meta.get("files") or []
    facts = [
        (t("about.files"), ", ".join(str(f) for f in files) or "–"),
        (t("about.seeds"), ", ".join(str(s) for s in seeds)),
    ]
    periods = data.timeseries["period"].unique().sort().to_list()
    if periods:
        facts.append(
            (
                t("about.period"),
                t(
                    "about.period_value",
                    start=words.period(str(periods[0])),
                    end=words.period(str(periods[-1])),
                    months=len(periods),
                ),
            )
        )
    xlsx_note = t("tables_in_xlsx", xlsx=report_names(words.code)[1])
    sections.append(
        f'<section id="about"><h2>{page.esc(t("about"))}</h2><p>{page.esc(xlsx_note)}</p>'
        + page.table(
            [(t("about.item"), False), (t("value"), False)],
            [[(k, False), (v, False)] for k, v in facts],
        )
        + "</section>"
    )
    return page.page(
        words,
        t("comparison_report"),
        subtitle,
        sections,
        page.esc(t("made_by", version=_version())),
    )


def _comparison_cell(words: Lang, row: dict[str, Any], unit: str) -> str:
    """Mean of a strategy (first line); its difference from the base and the interval (second)."""
    from welfare_sim.sim.report import page

    mean = fmt_value(words, row["mean"], unit, short=True)
    diff = fmt_diff(words, row["diff_mean"], unit, short=True)
    yes = bool(row["distinguishable"])
    if _finite(row["diff_lo"]) is None or _finite(row["diff_hi"]) is None:
        second = diff  # one seed: no interval
    else:
        interval = interval_text(words, row["diff_lo"], row["diff_hi"], unit, short=True)
        second = f"{diff} ({interval})"
    mark = " ●" if yes else ""
    return (
        f'<div class="m">{page.esc(mean)}</div>'
        f'<div class="d{" yes" if yes else ""}">{page.esc(second + mark)}</div>'
    )


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def strategy_descriptions(data: d.ComparisonData) -> dict[str, str]:
    """Each compared scenario's `description`, read from its file (empty when not found)."""
    from welfare_sim.sim.scenario import ScenarioError, load_scenario

    files = [str(f) for f in data.meta.get("files") or []]
    out: dict[str, str] = {}
    if len(files) != len(data.scenarios):
        return out
    for name, file in zip(data.scenarios, files, strict=True):
        path = find_scenario_file(file, data.folder)
        if path is None:
            continue
        try:
            out[name] = load_scenario(path).description
        except ScenarioError:
            continue
    return out


def _comparison_workbook(data: d.ComparisonData, words: Lang) -> bytes:
    from welfare_sim.sim.report.workbook import Book, Sheet

    t = words.t
    buffer = io.BytesIO()
    book = Book(buffer, words)
    # shares as %, money as VND, others plain: the unit column says which
    header = [
        t("scenario"),
        t("t.figure_key"),
        t("figure"),
        t("unit"),
        t("t.mean"),
        t("t.diff"),
        t("t.lo"),
        t("t.hi"),
        t("t.distinguishable"),
        t("t.n_seeds"),
    ]
    rows = []
    order = {s: i for i, s in enumerate(data.scenarios)}
    figures = d.comparison_figures(data)
    figure_rank = {f: i for i, f in enumerate(figures["figure"].to_list())}
    table = data.table.sort(
        pl.col("figure").replace_strict(
            figure_rank, default=len(figure_rank), return_dtype=pl.Int32
        ),
        pl.col("scenario").replace_strict(order, default=len(order), return_dtype=pl.Int32),
    )
    for r in table.iter_rows(named=True):
        kind = {"share": "pct", "vnd": "vnd"}.get(unit_kind(str(r["unit"])), "dec2")
        rows.append(
            [
                (r["scenario"], "text"),
                (r["figure"], "text"),
                (figure_label(words, r["figure"], r["label"]), "text"),
                (unit_text(words, str(r["unit"])), "text"),
                (r["mean"], kind),
                (r["diff_mean"], kind),
                (r["diff_lo"], kind),
                (r["diff_hi"], kind),
                (t("yes") if r["distinguishable"] else t("no"), "text"),
                (r.get("n_seeds"), "int"),
            ]
        )
    book.rows(t("sheet.headline"), header, rows, widths=(22, 26, 48, 10, 16, 16, 16, 16, 14, 10))
    # one column per figure, titled with its label and unit
    units = {f["figure"]: str(f["unit"]) for f in figures.iter_rows(named=True)}
    titles = {
        f[
            "figure"
        ]: f"{figure_label(words, f['figure'], f['label'])} ({unit_text(words, str(f['unit']))})"
        for f in figures.iter_rows(named=True)
    }
    runs = data.runs
    run_cols = [("scenario", "text"), ("seed", "int")] + [
        (c, c, _kind_of(runs, c, units.get(c)))
        for c in runs.columns
        if c not in {"scenario", "seed"}
    ]
    book.table(Sheet(t("sheet.runs"), runs, run_cols, titles=titles))
    if data.strategies is not None:
        strategies = data.strategies
        book.table(
            Sheet(
                t("sheet.strategies"),
                strategies,
                [("scenario", "text"), ("seed", "int")]
                + [
                    (c, c, _kind_of(strategies, c))
                    for c in strategies.columns
                    if c not in {"scenario", "seed"}
                ],
            )
        )
    from welfare_sim.sim.report.decision import decision_sheets

    for sheet in decision_sheets(data, words, _kind_of):
        book.table(sheet)
    series = d.scenario_series(data)
    book.table(
        Sheet(
            t("sheet.timeseries"),
            series,
            [
                ("scenario", "text"),
                ("period", "period"),
                *(
                    (c, c, "pct")
                    for c in series.columns
                    if c.startswith(("account_coverage", "cashless_share"))
                ),
            ],
        )
    )
    assumptions = comparison_assumptions(data, words)
    book.rows(
        t("sheet.assumptions"),
        assumptions[0],
        assumptions[1],
        widths=(46, 44, *([18] * len(data.scenarios)), 14, 60, 50),
        notes=assumptions[2],
    )
    about = [
        (t("about.folder"), str(data.folder.resolve())),
        (t("about.files"), ", ".join(str(f) for f in data.meta.get("files") or []) or "–"),
        (t("about.seeds"), ", ".join(str(s) for s in data.meta.get("seeds") or [])),
        (t("made_by", version=_version()), ""),
    ]
    book.rows(
        t("sheet.about"),
        [t("about.item"), t("value")],
        [[(k, "text"), (v, "wrap")] for k, v in about],
        widths=(34, 90),
    )
    book.close()
    return buffer.getvalue()


def _kind_of(frame: pl.DataFrame, column: str, unit: str | None = None) -> str:
    name = column.lower()
    dtype = frame.schema[column]
    if not dtype.is_numeric():
        return "text"
    if unit is not None:
        return {"share": "pct", "vnd": "vnd"}.get(unit_kind(unit), "dec2")
    if "vnd" in name:
        return "vnd"
    if any(w in name for w in ("share", "coverage")):
        return "pct"
    return "int" if dtype.is_integer() else "dec2"


def comparison_assumptions(
    data: d.ComparisonData, words: Lang
) -> tuple[list[str], list[list[tuple[Any, str]]], list[str]]:
    """Values of every strategy's scenario side by side, differences from the base first."""
    from welfare_sim.sim.scenario import ScenarioError, load_scenario

    t = words.t
    files = [str(f) for f in data.meta.get("files") or []]
    header = [
        t("a.key"),
        t("a.meaning"),
        *data.scenarios,
        t("a.differs"),
        t("a.source"),
        t("a.refs"),
    ]
    notes: list[str] = []
    if len(files) != len(data.scenarios):
        notes.append(words.t("scenario_missing", file=", ".join(files) or "?"))
        return header, [], notes
    values: list[dict[tuple[str, ...], Any]] = []
    sources: list[ScenarioSources] = []
    for name in files:
        path = find_scenario_file(name, data.folder)
        if path is None:
            notes.append(words.t("scenario_missing", file=name))
            return header, [], notes
        try:
            scenario = load_scenario(path).model_dump(mode="json")
        except ScenarioError as exc:
            notes.append(f"{name}: {exc.problems[0]}")
            return header, [], notes
        values.append(dict(flatten(scenario)))
        sources.append(ScenarioSources(path))
    base_i = data.scenarios.index(data.base)
    keys = list(values[base_i])
    for v in values:
        keys += [k for k in v if k not in values[base_i] and k not in keys]
    rows = []
    for parts in keys:
        cells = [v.get(parts) for v in values]
        differs = any(c != cells[base_i] for c in cells)
        # the source of a changed value is the comment in the file that changes it
        src_i = next((i for i, c in enumerate(cells) if differs and c != cells[base_i]), base_i)
        found = sources[src_i].comment(parts) or sources[base_i].comment(parts)
        text = found[0] if found else model_description(parts)
        rows.append(
            (
                not differs,
                [
                    (".".join(parts), "text"),
                    (model_description(parts), "wrap"),
                    *(_value_cell(c) for c in cells),
                    (t("yes") if differs else t("no"), "text"),
                    (text, "wrap"),
                    (sources[src_i].references(text), "wrap"),
                ],
            )
        )
    rows.sort(key=lambda r: r[0])  # stable: differences first, file order kept
    return header, [r[1] for r in rows], notes
