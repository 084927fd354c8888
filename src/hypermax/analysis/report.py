"""The analysis as files: a self-contained HTML report (Plotly, works offline), PNG charts
(matplotlib) and CSV tables. Everything here draws data computed elsewhere in the package."""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from hypermax.analysis.hypermodel import Exploration, HyperModel, Importance
from hypermax.analysis.names import TABLES
from hypermax.analysis.stats import (
    Correlation,
    History,
    HotspotGrid,
    Slice,
    SpaceSummary,
    correlations,
    history,
    hotspot_grid,
    slices,
    space_summary,
)
from hypermax.analysis.table import AnalysisError, TrialTable

MIN_TRIALS = 2
HOTSPOT_PARAMETERS = 3  # hotspot grids for every pair of the three most important


@dataclass
class Analysis:
    """Everything the report shows, computed once."""

    table: TrialTable
    history: History
    correlations: list[Correlation]
    slices: list[Slice]
    space: SpaceSummary
    hotspots: list[HotspotGrid] = field(default_factory=list)
    importance: list[Importance] = field(default_factory=list)
    model: HyperModel | None = None
    exploration: Exploration | None = None
    notes: list[str] = field(default_factory=list)


def analyse(table: TrialTable, with_model: bool = True) -> Analysis:
    """Compute every piece of the report; pieces that need more trials become notes.
    ``with_model=False`` skips the hyper-model (and importance), the slow part."""
    if len(table) < MIN_TRIALS:
        raise AnalysisError(
            f"only {len(table)} successful trial so far; the analysis needs at least {MIN_TRIALS}"
        )
    result = Analysis(
        table, history(table), correlations(table), slices(table), space_summary(table)
    )
    try:
        result.model = HyperModel(table) if with_model else None
    except AnalysisError as error:
        result.notes.append(f"No hyper-model or importance: {error}.")
    if result.model is not None:
        result.importance = result.model.importance()
        if table.space is not None:
            result.exploration = result.model.explore()
    ranked = [i.parameter for i in result.importance] or list(table.columns)
    for x, y in itertools.combinations(ranked[:HOTSPOT_PARAMETERS], 2):
        result.hotspots.append(hotspot_grid(table, x, y))
    return result


# --- tables -------------------------------------------------------------------------------


def table_rows(analysis: Analysis, what: str) -> list[dict[str, Any]]:
    """The rows of one exportable table: correlations, importance, slices, hotspots, coverage."""
    if what == "correlations":
        return [asdict(row) for row in analysis.correlations]
    if what == "importance":
        if not analysis.importance:
            raise AnalysisError(" ".join(analysis.notes) or "no importance computed")
        return [asdict(row) for row in analysis.importance]
    if what == "slices":
        return [
            {"parameter": s.parameter, "bin": label, "mean_loss": mean, "min_loss": low}
            for s in analysis.slices
            for label, mean, low in zip(s.bin_labels, s.bin_mean, s.bin_min, strict=True)
        ]
    if what == "hotspots":
        rows = []
        for grid in analysis.hotspots:
            for (r, y_label), (c, x_label) in itertools.product(
                enumerate(grid.y_labels), enumerate(grid.x_labels)
            ):
                rows.append(
                    {
                        "x": grid.x,
                        "y": grid.y,
                        "x_bin": x_label,
                        "y_bin": y_label,
                        "mean_loss": grid.mean[r][c],
                        "median_loss": grid.median[r][c],
                        "min_loss": grid.minimum[r][c],
                        "trials": grid.count[r][c],
                    }
                )
        return rows
    if what == "coverage":
        return [asdict(row) for row in analysis.space.coverage]
    raise AnalysisError(f"unknown table {what!r}")


def rows_as_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue()


# --- figures (Plotly) ----------------------------------------------------------------------


def history_figure(data: History) -> go.Figure:
    figure = go.Figure()
    figure.add_scatter(x=data.trials, y=data.loss, mode="markers", name="trial loss")
    figure.add_scatter(
        x=data.trials, y=data.best_so_far, mode="lines", name="best so far", line={"shape": "hv"}
    )
    return figure.update_layout(title="Loss by trial", xaxis_title="trial", yaxis_title="loss")


