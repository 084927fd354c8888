"""Why a region is good, not only which trial was best.

Every function reads trials (a results folder, via ``load_table``) and returns plain data;
``hypermax.analysis.report`` draws it as an HTML report, PNG charts and CSV tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypermax._lazy import lazy_attributes

if TYPE_CHECKING:
    from hypermax.analysis.hypermodel import Exploration, HyperModel, Importance
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
    from hypermax.analysis.table import AnalysisError, TrialTable, load_table, table_from

# loaded on first use: scikit-learn and plotly cost a second that the command line's other
# commands should not pay
_MODULES = {
    "hypermax.analysis.hypermodel": ("Exploration", "HyperModel", "Importance"),
    "hypermax.analysis.stats": (
        "Correlation",
        "History",
        "HotspotGrid",
        "Slice",
        "SpaceSummary",
        "correlations",
        "history",
        "hotspot_grid",
        "slices",
        "space_summary",
    ),
    "hypermax.analysis.table": ("AnalysisError", "TrialTable", "load_table", "table_from"),
}
_LAZY = {name: module for module, names in _MODULES.items() for name in names}

__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "AnalysisError",
    "Correlation",
    "Exploration",
    "History",
    "HotspotGrid",
    "HyperModel",
    "Importance",
    "Slice",
    "SpaceSummary",
    "TrialTable",
    "correlations",
    "history",
    "hotspot_grid",
    "load_table",
    "slices",
    "space_summary",
    "table_from",
]
