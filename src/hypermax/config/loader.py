"""Load a search config: parse JSON/YAML, resolve ``$ref``, validate, fill defaults.

Every problem is reported with its config path, all at once, as a ConfigError.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from hypermax.config.model import (
    DEFAULT_ITERATIONS,
    DEFAULT_METHOD,
    DEFAULT_RESULTS_DIRECTORY,
    Config,
    FunctionConfig,
    SearchSettings,
)
from hypermax.config.schema import (
    ANY_SECTION,
    FUNCTION,
    SEARCH_PROPERTIES,
    executor_keys,
    executor_schema,
    method_names,
    method_schema,
    nested,
    replaced,
    shared_function_schema,
    with_method_sections,
)
from hypermax.errors import ConfigError, ConfigIssue
from hypermax.execution import DEFAULT_EXECUTOR, available_executors, executor_settings
from hypermax.execution.base import ExecutorSettings
from hypermax.loss import MetricSpec
from hypermax.optimizers import canonical_method, create_optimizer, method_issue
from hypermax.optimizers.base import MethodSettings, settings_class
from hypermax.optimizers.staged import Incremental, Stage
from hypermax.pruning import EarlyStopping
from hypermax.settings import build, validation_issues
from hypermax.space import MAX_SPACE_DEPTH, Space, depth_issue, point_key, shown

# Bounds that keep a hostile or mistaken file from exhausting the stack or the memory: levels of
# nested objects and lists, and values that YAML aliases or "$ref"s may add to a document
# (the "billion laughs"). Real configs stay far below both.
MAX_NESTING = 250
MAX_EXPANSION = 100_000
MAX_TEXT = 300  # characters of a path or message shown per problem
MAX_ISSUES = 100  # problems listed
TOO_MANY_DIGITS = "a number has more than 4300 digits, more than Python reads: shorten it"


def load_config(path: str | Path, require_function: bool = True) -> Config:
    """Read and validate the config file at ``path``."""
    source = Path(path)
    try:
        data = read_document(source)
    except ConfigError as error:
        raise bounded(error) from None
    if not isinstance(data, dict):
        raise ConfigError(ConfigIssue("", "the config must be an object at the top"), str(source))
    return config_from_dict(
        data, base_dir=source.resolve().parent, source=source, require_function=require_function
    )


def read_document(source: Path) -> Any:
    """Parse one JSON or YAML file, with the line and column of a syntax error."""
    try:
        raw = source.read_bytes()
    except (OSError, ValueError) as error:  # ValueError: a null byte in the name
        reason = getattr(error, "strerror", None) or str(error)
        raise ConfigError(
            ConfigIssue("", f"cannot read the file: {reason}"), str(source)
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(
            ConfigIssue(
                "",
                f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x} on line {line}): "
                "save it as UTF-8",
            ),
            str(source),
        ) from None
    try:
        if source.suffix.lower() in (".yaml", ".yml"):
            data = _read_yaml(text, str(source))
        else:
            data = _read_json(text, str(source))
    except RecursionError:
        raise ConfigError(
            ConfigIssue("", f"nested more than {MAX_NESTING} levels deep"), str(source)
        ) from None
    issue = _nesting_issue(data)
    if issue is not None:
        raise ConfigError(issue, str(source))
    return data


def _read_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            ConfigIssue(
                "", f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
            ),
            source,
        ) from None
    except ValueError:  # Python's own bound on the digits of an integer
        raise ConfigError(ConfigIssue("", TOO_MANY_DIGITS), source) from None


def _read_yaml(text: str, source: str) -> Any:
    """Compose the YAML node graph first (aliases stay shared there), check what would blow
    up when built, then build it."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        issues = [] if node is None else _yaml_issues(node)
        data = None if node is None or issues else loader.construct_document(node)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(ConfigIssue("", f"invalid YAML{where}: {problem}"), source) from None
    except ValueError:  # Python's own bound on the digits of an integer
        raise ConfigError(ConfigIssue("", TOO_MANY_DIGITS), source) from None
    finally:
        loader.dispose()
    if issues:
        raise ConfigError(issues, source)
    return data