def importance_figure(rows: list[Importance]) -> go.Figure:
    figure = go.Figure(
        go.Bar(
            x=[r.mean for r in rows],
            y=[r.parameter for r in rows],
            orientation="h",
            error_x={"array": [r.std for r in rows]},
        )
    )
    return figure.update_layout(
        title="Parameter importance (R² lost when shuffled)", yaxis={"autorange": "reversed"}
    )


def correlation_figure(rows: list[Correlation]) -> go.Figure:
    parameters = list(dict.fromkeys(r.parameter for r in rows))
    targets = list(dict.fromkeys(r.target for r in rows))
    lookup = {(r.parameter, r.target): r.spearman for r in rows}
    z = [[_finite_or_none(lookup.get((p, t))) for t in targets] for p in parameters]
    figure = go.Figure(
        go.Heatmap(
            z=z, x=targets, y=parameters, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True
        )
    )
    return figure.update_layout(title="Spearman correlation with loss and metrics")


def slice_figure(data: Slice) -> go.Figure:
    figure = go.Figure()
    figure.add_scatter(x=data.values, y=data.losses, mode="markers", name="trials")
    if data.bin_centers is not None:
        figure.add_scatter(
            x=data.bin_centers,
            y=[_finite_or_none(v) for v in data.bin_mean],
            mode="lines+markers",
            name="binned mean",
        )
    figure.update_layout(
        title=f"{data.parameter} vs loss", xaxis_title=data.parameter, yaxis_title="loss"
    )
    if data.log:
        figure.update_xaxes(type="log")
    return figure


def hotspot_figure(grid: HotspotGrid) -> go.Figure:
    z = [[_finite_or_none(v) for v in row] for row in grid.mean]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=grid.x_labels,
            y=grid.y_labels,
            colorscale="Viridis",
            colorbar={"title": "mean loss"},
        )
    )
    return figure.update_layout(
        title=f"Hotspots: mean loss over {grid.x} × {grid.y}",
        xaxis_title=grid.x,
        yaxis_title=grid.y,
    )


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def figures(analysis: Analysis) -> dict[str, go.Figure]:
    found = {
        "history": history_figure(analysis.history),
        "correlations": correlation_figure(analysis.correlations),
    }
    if analysis.importance:
        found["importance"] = importance_figure(analysis.importance)
    for position, grid in enumerate(analysis.hotspots):
        found[f"hotspot-{position + 1}"] = hotspot_figure(grid)
    for data in analysis.slices:
        found[f"slice-{data.parameter}"] = slice_figure(data)
    return found


# --- files ---------------------------------------------------------------------------------


def write_report(analysis: Analysis, folder: Path) -> Path:
    """Write report.html, png/*.png and csv/*.csv into ``folder``; returns the HTML's path."""
    folder.mkdir(parents=True, exist_ok=True)
    charts = figures(analysis)
    (folder / "csv").mkdir(exist_ok=True)
    for what in TABLES:
        try:
            (folder / "csv" / f"{what}.csv").write_text(rows_as_csv(table_rows(analysis, what)))
        except AnalysisError:
            continue
    write_pngs(analysis, folder / "png")
    page = folder / "report.html"
    page.write_text(_html(analysis, charts), "utf-8")
    return page


def _header_html(description: dict[str, Any]) -> str:
    """The search's name and method, and what its ``hypermax_results`` says about it."""
    if not description:
        return ""
    name, method = description.get("search"), description.get("method")
    text = f"<p>Search <b>{html.escape(str(name))}</b>" if name else "<p>Search"
    text += f", method <code>{html.escape(str(method))}</code>.</p>" if method else ".</p>"
    about = description.get("hypermax_results") or {}
    if about:
        rows = "".join(
            f"<tr><th>{html.escape(str(key))}</th><td>"
            + html.escape(", ".join(map(str, value)) if isinstance(value, list) else str(value))
            + "</td></tr>"
            for key, value in about.items()
        )
        text += f'<table class="about">{rows}</table>'
    return text


