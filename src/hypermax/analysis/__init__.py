"""Why a region is good, not only which trial was best.

Every function reads trials (a results folder, via ``load_table``) and returns plain data;
``hypermax.analysis.report`` draws it as an HTML report, PNG charts and CSV tables.
"""

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