def _yaml_children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _yaml_issues(root: yaml.Node) -> list[ConfigIssue]:
    """Aliases that refer to their own parents or expand past MAX_EXPANSION values, and keys
    given twice in one mapping, found on the node graph without expanding it."""
    size: dict[int, int] = {}  # id -> number of values once aliases are expanded
    distinct = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, done = stack.pop()
        if done:
            open_nodes.discard(id(node))
            size[id(node)] = 1 + sum(size[id(child)] for child in _yaml_children(node))
            continue
        if id(node) in size:
            continue
        if id(node) in open_nodes:
            return [
                ConfigIssue(
                    "",
                    f"the YAML alias at line {node.start_mark.line + 1} refers to a value "
                    "that contains it",
                )
            ]
        distinct += 1
        open_nodes.add(id(node))
        stack.append((node, True))
        stack += [(child, False) for child in _yaml_children(node) if id(child) not in size]
    if size[id(root)] - distinct > MAX_EXPANSION:
        return [
            ConfigIssue(
                "",
                f"YAML aliases (*name) would add {size[id(root)] - distinct:,} values; at most "
                f'{MAX_EXPANSION:,} are allowed: repeat less, or use "$ref"',
            )
        ]
    return _yaml_duplicate_keys(root)


def _yaml_duplicate_keys(root: yaml.Node) -> list[ConfigIssue]:
    issues = []
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, where = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack += [(child, _dotted_join(where, i)) for i, child in enumerate(node.value)]
        elif isinstance(node, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag.endswith(":merge"):
                    continue
                line = key.start_mark.line + 1
                if (key.tag, key.value) in first:
                    issues.append(
                        ConfigIssue(
                            _dotted_join(where, key.value),
                            f"duplicate key {key.value!r} on line {line} (first on line "
                            f"{first[key.tag, key.value]}): only one would count; remove one",
                        )
                    )
                else:
                    first[key.tag, key.value] = line
                stack.append((value, _dotted_join(where, key.value)))
    return sorted(issues, key=lambda issue: issue.message)


def _dotted(parts: Any) -> str:
    return ".".join(str(part) for part in parts)


def _dotted_join(parent: str, key: Any) -> str:
    return f"{parent}.{key}" if parent else str(key)


def _nesting_issue(data: Any) -> ConfigIssue | None:
    """The first place where ``data`` nests deeper than MAX_NESTING, found without
    recursion (the loader's own walks and jsonschema's recurse)."""
    if not isinstance(data, (dict, list)):
        return None
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    while stack:
        value, depth, where = stack.pop()
        if depth > MAX_NESTING:
            return ConfigIssue(
                where,
                f"nested more than {MAX_NESTING} levels deep; a config nests objects and "
                f"lists at most {MAX_NESTING} levels (its parameters at most {MAX_SPACE_DEPTH})",
            )
        stack += [
            (child, depth + 1, _dotted_join(where, key))
            for key, child in _items(value)
            if isinstance(child, (dict, list))
        ]
    return None


def _items(container: dict[Any, Any] | list[Any]) -> Iterator[tuple[Any, Any]]:
    return iter(container.items()) if isinstance(container, dict) else enumerate(container)


def _non_finite_issues(data: Any) -> list[ConfigIssue]:
    """NaN and infinite numbers (JSON's NaN/Infinity, YAML's .nan/.inf): no bound, setting or
    value means anything with them, and they would fail later far from their place."""
    issues = []
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        container, where = stack.pop()
        for key, value in _items(container):
            if isinstance(value, (dict, list)):
                stack.append((value, _dotted_join(where, key)))
            elif isinstance(value, float) and not math.isfinite(value):
                issues.append(
                    ConfigIssue(_dotted_join(where, key), f"must be a finite number, got {value}")
                )
    return sorted(issues, key=lambda issue: issue.path)


def bounded(error: ConfigError) -> ConfigError:
    """The same error with every path and message cut to MAX_TEXT characters (a problem
    may echo a value, and a value may be megabytes) and at most MAX_ISSUES problems listed."""
    more = len(error.issues) - MAX_ISSUES
    error.issues = [
        ConfigIssue(_cut(issue.path), _cut(issue.message)) for issue in error.issues[:MAX_ISSUES]
    ]
    if more > 0:
        error.issues.append(ConfigIssue("", f"and {more:,} more problems; fix these first"))
    return error


def _cut(text: str) -> str:
    """Both ends of a long text (a deep path's end says where; a message's start what)."""
    if len(text) <= MAX_TEXT:
        return text
    half = (MAX_TEXT - 3) // 2
    return f"{text[:half]}...{text[-half:]}"


def config_from_dict(
    data: Mapping[str, Any],
    base_dir: Path | None = None,
    source: Path | None = None,
    require_function: bool = True,
) -> Config:
    """Validate a config given as data; the library API and the file loader both end here."""
    try:
        return _validated(data, base_dir or Path.cwd(), source, require_function)
    except ConfigError as error:
        raise bounded(error.in_file(str(source)) if source else error) from None


def _validated(
    data: Mapping[str, Any], base_dir: Path, source: Path | None, require_function: bool
) -> Config:
    _check_nesting(data)
    resolver = _RefResolver(data, base_dir)
    resolved = resolver.resolve()
    if not isinstance(resolved, dict):  # the top was a reference
        raise ConfigError(resolver.issues or ConfigIssue("", "the config must be an object"))
    _check_nesting(resolved)
    too_deep = depth_issue(resolved.get("hyperparameters"))
    if too_deep is not None:  # before jsonschema, which recurses along the parameters
        raise ConfigError(too_deep)
    # where a reference failed (a key named "" gives no prefix: it must not hide every issue)
    unresolved = tuple(
        prefix for issue in resolver.issues if (prefix := issue.path.removesuffix("$ref"))
    )
    issues = resolver.issues + _non_finite_issues(resolved)
    issues += [  # the None left by a reference that failed is reported as that failure
        issue for issue in _schema_issues(resolved) if not f"{issue.path}.".startswith(unresolved)
    ]
    broken = {issue.path.split(".")[0] for issue in issues}  # sections that cannot be built
    issues += _semantic_issues(resolved, require_function, broken)
    issues += _seed_from_issues(resolved.get("search"), base_dir, broken)
    if broken & {"", "hyperparameters", "search"}:
        if "hyperparameters" in resolved and "hyperparameters" not in broken:
            issues += _space_issues(resolved["hyperparameters"])
        raise ConfigError(issues)
    # the search is checked against the space even where another section is broken: built
    # without the broken sections, whose problems are listed already
    config = _build({k: v for k, v in resolved.items() if k not in broken}, base_dir, source)
    space_issues = _space_issues(config.hyperparameters)
    issues += space_issues
    if not space_issues:
        issues += _stage_issues(config)
        issues += _method_settings_issues(config)
        issues += _initial_issues(config)
    if issues:
        raise ConfigError(issues)
    search = resolved.get("search", {})
    if config.search.stages and not config.search.incremental and "iterations" not in search:
        # the defaults and the initial sets run first, outside the stages' counts
        config.search.iterations += len({point_key(flat) for flat in config.warm_start()})
    return config


def _check_nesting(data: Any) -> None:
    issue = _nesting_issue(data)
    if issue is not None:
        raise ConfigError(issue)


def _space_issues(hyperparameters: Any) -> list[ConfigIssue]:
    """The space's problems, and a space with nothing to choose (a search needs one choice)."""
    try:
        space = Space.from_schema(hyperparameters)
    except ConfigError as error:
        return list(error.issues)
    if space.parameters():
        return []
    where = "hyperparameters"
    if isinstance(hyperparameters, Mapping) and "properties" in hyperparameters:
        where = "hyperparameters.properties"
    return [
        ConfigIssue(
            where,
            "the space has no parameter to search: add a number, an integer or an enum, "
            'e.g. "lr": {"type": "number", "min": 0.0001, "max": 0.1}',
        )
    ]


def _seed_from_issues(search: Any, base_dir: Path, broken: set[str]) -> list[ConfigIssue]:
    if "search" in broken or not isinstance(search, Mapping):
        return []
    folders = search.get("seed_from", [])
    issues = []
    for position, folder in enumerate([folders] if isinstance(folders, str) else folders):
        if not (base_dir / folder / "config.json").is_file():
            where = "search.seed_from" + ("" if isinstance(folders, str) else f".{position}")
            issues.append(
                ConfigIssue(
                    where,
                    f"{folder!r} is not a hypermax results folder "
                    f"(no config.json in {base_dir / folder})",
                )
            )
    return issues


def _initial_issues(config: Config) -> list[ConfigIssue]:
    """Warm-start sets must fit the space; a key that names no parameter is a typo, never
    something to drop silently."""
    issues = []
    for position, partial in enumerate(config.search.initial):
        where = f"search.initial.{position}"
        unknown = config.space.unknown_keys(partial)
        for path, key, known in unknown:
            hint = difflib.get_close_matches(key, known, n=1)
            advice = f"did you mean {hint[0]!r}?" if hint else f"known: {', '.join(known)}"
            issues.append(
                ConfigIssue(
                    _dotted_join(_dotted_join(where, path) if path else where, key),
                    f"unknown parameter {key!r}; {advice}",
                )
            )
        if unknown:
            continue
        try:
            config.space.complete(partial)
        except (KeyError, ValueError, TypeError) as error:
            issues.append(ConfigIssue(where, f"does not fit the search space: {error}"))
    return issues


def _default_iterations(search: Mapping[str, Any]) -> int:
    """Staged tuning without ``iterations`` runs its stages and stops (plus the warm-start
    sets, added once the space is known)."""
    stages = search.get("stages")
    if stages and not search.get("incremental"):
        return sum(int(stage["iterations"]) for stage in stages)
    return DEFAULT_ITERATIONS


def _method_settings_issues(config: Config) -> list[ConfigIssue]:
    """Settings a method refuses on this space (a grid too large, hyperband bounds the wrong
    way round), found before anything runs."""
    search = config.search
    if method_issue(search.method) is not None:
        return []  # reported already
    try:
        create_optimizer(search.method, config.space, search.seed, search.method_settings)
    except ConfigError as error:
        # named where the settings were written: search.abh, or beside "method" for budgets
        written = config.raw.get("search", {})
        given = [name for name in (search.method, written.get("method")) if name in written]
        flat = search.method == "hyperband" and set(FLAT_HYPERBAND_KEYS) & set(written)
        place = "search" if flat else f"search.{(given or [search.method])[0]}"
        return [
            ConfigIssue(place, issue.message) if issue.path == f"search.{search.method}" else issue
            for issue in error.issues
        ]
    return []


def _stage_issues(config: Config) -> list[ConfigIssue]:
    """Stage parameters must name parameters (or objects of them) that can be held apart."""
    tunable = [node.path for node in config.space.tunable()]
    known = set(tunable) | {
        ".".join(path.split(".")[:depth])
        for path in tunable
        for depth in range(1, path.count(".") + 1)
    }
    issues = []
    named: list[tuple[str, Sequence[str]]] = [
        (f"search.stages.{i}.parameters", stage.parameters or ())
        for i, stage in enumerate(config.search.stages)
    ]
    incremental = config.search.incremental or Incremental()
    named += [
        (f"search.incremental.groups.{i}", group) for i, group in enumerate(incremental.groups)
    ]
    for where, names in named:
        for position, name in enumerate(names):
            if name not in known:
                hint = difflib.get_close_matches(name, sorted(known), n=1)
                advice = f"did you mean {hint[0]!r}? " if hint else ""
                issues.append(
                    ConfigIssue(
                        f"{where}.{position}",
                        f"{name!r} is not a parameter that can be tuned on its own; {advice}"
                        f"choose from {', '.join(sorted(known))}",
                    )
                )
    written = config.raw.get("search", {})  # methods named there: search.method's is checked
    methods = [
        (f"search.stages.{i}.method", stage.get("method"))
        for i, stage in enumerate(written.get("stages", []))
    ]
    methods.append(("search.incremental.method", written.get("incremental", {}).get("method")))
    for where, method in methods:
        issue = method_issue(method) if method else None
        if issue is not None:
            issues.append(ConfigIssue(where, issue.message))
    return issues


def metric_specs(data: Mapping[str, Any]) -> dict[str, MetricSpec]:
    """The ``metrics`` section of a (validated or saved) config as typed specs."""
    return {
        name: MetricSpec(
            name=name,
            **{
                **{k: v for k, v in spec.items() if k != "description"},
                "type": spec.get("type", "time" if name == "time" else "metric"),
                "scaling": "logarithmic"
                if spec.get("scaling") == "exponential"
                else spec.get("scaling", "linear"),
            },
        )
        for name, spec in data.get("metrics", {}).items()
    }


def _build(data: Mapping[str, Any], base_dir: Path, source: Path | None) -> Config:
    function = data.get("function")
    search = dict(data.get("search", {}))
    method = canonical_method(search.get("method", DEFAULT_METHOD))
    parallel = search.get("parallel", (function or {}).get("parallel", 1))
    default_name = source.stem if source else "search"
    own = _typed_settings(method, method_settings(search))
    early_stopping = search.get("early_stopping")
    settings = SearchSettings(
        name=search.get("name", default_name),
        method=method,
        iterations=int(search.get("iterations", _default_iterations(search))),
        seed=None if search.get("seed") is None else int(search["seed"]),
        parallel=int(parallel),
        storage=search.get("storage"),
        method_settings=own,
        initial=list(search.get("initial", [])),
        stages=[_stage(stage, method, own) for stage in search.get("stages", [])],
        objective=search.get("objective", "scalar"),
        early_stopping=None if early_stopping is None else EarlyStopping(**early_stopping),
        incremental=_incremental(search.get("incremental"), method, own),
        stop_after_failures=int(search.get("stop_after_failures", 5)),
        seed_from=[search["seed_from"]]
        if isinstance(search.get("seed_from"), str)
        else list(search.get("seed_from", [])),
    )
    function_config = None
    if function is not None:
        shared = {item.name for item in dataclasses.fields(FunctionConfig)} - {"settings"}
        fields = {k: v for k, v in function.items() if k in shared}
        if "kill_loss" in function:  # the original README's word; equal if both are given
            fields["auto_kill_loss"] = function["kill_loss"]
        function_config = FunctionConfig(**fields, settings=_executor_settings(function))
    metrics = metric_specs(data)
    return Config(
        hyperparameters=dict(data["hyperparameters"]),
        metrics=metrics,
        function=function_config,
        search=settings,
        results_directory=data.get("results", {}).get("directory", DEFAULT_RESULTS_DIRECTORY),
        results_graphs=bool(data.get("results", {}).get("graphs", False)),
        base_dir=base_dir,
        source=source,
        raw=dict(data),
        hypermax_results=dict(data.get("hypermax_results", {})),
    )


def _executor_settings(function: Mapping[str, Any]) -> ExecutorSettings:
    """A checked ``function`` section's own keys as its executor's ``Settings``."""
    return build(executor_settings(function.get("type", DEFAULT_EXECUTOR)), function)


def _typed_settings(method: str, section: Mapping[str, Any]) -> MethodSettings:
    """A checked settings section as its method's ``Settings`` (the bare base where the method
    is unknown: reported as such, and nothing is built)."""
    if method_issue(method) is not None:
        return MethodSettings()
    return build(settings_class(method), section)


def _method_and_settings(
    section: Mapping[str, Any], method: str, settings: MethodSettings
) -> tuple[str, MethodSettings]:
    """The method of a stage or of ``incremental`` and its settings: its own ``settings`` (for
    its ``method``, else the search's), else its method's defaults, else the search's own."""
    if "method" in section:
        method, settings = section["method"], _typed_settings(section["method"], {})
    if "settings" in section:
        settings = _typed_settings(method, section["settings"])
    return method, settings


def _stage(section: Mapping[str, Any], method: str, settings: MethodSettings) -> Stage:
    method, settings = _method_and_settings(section, method, settings)
    return Stage(tuple(section["parameters"]), method, int(section["iterations"]), settings)


def _incremental(
    section: Mapping[str, Any] | None, method: str, settings: MethodSettings
) -> Incremental | None:
    if section is None:
        return None
    method, settings = _method_and_settings(section, method, settings)
    return Incremental(
        groups=tuple(tuple(group) for group in section.get("groups", ())),
        **{key: int(section[key]) for key in ("size", "iterations") if key in section},
        method=method,
        settings=settings,
    )


FLAT_HYPERBAND_KEYS = ("min_budget", "max_budget", "eta")  # where the original read them


def method_settings(search: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of ``search.method``: its section (``search.tpe``, ``search.abh`` ...),
    for hyperband with the budgets the original Hypermax put beside ``"method": "abh"``, and
    for ``abh`` (the original's Adaptive Bayesian Hyperband) sampled by ATPE by default."""
    spelt = search.get("method", DEFAULT_METHOD)
    method = canonical_method(spelt)
    settings = dict(search.get(method) or search.get(spelt) or {})
    if method == "hyperband":
        settings.update({k: search[k] for k in FLAT_HYPERBAND_KEYS if k in search})
        if spelt == "abh":
            settings.setdefault("sampler", "atpe")
    return settings


def _schema_issues(data: Mapping[str, Any]) -> list[ConfigIssue]:
    schema = _validation_schema(data)
    schema = replaced(schema, FUNCTION, _function_schema(data.get("function")))
    return validation_issues(data, schema) + _foreign_key_issues(data.get("function"))


def _function_schema(section: Any) -> dict[str, Any]:
    """The schema that checks ``function``: that of its type, letting through the keys of
    other types (``_foreign_key_issues`` names them); for a type no executor has, that type
    refused and only the keys every executor shares checked."""
    kinds = available_executors()
    if not isinstance(section, Mapping):
        return shared_function_schema(kinds)
    kind = section.get("type", DEFAULT_EXECUTOR)
    if kind not in kinds:
        return shared_function_schema(kinds, closed=False)
    schema = executor_schema(kind)
    own = schema["properties"]
    if any(key not in own for key in section):
        foreign: dict[str, Any] = {key: {} for key in executor_keys() if key not in own}
        schema = {**schema, "properties": {**own, **foreign}}
    return schema


def _foreign_key_issues(section: Any) -> list[ConfigIssue]:
    """Keys of another executor than the ``function`` section's type, each with the type
    that takes it."""
    if not isinstance(section, Mapping):
        return []
    kind = section.get("type", DEFAULT_EXECUTOR)
    if kind not in available_executors():
        return []
    own = executor_schema(kind)["properties"]
    given = [key for key in section if key not in own]
    if not given:
        return []
    owners = executor_keys()
    default = "" if "type" in section else " (the default)"
    return [
        ConfigIssue(
            f"function.{key}",
            f"{key} is a setting of function type {' or '.join(map(repr, owners[key]))}; "
            f"function.type is {kind!r}{default}, which does not take it: remove it, or set "
            f'"type": {json.dumps(owners[key][0])}',
        )
        for key in given
        if key in owners
    ]


def _validation_schema(data: Mapping[str, Any]) -> dict[str, Any]:
    """The schema that checks ``data``: the general one, and for each method's settings that
    ``data`` gives (``search.tpe``, a stage's or ``incremental``'s ``settings``) that method's
    own schema, so only the methods named are imported."""
    search = data.get("search")
    if not isinstance(search, Mapping):
        return with_method_sections(())
    schema = with_method_sections(name for name in method_names() if name in search)
    method = search.get("method", DEFAULT_METHOD)
    stages = search.get("stages")
    if isinstance(stages, list):  # a schema per stage, each with its own method's settings
        one = nested(schema, (*SEARCH_PROPERTIES, "stages", "items"))
        each = [
            replaced(one, ("properties", "settings"), _settings_schema(stage, method))
            for stage in stages
        ]
        schema = replaced(schema, (*SEARCH_PROPERTIES, "stages", "prefixItems"), each)
    incremental = search.get("incremental")
    if isinstance(incremental, Mapping):
        where = (*SEARCH_PROPERTIES, "incremental", "properties", "settings")
        schema = replaced(schema, where, _settings_schema(incremental, method))
    return schema


def _settings_schema(section: Any, method: Any) -> dict[str, Any]:
    """The schema of the ``settings`` of a stage or of ``incremental``: those of its method,
    else of ``search.method`` (any object where that method is unknown: reported as such)."""
    if isinstance(section, Mapping) and "method" in section:
        method = section["method"]
    if isinstance(method, str) and method_issue(method) is None:
        return method_schema(method)
    return ANY_SECTION


def _semantic_issues(
    data: Mapping[str, Any], require_function: bool, broken: set[str]
) -> list[ConfigIssue]:
    """Checks that JSON Schema cannot express, on the sections that passed it (``broken``
    names those that did not: their problems are reported already)."""
    issues: list[ConfigIssue] = []
    function = None if "function" in broken else data.get("function")
    if require_function and function is None and "function" not in broken:
        issues.append(
            ConfigIssue(
                "function",
                "missing: say how to run the model, e.g. "
                '{"type": "python_function", "module": "model", "name": "train"}',
            )
        )
    if function is not None and require_function:
        issues += _executor_settings(function).issues("function")
    given = function or {}
    kill_loss = given.get("kill_loss")
    if kill_loss is not None and kill_loss != given.get("auto_kill_loss", kill_loss):
        issues.append(
            ConfigIssue(
                "function.kill_loss",
                f"{given['kill_loss']} differs from auto_kill_loss "
                f"({given['auto_kill_loss']}); kill_loss is another name for it: give one",
            )
        )
    search = {} if "search" in broken else data.get("search", {})
    issue = None if "search" in broken else method_issue(search.get("method", DEFAULT_METHOD))
    if issue is not None:
        issues.append(issue)
    else:
        issues += _hyperband_placement_issues(search)
    if "metrics" in broken:
        return issues
    if search.get("objective") == "pareto" and len(data.get("metrics", {})) < 2:
        issues.append(
            ConfigIssue(
                "search.objective",
                "pareto needs two or more entries under 'metrics' to trade off, e.g. "
                "accuracy and time",
            )
        )
    for name, spec in data.get("metrics", {}).items():
        low, high = spec.get("min"), spec.get("max")
        if low is not None and high is not None and low >= high:
            issues.append(
                ConfigIssue(f"metrics.{name}", f"min ({low}) must be below max ({high})")
            )
        if spec.get("scaling") in ("logarithmic", "exponential") and low is not None and low <= 0:
            issues.append(
                ConfigIssue(
                    f"metrics.{name}.min", f"logarithmic scaling needs min above 0, got {low}"
                )
            )
        issues += _metric_kind_issues(name, spec)
        target, most = spec.get("target_time"), spec.get("max_time")
        if (target is None) != (most is None):
            issues.append(
                ConfigIssue(f"metrics.{name}", "give both target_time and max_time, or neither")
            )
        elif target is not None and target >= most:
            issues.append(
                ConfigIssue(
                    f"metrics.{name}", f"target_time ({target}) must be below max_time ({most})"
                )
            )
    return issues


def _hyperband_placement_issues(search: Mapping[str, Any]) -> list[ConfigIssue]:
    """Budgets beside ``"method"`` (the original Hypermax's place) only for hyperband, and
    each setting given once."""
    spelt = search.get("method", DEFAULT_METHOD)
    flat = [key for key in FLAT_HYPERBAND_KEYS if key in search]
    if canonical_method(spelt) != "hyperband":
        default = "" if "method" in search else " (the default)"
        return [
            ConfigIssue(
                f"search.{key}",
                f"{key} is a setting of the hyperband method; search.method is {spelt!r}"
                f'{default}, which has no budgets: remove it, or set "method": "abh"',
            )
            for key in flat
        ]
    sections = [name for name in ("hyperband", "abh") if isinstance(search.get(name), Mapping)]
    issues = [
        ConfigIssue(
            f"search.{key}",
            f"given both here and as search.{section}.{key}: give it once",
        )
        for key in flat
        for section in sections
        if key in search[section]
    ]
    if len(sections) == 2:
        issues.append(
            ConfigIssue(
                "search.abh",
                "hyperband's settings are given both as search.abh and as search.hyperband "
                "(abh is another name for hyperband): give them once",
            )
        )
    return issues


PENALTY_KEYS = ("target_time", "max_time", "penalty_at_max")
ORDINARY_KEYS = ("min", "max", "direction", "scaling", "weight")


def _metric_kind_issues(name: str, spec: Mapping[str, Any]) -> list[ConfigIssue]:
    """Keys that would count for nothing with this kind of metric: no metric setting is
    ever silently ignored."""
    kind = spec.get("type", "time" if name == "time" else "metric")
    where = f"metrics.{name}"
    if kind != "time":
        return [
            ConfigIssue(
                f"{where}.{key}",
                f"{key} shapes the penalty of a time metric; this metric is of type {kind!r}: "
                'remove it, or make the metric "type": "time"',
            )
            for key in PENALTY_KEYS
            if key in spec
        ]
    if "target_time" not in spec:
        if "penalty_at_max" in spec:
            return [
                ConfigIssue(
                    f"{where}.penalty_at_max",
                    "a time penalty needs target_time and max_time too; without them the time "
                    "is an ordinary metric (min, max, direction, scaling, weight)",
                )
            ]
        return []
    return [
        ConfigIssue(
            f"{where}.{key}",
            f"{key} applies to a time metric without target_time (an ordinary metric over the "
            "trial's seconds); with target_time the time adds the penalty that target_time, "
            "max_time and penalty_at_max shape: remove one or the other",
        )
        for key in ORDINARY_KEYS
        if key in spec
    ]


class _RefResolver:
    """Replaces ``{"$ref": "file#/pointer"}`` with the referenced data (sibling keys win).

    A ``#/...`` reference inside another file points into that file, and file paths in it are
    relative to that file's folder.
    """

    def __init__(self, root: Mapping[str, Any], base_dir: Path):
        self.root = root
        self.base_dir = base_dir
        self.issues: list[ConfigIssue] = []
        self.added = 0  # values that references added: bounded like YAML aliases

    def resolve(self) -> dict[str, Any]:
        """The document with references replaced; one that cannot be resolved becomes None
        and an issue in ``issues``."""
        return self._walk(dict(self.root), "", (), self.root, self.base_dir)

    def _walk(
        self, node: Any, where: str, active: tuple[str, ...], document: Any, folder: Path
    ) -> Any:
        """A new copy of ``node`` with references replaced (containers are rebuilt, so the
        result shares nothing mutable with the documents)."""
        if active:
            self.added += 1
            if self.added > MAX_EXPANSION:
                raise ConfigError(
                    ConfigIssue(
                        _dotted_join(where, "$ref"),
                        f'"$ref"s would add more than {MAX_EXPANSION:,} values: refer less '
                        "often to large pieces, or to pieces that refer to others",
                    )
                )
        if isinstance(node, list):
            return [
                self._walk(v, _dotted([where, i]) if where else str(i), active, document, folder)
                for i, v in enumerate(node)
            ]
        if not isinstance(node, dict):
            return node
        if isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            at = f"{where}.$ref" if where else "$ref"
            file_part, _, pointer = ref.partition("#")
            try:
                location = (folder / file_part).resolve() if file_part else id(document)
            except (OSError, ValueError) as error:  # a null byte, a loop of links
                self.issues.append(ConfigIssue(at, f"cannot load {shown(ref)}: {error}"))
                return None
            identity = f"{location}#{pointer}"
            if identity in active:
                self.issues.append(ConfigIssue(at, f"circular reference {ref!r}"))
                return None
            target_folder, target_document = folder, document
            if file_part:
                target_folder = (folder / file_part).parent
                target_document = self._load(target_folder / Path(file_part).name, ref, at)
            target = self._point(target_document, pointer, ref, at)
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            resolved = self._walk(
                target, where, (*active, identity), target_document, target_folder
            )
            if isinstance(resolved, dict):
                return {**resolved, **self._walk(siblings, where, active, document, folder)}
            return resolved
        return {
            k: self._walk(v, f"{where}.{k}" if where else k, active, document, folder)
            for k, v in node.items()
        }

    def _load(self, path: Path, ref: str, at: str) -> Any:
        try:
            return read_document(path)
        except ConfigError as error:
            self.issues.append(ConfigIssue(at, f"cannot load {ref!r}: {error.issues[0].message}"))
            return None

    def _point(self, document: Any, pointer: str, ref: str, at: str) -> Any:
        for part in [p for p in pointer.split("/") if p]:
            key = part.replace("~1", "/").replace("~0", "~")
            if isinstance(document, list) and key.isdigit() and int(key) < len(document):
                document = document[int(key)]
            elif isinstance(document, dict) and key in document:
                document = document[key]
            else:
                self.issues.append(ConfigIssue(at, f"cannot resolve {ref!r}: nothing at {key!r}"))
                return None
        return document
