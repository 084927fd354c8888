"""``hypermax.optimize``: a whole search from Python, with a plain callable as the model."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hypermax.config import config_from_dict
from hypermax.config.model import DEFAULT_METHOD
from hypermax.events import Listener
from hypermax.execution import executor_for
from hypermax.result import SearchResult
from hypermax.search import Search
from hypermax.storage import SQLStorage


def optimize(
    function: Callable[[Any], Any],
    hyperparameters: Mapping[str, Any],
    metrics: Mapping[str, Any] | None = None,
    method: str = DEFAULT_METHOD,
    iterations: int = 100,
    seed: int | None = None,
    parallel: int = 1,
    name: str | None = None,
    results_directory: str | Path = "hypermax_results",
    storage: str | None = None,
    search: Mapping[str, Any] | None = None,
    function_options: Mapping[str, Any] | None = None,
    listeners: Sequence[Listener] = (),
) -> SearchResult:
    """Search ``hyperparameters`` for the parameters that minimize ``function``'s loss.

    ``function`` receives the parameters in nested form and returns a loss or a dict of metrics,
    as with a config file; it runs in worker processes. Without ``name`` the trials are kept in
    memory only; with a ``name`` they are saved in ``results_directory/name`` (or the
    ``storage`` database URL) and calling again with the same name resumes the search.
    ``search`` takes further ``search`` settings (e.g. ``{"tpe": {"gamma": 0.3}}``) and
    ``function_options`` the ``auto_kill_*`` limits.
    """
    data: dict[str, Any] = {
        "hyperparameters": dict(hyperparameters),
        "search": {
            "method": method,
            "iterations": iterations,
            "parallel": parallel,
            **({"seed": seed} if seed is not None else {}),
            **({"name": name} if name else {}),
            **({"storage": storage} if storage else {}),
            **dict(search or {}),
        },
        "results": {"directory": str(results_directory)},
    }
    if metrics:
        data["metrics"] = dict(metrics)
    if function_options:
        data["function"] = {"type": "python_function", **dict(function_options)}
    config = config_from_dict(data, require_function=False)
    if name or storage:
        executor = executor_for(config, function=function)
        return Search(config, executor, listeners=listeners).run()
    scratch = Path(tempfile.mkdtemp(prefix="hypermax-"))
    executor = executor_for(config, function=function, results_dir=scratch)
    with SQLStorage("sqlite://", config.search.name) as memory:
        return Search(
            config, executor, storage=memory, results_dir=scratch, listeners=listeners
        ).run()
