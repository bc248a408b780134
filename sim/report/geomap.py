"""The report's map: every commune at its register coordinates, coloured by one figure, with the cash-out points.

Drawn as inline SVG (no tiles, no script, no network), so the page opens offline. One small map per
figure: the share paid into accounts, the unpaid share, the commune-point wait (p95) and the cost per
payment to the beneficiary, all of the run's last month (communes.parquet). Each commune is one circle
at its latitude and longitude, from the register its scenario names (`geography.register`; a scenario
without one is on the legacy map; places.parquet carries them since runs name their communes), joined by
official code. A commune without a code or coordinates is left off and the note says how many. Points
with no coordinates of their own are drawn at their commune (commune points) or at the centre of their
district's communes (post offices, ATMs).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from welfare_sim.sim.report import data as d
from welfare_sim.sim.report.i18n import Lang

WIDTH = 480  # SVG user units; the page scales it to the column
PAD = 12
LEGEND_H = 86
NO_DATA = "#d4d4d4"
# ColorBrewer 5-class sequential palettes: more is better (blues), more is worse (reds)
GOOD_HIGH = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
BAD_HIGH = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")


@dataclass(frozen=True)
class MapFigure:
    key: str  # i18n key map.fig.<key>
    column: str  # communes.parquet column
    kind: str  # "pct", "min" or "vnd": how values and the legend are written
    palette: tuple[str, ...]


FIGURES = (
    MapFigure("coverage", "paid_into_account_share", "pct", GOOD_HIGH),
    MapFigure("unpaid", "unpaid_share", "pct", BAD_HIGH),
    MapFigure("wait", "commune_point_wait_min_p95", "min", BAD_HIGH),
    MapFigure("cost", "beneficiary_cost_per_payment_vnd", "vnd", BAD_HIGH),
)


@dataclass
class MapData:
    communes: pl.DataFrame  # last month: commune, commune_code, name, latitude, longitude, the figures
    points: pl.DataFrame  # kind, latitude, longitude, n (points at that place)
    period: object
    unplaced: int  # communes of the run left off the map (no code or no coordinates)
    points_at_centre: bool  # post offices or ATMs drawn at their district's centre


def _register_name(run: d.RunData) -> str | None:
    register = str((run.scenario.get("geography") or {}).get("register", "legacy"))
    return register if register in ("2025", "legacy") else None


def _places(run: d.RunData) -> pl.DataFrame | None:
    """commune, commune_code, name, latitude, longitude: from places.parquet where it has the places
    (run folders since the register geography), else the register by code."""
    if run.places is not None and {"latitude", "longitude", "commune_code"} <= set(run.places.columns):
        return run.places.select(
            "commune", "commune_code", name="commune_name", latitude="latitude", longitude="longitude"
        )
    from welfare_sim.sim import register

    which = _register_name(run)
    if which is None:
        return None
    try:
        reg = register.all_communes(which)
    except register.RegisterError:
        return None
    return reg.select(pl.col("code").alias("commune_code"), "name", "latitude", "longitude")


def map_data(run: d.RunData) -> MapData | None:
    """The last month of communes.parquet with each commune's place; None if the run has no communes
    table or no commune with a place (a world off the map, `register: none`)."""
    if run.communes is None or run.communes.height == 0:
        return None
    places = _places(run)
    if places is None:
        return None
    last = int(run.communes["month"].max())
    rows = run.communes.filter(pl.col("month") == last).sort("commune")
    key = "commune" if "commune" in places.columns else "commune_code"
    placed = rows.join(places.drop("commune_code") if key == "commune" else places, on=key, how="inner")
    placed = placed.filter(
        pl.col("commune_code").is_not_null() & pl.col("latitude").is_not_null() & pl.col("longitude").is_not_null()
    )
    if placed.height == 0:
        return None
    points, at_centre = _points(run, placed)
    return MapData(placed.sort("commune"), points, rows["period"][0], rows.height - placed.height, at_centre)


def _points(run: d.RunData, placed: pl.DataFrame) -> tuple[pl.DataFrame, bool]:
    """The cash-out points by place. Every commune has its commune point, drawn at the commune; post
    offices and ATMs are those of the points table (any month), at their own coordinates where the table
    has them, else at the mean place of their district's communes."""
    local = placed.select(pl.lit("commune_point").alias("kind"), "latitude", "longitude")
    placed_cols = [c for c in ("latitude", "longitude") if c in run.points.columns]
    others = (
        run.points.select("point", "kind", "district", *placed_cols)
        .with_columns(pl.col("kind").cast(pl.String))
        .filter(pl.col("kind") != "commune_point")
        .unique("point")
    )
    at_centre = False
    if placed_cols:
        others = others.filter(pl.col("latitude").is_not_null())
    else:
        centres = placed.group_by("district").agg(pl.col("latitude").mean(), pl.col("longitude").mean())
        others = others.join(centres, on="district", how="inner")
        at_centre = others.height > 0
    grouped = (
        pl.concat([local, others.select(local.columns)])
        .group_by("kind", "latitude", "longitude")
        .agg(n=pl.len().cast(pl.Int64))
        .sort("kind", "latitude", "longitude")
    )
    return grouped, at_centre