def _html(analysis: Analysis, charts: dict[str, go.Figure]) -> str:
    table = analysis.table
    sections = [
        _header_html(table.description),
        f"<p>{len(table)} successful trials, {table.failed} failed or killed. Best loss "
        f"{table.loss.min():.6g} (trial {int(table.numbers[table.loss.argmin()])}).</p>",
    ]
    sections += [f'<p class="note">{html.escape(note)}</p>' for note in analysis.notes]
    if analysis.model is not None:
        sections.append(_model_html(analysis))
    sections.append(_coverage_html(analysis.space))
    for name, figure in charts.items():
        sections.append(
            figure.to_html(
                full_html=False, include_plotlyjs=False, div_id=f"chart-{name}", default_height=420
            )
        )
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>hypermax analysis</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}"
        ".about th{text-align:left}"
        ".note{color:#a60}</style>"
        f"<script>{get_plotlyjs()}</script></head><body><h1>hypermax analysis</h1>"
        + "\n".join(sections)
        + "</body></html>\n"
    )


def _model_html(analysis: Analysis) -> str:
    model = analysis.model
    assert model is not None
    text = (
        f"<h2>Hyper-model</h2><p>A {model.loss.name} fitted on the trials predicts the loss "
        f"with a cross-validated R² of {model.r2:.3f}"
    )
    if model.time is not None:
        text += f" and the trial time with R² {model.time.r2:.3f}"
    text += ".</p>"
    found = analysis.exploration
    if found is not None:
        verdict = "likely" if found.likely_better else "not likely"
        text += (
            f"<p>A simulated extension ({found.samples} samples on the model) predicts a "
            f"best loss of {found.predicted_best:.6g} against {found.observed_best:.6g} "
            f"observed: a better region is {verdict}. Best predicted parameters: "
            f"<code>{_json_html(found.predicted_best_params)}</code>; "
            f"region of the 20 best predictions: <code>{_json_html(found.region)}</code></p>"
        )
    return text


def _coverage_html(summary: SpaceSummary) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(c.parameter)}</td><td>{c.trials}</td>"
        f"<td>{c.distinct}</td><td>{c.covered:.0%}</td></tr>"
        for c in summary.coverage
    )
    return (
        f"<h2>Search space</h2><p>Cardinality {summary.cardinality:g}, "
        f"{summary.parameters} parameters.</p><table><tr><th>parameter</th><th>trials</th>"
        f"<th>distinct values</th><th>range covered</th></tr>{rows}</table>"
    )


def write_pngs(analysis: Analysis, folder: Path) -> list[Path]:
    """The main charts as PNG images (matplotlib, no browser needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def save(name: str, figure: Any) -> None:
        path = folder / f"{name}.png"
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)

    figure, axes = plt.subplots(figsize=(7, 4))
    data = analysis.history
    axes.scatter(data.trials, data.loss, s=10, label="trial loss")
    axes.step(data.trials, data.best_so_far, where="post", color="C1", label="best so far")
    axes.set(xlabel="trial", ylabel="loss", title="Loss by trial")
    axes.legend()
    save("history", figure)
    if analysis.importance:
        figure, axes = plt.subplots(figsize=(7, 0.4 * len(analysis.importance) + 1.5))
        rows = list(reversed(analysis.importance))
        axes.barh([r.parameter for r in rows], [r.mean for r in rows], xerr=[r.std for r in rows])
        axes.set(title="Parameter importance", xlabel="R² lost when shuffled")
        save("importance", figure)
    for position, grid in enumerate(analysis.hotspots):
        figure, axes = plt.subplots(figsize=(7, 5))
        image = axes.imshow(grid.mean, origin="lower", aspect="auto", cmap="viridis")
        axes.set_xticks(range(len(grid.x_labels)), grid.x_labels, rotation=45, ha="right")
        axes.set_yticks(range(len(grid.y_labels)), grid.y_labels)
        axes.set(xlabel=grid.x, ylabel=grid.y, title="Mean loss")
        figure.colorbar(image)
        save(f"hotspot-{position + 1}", figure)
    for data_slice in analysis.slices:
        figure, axes = plt.subplots(figsize=(6, 4))
        x: Any = data_slice.values if data_slice.numeric else [str(v) for v in data_slice.values]
        axes.scatter(x, data_slice.losses, s=10)
        if data_slice.log:
            axes.set_xscale("log")
        axes.set(
            xlabel=data_slice.parameter, ylabel="loss", title=f"{data_slice.parameter} vs loss"
        )
        save(f"slice-{data_slice.parameter.replace('$', '')}", figure)
    return written


def _json_html(value: object) -> str:
    """JSON shown in the page: names as written (the page is UTF-8), not ``\\u`` escapes."""
    return html.escape(json.dumps(value, ensure_ascii=False))
