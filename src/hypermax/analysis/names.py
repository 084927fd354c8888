"""The analysis tables by name, importable without the analysis itself: the command line
offers them as choices before it loads anything."""

TABLES = ("correlations", "importance", "slices", "hotspots", "coverage")