# --------------------------------------------------------------------------- drawing


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


class _Projection:
    """Equirectangular at the mean latitude, fitted to WIDTH with PAD around (north up); a province taller
    than wide is drawn at most 1.4 × as tall as wide, centred."""

    def __init__(self, lat: np.ndarray, lon: np.ndarray) -> None:
        self.k = math.cos(math.radians(float(np.mean(lat))))
        x, y = lon * self.k, -lat
        self.x0, self.y0 = float(x.min()), float(y.min())
        inner = WIDTH - 2 * PAD
        xspan, yspan = max(float(x.max()) - self.x0, 1e-6), max(float(y.max()) - self.y0, 1e-6)
        self.scale = min(inner / xspan, 1.4 * inner / yspan)
        self.dx = PAD + (inner - xspan * self.scale) / 2
        self.height = 2 * PAD + yspan * self.scale

    def __call__(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.dx + (lon * self.k - self.x0) * self.scale, PAD + (-lat - self.y0) * self.scale


def _radius(x: np.ndarray, y: np.ndarray) -> float:
    """Half the median distance to the nearest other commune: neighbours touch but seldom overlap."""
    if x.size < 2:
        return 8.0
    from scipy.spatial import cKDTree  # nearest neighbours without an n × n matrix (10,000 communes nationally)

    dist, _ = cKDTree(np.column_stack([x, y])).query(np.column_stack([x, y]), k=2)
    return float(np.clip(0.5 * np.median(dist[:, 1]), 0.8, 10.0))


def _breaks(values: np.ndarray, kind: str) -> np.ndarray:
    """Five equal classes from the lowest to the highest value (edges: six numbers)."""
    lo, hi = float(values.min()), float(values.max())
    if kind == "vnd":
        lo, hi = math.floor(lo / 100) * 100, math.ceil(hi / 100) * 100
    if hi <= lo:
        hi = lo + (0.01 if kind == "pct" else 1.0)
    return np.linspace(lo, hi, 6)


def _value(words: Lang, value: float | None, kind: str) -> str:
    if value is None:
        return words.t("map.no_data")
    if kind == "pct":
        return words.pct(value, 1)
    if kind == "vnd":
        return words.vnd(value)
    return f"{words.num(value, 1)} {words.t('unit.min')}"


def _class_of(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, 4)


def _marker(kind: str, x: float, y: float, r: float) -> str:
    if kind == "commune_point":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{max(r * 0.28, 1.1):.2f}"/>'
    s = max(r * 0.75, 3.0)
    if kind == "post_office":
        return f'<rect x="{x - s / 2:.1f}" y="{y - s / 2:.1f}" width="{s:.1f}" height="{s:.1f}"/>'
    h = s * 1.15
    return f'<path d="M{x:.1f} {y - h / 2:.1f}L{x + s / 2:.1f} {y + h / 2:.1f}L{x - s / 2:.1f} {y + h / 2:.1f}Z"/>'


def svg_map(m: MapData, fig: MapFigure, words: Lang) -> str:
    """One map: a circle per commune coloured by the figure, the points on top, a legend with units."""
    lat, lon = m.communes["latitude"].to_numpy(), m.communes["longitude"].to_numpy()
    proj = _Projection(lat, lon)
    x, y = proj(lat, lon)
    r = _radius(x, y)
    values = m.communes[fig.column]
    known = values.drop_nulls().to_numpy().astype(float)
    edges = _breaks(known, fig.kind) if known.size else np.zeros(6)
    title = words.t(f"map.fig.{fig.key}")
    shapes = []
    for i, row in enumerate(m.communes.iter_rows(named=True)):
        v = row[fig.column]
        colour = NO_DATA if v is None else fig.palette[int(_class_of(np.array([float(v)]), edges)[0])]
        tip = f"{row['name']} ({row['commune_code']}): {_value(words, v, fig.kind)}"
        shapes.append(
            f'<circle class="commune" data-code="{_esc(row["commune_code"])}" cx="{x[i]:.1f}" cy="{y[i]:.1f}" '
            f'r="{r:.2f}" fill="{colour}"><title>{_esc(tip)}</title></circle>'
        )
    pts = m.points
    px, py = proj(pts["latitude"].to_numpy(), pts["longitude"].to_numpy()) if pts.height else (np.zeros(0), np.zeros(0))
    markers = []
    # post offices and ATMs placed at one district centre: the ATMs beside, not under, the offices
    nudge = {"atm": 2.2 * max(r * 0.75, 3.0)} if m.points_at_centre else {}
    for j, row in enumerate(pts.iter_rows(named=True)):
        px[j] += nudge.get(row["kind"], 0.0)
        tip = f"{words.name('kind', row['kind'])}: {row['n']}"
        markers.append(
            f'<g class="point {row["kind"]}"><title>{_esc(tip)}</title>{_marker(row["kind"], px[j], py[j], r)}</g>'
        )
    height = proj.height + LEGEND_H
    legend = _legend(fig, edges, words, proj.height, r, bool(known.size), m.communes[fig.column].null_count() > 0)
    label = f"{title}: {words.t('map.alt', n=m.communes.height)}"
    return (
        f'<svg class="commune-map" data-figure="{fig.key}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" aria-label="{_esc(label)}">'
        f"<title>{_esc(title)}</title>"
        f'<rect class="sea" x="0" y="0" width="{WIDTH}" height="{proj.height:.0f}" fill="#f7f9fb"/>'
        f'<g class="communes" stroke="#7d8790" stroke-width="0.5">{"".join(shapes)}</g>'
        f'<g class="points" fill="#1b1f24" stroke="#ffffff" stroke-width="0.5">{"".join(markers)}</g>'
        f"{legend}</svg>"
    )


def _legend(
    fig: MapFigure, edges: np.ndarray, words: Lang, top: float, r: float, any_value: bool, any_missing: bool
) -> str:
    unit = {"pct": words.t("unit.share"), "min": words.t("unit.min"), "vnd": "VND"}[fig.kind]
    y0 = top + 14
    parts = [
        f'<text class="legend-title" x="{PAD}" y="{y0:.0f}" font-size="11" font-weight="600">'
        f"{_esc(words.t('map.legend', unit=unit))}</text>"
    ]
    swatch_w = (WIDTH - 2 * PAD) / 6
    classes = list(range(5)) if any_value else []
    for k in classes:
        xk = PAD + k * swatch_w
        lo, hi = _value(words, float(edges[k]), fig.kind), _value(words, float(edges[k + 1]), fig.kind)
        parts.append(
            f'<rect class="swatch" x="{xk:.1f}" y="{y0 + 6:.0f}" width="{swatch_w - 4:.1f}" height="10" '
            f'fill="{fig.palette[k]}" stroke="#999" stroke-width="0.4"/>'
            f'<text x="{xk:.1f}" y="{y0 + 28:.0f}" font-size="8.5">{_esc(lo)} –</text>'
            f'<text x="{xk:.1f}" y="{y0 + 38:.0f}" font-size="8.5">{_esc(hi)}</text>'
        )
    if any_missing or not any_value:
        xk = PAD + 5 * swatch_w
        parts.append(
            f'<rect class="swatch" x="{xk:.1f}" y="{y0 + 6:.0f}" width="{swatch_w - 4:.1f}" height="10" '
            f'fill="{NO_DATA}" stroke="#999" stroke-width="0.4"/>'
            f'<text x="{xk:.1f}" y="{y0 + 28:.0f}" font-size="8.5">{_esc(words.t("map.no_data"))}</text>'
        )
    ym = y0 + 56
    xm = PAD
    for kind in ("commune_point", "post_office", "atm"):
        parts.append(
            f'<g class="legend-point" fill="#1b1f24">{_marker(kind, xm + 4, ym - 3, max(r, 5.0))}</g>'
            f'<text x="{xm + 12:.1f}" y="{ym:.0f}" font-size="9.5">{_esc(words.name("kind", kind))}</text>'
        )
        xm += 150
    return f'<g class="legend">{"".join(parts)}</g>'


def map_section(run: d.RunData, words: Lang) -> str:
    """The report's map section: four small maps and a note on what they show; or a note why none."""
    t = words.t
    head = f'<section id="map"><h2>{_esc(t("map.title"))}</h2>'
    m = map_data(run)
    if m is None:
        why = "map.no_table" if run.communes is None else "map.no_codes"
        return head + f'<p class="note">{_esc(t(why))}</p></section>'
    notes = [t("map.note", period=words.period(m.period), n=m.communes.height)]
    if m.unplaced:
        notes.append(t("map.unplaced", n=m.unplaced))
    if m.points_at_centre:
        notes.append(t("map.points_at_centre"))
    maps = "".join(
        f'<figure class="map" id="map-{f.key}">{svg_map(m, f, words)}'
        f"<figcaption>{_esc(t(f'map.fig.{f.key}'))}</figcaption></figure>"
        for f in FIGURES
    )
    return head + "".join(f'<p class="note">{_esc(n)}</p>' for n in notes) + f'<div class="maps">{maps}</div></section>'
