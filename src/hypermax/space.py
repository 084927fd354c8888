"""The search space: a small typed tree built from the `hyperparameters` schema.

Parameters travel in two forms. The *nested* form is exactly what the model receives. The *flat*
form maps dotted data paths (``model.c``, ``layers.0.units``) to values and is what storage,
optimizers and analysis use; a conditional branch adds ``<path>.$branch`` (the chosen branch's
index) so that the nested form can always be rebuilt from the flat one.
"""

from __future__ import annotations

import json
import math
import reprlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence, Sized
from dataclasses import dataclass
from typing import Any

import numpy as np

from hypermax.errors import ConfigError, ConfigIssue

BRANCH_KEY = "$branch"

# Documented limits: parameters nest at most this deep (the tree is walked recursively, by us and
# by the optimizers' libraries), and an enum lists at most this many values (Hyperopt builds a
# node per value: 10,000 take about 2 s to set up; more grow faster than linearly).
MAX_SPACE_DEPTH = 100
MAX_ENUM_VALUES = 10_000

Flat = dict[str, Any]


def shown(value: Any, limit: int = 200) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages that echo what was given
    (a value may be megabytes)."""
    short = reprlib.Repr()
    short.maxstring = short.maxother = limit
    short.maxlist = short.maxdict = 20
    text = short.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def join_path(parent: str, key: str | int) -> str:
    return f"{parent}.{key}" if parent else str(key)


# What a trial's flat form may hold beside parameters: its place in a method's schedule.
# The model receives the run keys (Hyperband's budget and the original Hypermax's
# loop/group/round), not the stage of staged tuning.
RUN_KEYS = ("$budget", "$loop", "$group", "$round")
STAGE_KEY = "$stage"
SCHEDULE_KEYS = (*RUN_KEYS, STAGE_KEY)


def without_run_keys(flat: Mapping[str, Any]) -> Flat:
    """The parameters of a flat form, without the schedule keys beside them."""
    return {key: value for key, value in flat.items() if key not in SCHEDULE_KEYS}


def run_values(flat: Mapping[str, Any]) -> Flat:
    """The run keys a flat form carries, with their values."""
    return {key: flat[key] for key in RUN_KEYS if key in flat}


def point_key(flat: Mapping[str, Any]) -> str:
    """A text naming the point a flat form stands for, schedule keys aside: equal for the same
    parameters tried twice (at two budgets, in two stages)."""
    return json.dumps(without_run_keys(flat), sort_keys=True, default=str)


def with_run_values(params: Any, flat: Mapping[str, Any]) -> Any:
    """The model's parameters plus the run keys the flat form carries (top level only)."""
    extra = run_values(flat)
    return {**params, **extra} if extra and isinstance(params, dict) else params


_KINDS = {"number": "a number", "object": "an object", "array": "a list"}


class ValueProblem(ValueError):
    """A value the space does not allow at one parameter. The message names the parameter, the
    value and what is allowed; it is built only when shown (trying values against the branches
    of a space fails often, and must stay cheap)."""

    def __init__(self, node: Node, value: Any, reason: str):
        super().__init__(node.path, value, reason)
        self.node, self.value, self.reason = node, value, reason

    def __str__(self) -> str:
        node, value, name = self.node, shown(self.value, 80), self.node.path or "the parameters"
        if self.reason == "missing":
            return f"{name}: missing; give a value ({node.allowed()})"
        if self.reason == "range" and isinstance(node, NumberNode):
            low = "-inf" if node.low is None else node.low
            high = "inf" if node.high is None else node.high
            return f"{name}: {value} is outside [{low}, {high}]"
        if self.reason in _KINDS:
            return f"{name}: {value} is not {_KINDS[self.reason]}; give {node.allowed()}"
        if self.reason == "length" and isinstance(self.value, Sized):
            return f"{name}: {len(self.value)} items; give {node.allowed()}"
        if isinstance(node, BranchNode):
            return f"{name}: {value} matches none of its {len(node.branches)} branches"
        return f"{name}: {value} is not {node.allowed()}"


class Node(ABC):
    """One parameter (or group of parameters) of the space.

    ``path`` is the data path of the value (the flat key); ``label`` is unique in the whole space,
    even across conditional branches that reuse a name, and names the value inside optimizers.
    """

    def __init__(self, path: str, label: str):
        self.path = path
        self.label = label

    @abstractmethod
    def nested(self, flat: Mapping[str, Any]) -> Any:
        """Build the value the model receives from the flat form."""

    @abstractmethod
    def flatten(self, value: Any, flat: Flat) -> None:
        """Add this node's entries for a nested value to ``flat`` (inverse of ``nested``)."""

    @abstractmethod
    def cardinality(self) -> float:
        """How many distinct values this node can take (``inf`` for continuous ones)."""

    @abstractmethod
    def allowed(self) -> str:
        """What a value must be, in words, for messages: "an integer from 1 to 4"."""

    @abstractmethod
    def children(self) -> list[Node]:
        """Direct sub-nodes, for walking the tree."""

    @abstractmethod
    def default_flat(self, flat: Flat) -> None:
        """Add this node's default (or a central value) to ``flat``."""

    @abstractmethod
    def sample_flat(self, rng: np.random.Generator, flat: Flat) -> None:
        """Add a random draw from this node's prior (as Hyperopt would draw it) to ``flat``."""


class NumberNode(Node):
    """A real or integer number: linear or log scale, uniform/normal/randint draws, rounding."""

    def __init__(self, path: str, label: str, spec: Mapping[str, Any], integer: bool):
        super().__init__(path, label)
        self.low: float | None = spec.get("min")
        self.high: float | None = spec.get("max")
        scaling = spec.get("scaling", "linear")
        self.log = scaling in ("logarithmic", "exponential")
        self.mode: str = spec.get("mode", "uniform")
        self.mean: float | None = spec.get("mean")
        self.stddev: float | None = spec.get("stddev")
        rounding = spec.get("rounding")
        if integer and rounding is None:
            rounding = 1
        self.rounding: float | None = rounding
        self.integer = integer or (
            rounding is not None and float(rounding).is_integer() and rounding >= 1
        )
        if self.mode == "randint":
            self.integer = True
        self.default = spec.get("default")

    @property
    def unordered(self) -> bool:
        """Whether this is a ``randint``: integers whose order means nothing, searched like
        the values of an enum."""
        return self.mode == "randint"

    def categories(self) -> list[int] | None:
        """A ``randint``'s values, where they are few enough to search like an enum's (at most
        MAX_ENUM_VALUES, the most an enum may list); None for a wider one, which the methods
        that model categories draw at random, and for any other number."""
        if not self.unordered or self.low is None or self.high is None:
            return None
        low, high = int(self.low), int(self.high)
        return list(range(low, high + 1)) if high - low < MAX_ENUM_VALUES else None

    def finish(self, raw: float) -> float | int:
        """Turn a raw draw into the value the model gets: rounded, clipped, typed."""
        value = float(raw)
        if self.rounding:
            decimals = max(0, -math.floor(math.log10(self.rounding))) + 2
            value = round(round(value / self.rounding) * self.rounding, decimals)
        if self.low is not None:
            value = max(value, float(self.low))
        if self.high is not None:
            value = min(value, float(self.high))
        return round(value) if self.integer else value

    def axis(self) -> tuple[float, float]:
        """The range searched, on the axis the parameter is searched on (log for log scale):
        its bounds, or mean ± 3 standard deviations for an unbounded normal."""
        if self.low is not None and self.high is not None:
            low, high = self.low, self.high
        else:
            assert self.mean is not None and self.stddev is not None
            center = math.log(self.mean) if self.log else self.mean
            spread = 3 * self.stddev
            return center - spread, center + spread
        return (math.log(low), math.log(high)) if self.log else (low, high)

    def to_unit(self, value: float) -> float:
        """Where a value lies on [0, 1] along the searched axis."""
        low, high = self.axis()
        if self.log and value <= 0:
            return 0.0
        position = math.log(value) if self.log else float(value)
        return min(1.0, max(0.0, (position - low) / (high - low)))

    def from_unit(self, unit: float) -> float | int:
        """The parameter value at a position on [0, 1] (rounded and typed)."""
        low, high = self.axis()
        position = low + unit * (high - low)
        return self.finish(math.exp(position) if self.log else position)

    def nested(self, flat: Mapping[str, Any]) -> Any:
        return flat[self.path]

    def flatten(self, value: Any, flat: Flat) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueProblem(self, value, "number")
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise ValueProblem(self, value, "range")
        flat[self.path] = value

    def allowed(self) -> str:
        kind = "an integer" if self.integer else "a number"
        if self.low is not None and self.high is not None:
            return f"{kind} from {self.low} to {self.high}"
        if self.low is not None:
            return f"{kind} from {self.low}"
        if self.high is not None:
            return f"{kind} up to {self.high}"
        return kind

    def cardinality(self) -> float:
        if self.low is None or self.high is None:
            return math.inf
        if self.mode == "randint" or (self.integer and not self.rounding):
            return float(int(self.high) - int(self.low) + 1)
        if self.rounding:
            return float(math.floor((self.high - self.low) / self.rounding + 1e-9) + 1)
        return math.inf

    def children(self) -> list[Node]:
        return []

    def default_flat(self, flat: Flat) -> None:
        if self.default is not None:
            flat[self.path] = self.finish(self.default)
        elif self.mean is not None:
            flat[self.path] = self.finish(self.mean)
        elif self.log:
            flat[self.path] = self.finish(math.sqrt(self.low * self.high))  # type: ignore[operator]
        else:
            flat[self.path] = self.finish((self.low + self.high) / 2)  # type: ignore[operator]

    def sample_flat(self, rng: np.random.Generator, flat: Flat) -> None:
        if self.mode == "randint":
            flat[self.path] = self.finish(rng.integers(int(self.low), int(self.high) + 1))  # type: ignore[arg-type]
            return
        if self.mode == "normal":
            assert self.mean is not None and self.stddev is not None  # checked when parsed
            position = rng.normal(math.log(self.mean) if self.log else self.mean, self.stddev)
        else:
            position = rng.uniform(*self.axis())
        flat[self.path] = self.finish(math.exp(position) if self.log else position)


class ChoiceNode(Node):
    """One of a list of values (strings, numbers, booleans, null); the model gets the value."""

    def __init__(self, path: str, label: str, values: list[Any], default: Any = None):
        super().__init__(path, label)
        self.values = values
        self.default = default

    def index(self, value: Any) -> int:
        for position, candidate in enumerate(self.values):
            if candidate == value and type(candidate) is type(value):
                return position
        return self.values.index(value)

    def nested(self, flat: Mapping[str, Any]) -> Any:
        return flat[self.path]

    def flatten(self, value: Any, flat: Flat) -> None:
        try:
            self.index(value)
        except ValueError:
            raise ValueProblem(self, value, "choice") from None
        flat[self.path] = value

    def allowed(self) -> str:
        listed = ", ".join(shown(value, 40) for value in self.values[:20])
        if len(self.values) > 20:
            listed += f", ... ({len(self.values):,} values)"
        return f"one of {listed}"

    def cardinality(self) -> float:
        return float(len(self.values))

    def children(self) -> list[Node]:
        return []

    def default_flat(self, flat: Flat) -> None:
        flat[self.path] = self.values[0] if self.default is None else self.default

    def sample_flat(self, rng: np.random.Generator, flat: Flat) -> None:
        flat[self.path] = self.values[int(rng.integers(len(self.values)))]


class ConstantNode(Node):
    """A fixed value, passed through unchanged."""

    def __init__(self, path: str, label: str, value: Any):
        super().__init__(path, label)
        self.value = value

    def nested(self, flat: Mapping[str, Any]) -> Any:
        return self.value

    def flatten(self, value: Any, flat: Flat) -> None:
        if value != self.value:
            raise ValueProblem(self, value, "constant")
        flat[self.path] = self.value

    def allowed(self) -> str:
        return f"the constant {shown(self.value, 80)}"

    def cardinality(self) -> float:
        return 1.0

    def children(self) -> list[Node]:
        return []

    def default_flat(self, flat: Flat) -> None:
        flat[self.path] = self.value

    def sample_flat(self, rng: np.random.Generator, flat: Flat) -> None:
        flat[self.path] = self.value


class ObjectNode(Node):
    """A dict of named sub-parameters."""

    def __init__(self, path: str, label: str, properties: dict[str, Node]):
        super().__init__(path, label)
        self.properties = properties

    def nested(self, flat: Mapping[str, Any]) -> Any:
        return {key: node.nested(flat) for key, node in self.properties.items()}

    def flatten(self, value: Any, flat: Flat) -> None:
        if not isinstance(value, Mapping):
            raise ValueProblem(self, value, "object")
        for key, node in self.properties.items():
            if key not in value:
                raise ValueProblem(node, None, "missing")
            node.flatten(value[key], flat)

    def allowed(self) -> str:
        if not self.properties:
            return "an empty object"
        return f"an object with {', '.join(shown(key, 40) for key in self.properties)}"

    def cardinality(self) -> float:
        return math.prod(node.cardinality() for node in self.properties.values())

    def children(self) -> list[Node]:
        return list(self.properties.values())

    def default_flat(self, flat: Flat) -> None:
        for node in self.properties.values():
            node.default_flat(flat)

    def sample_flat(self, rng: np.random.Generator, flat: Flat) -> None:
        for node in self.properties.values():
            node.sample_flat(rng, flat)


class BranchNode(Node):
    """A conditional choice between sub-spaces (``anyOf``/``oneOf``)."""

    def __init__(self, path: str, label: str, branches: list[Node], depth: int = 0):
        super().__init__(path, label)
        self.branches = branches
        self.depth = depth  # branches directly inside branches share a path, not a key

    @property
    def branch_key(self) -> str:
        return join_path(self.path, BRANCH_KEY + (str(self.depth + 1) if self.depth else ""))

    def nested(self, flat: Mapping[str, Any]) -> Any:
        return self.branches[int(flat[self.branch_key])].nested(flat)

    def flatten(self, value: Any, flat: Flat) -> None:
        for position, branch in enumerate(self.branches):
            attempt: Flat = {}
            try:
                branch.flatten(value, attempt)
            except (KeyError, TypeError, IndexError, ValueError):
                continue
            if branch.nested(attempt) == value:
                flat[self.branch_key] = position
                flat.update(attempt)
                return
        raise ValueProblem(self, value, "branch")

    def allowed(self) -> str:
        return " or ".join(dict.fromkeys(branch.allowed() for branch in self.branches))

    def cardinality(self) -> float:
        return sum(branch.cardinality() for branch in self.branches)

    def children(self) -> list[Node]:
        return list(self.branches)

    def default_flat(self, flat: Flat) -> None:
        flat[self.branch_key] = 0
        self.branches[0].default_flat(flat)

    def sample_flat(self, rng: np.random.Generator, flat: Flat) -> None:
        position = int(rng.integers(len(self.branches)))
        flat[self.branch_key] = position
        self.branches[position].sample_flat(rng, flat)


class ArrayNode(Node):
    """A list of ``min_items``..``max_items`` items; item ``i`` has one node for every length."""

    def __init__(self, path: str, label: str, items: list[Node], min_items: int):
        super().__init__(path, label)
        self.items = items
        self.min_items = min_items

    @property
    def max_items(self) -> int:
        return len(self.items)

    def length(self, flat: Mapping[str, Any]) -> int:
        """The list length recorded in a flat form: the number of item indexes present."""
        prefix = self.path + "." if self.path else ""
        indexes = {key[len(prefix) :].split(".", 1)[0] for key in flat if key.startswith(prefix)}
        return max(self.min_items, sum(1 for i in range(self.max_items) if str(i) in indexes))

    def nested(self, flat: Mapping[str, Any]) -> Any:
        return [self.items[i].nested(flat) for i in range(self.length(flat))]

    def flatten(self, value: Any, flat: Flat) -> None:
        if not isinstance(value, list):
            raise ValueProblem(self, value, "array")
        if not self.min_items <= len(value) <= self.max_items:
            raise ValueProblem(self, value, "length")
        for node, item in zip(self.items, value, strict=False):
            node.flatten(item, flat)

    def allowed(self) -> str:
        count = (
            str(self.max_items)
            if self.min_items == self.max_items
            else f"{self.min_items} to {self.max_items}"
        )
        item = self.items[0].allowed() if self.items else "nothing"
        return f"a list of {count} items, each {item}"

    def cardinality(self) -> float:
        total = 0.0
        for length in range(self.min_items, self.max_items + 1):
            total += math.prod(node.cardinality() for node in self.items[:length])
        return total

    def children(self) -> list[Node]:
        return list(self.items)

    def default_flat(self, flat: Flat) -> None:
        for node in self.items[: self.min_items]:
            node.default_flat(flat)

    def sample_flat(self, rng: np.random.Generator, flat: Flat) -> None:
        for node in self.items[: int(rng.integers(self.min_items, self.max_items + 1))]:
            node.sample_flat(rng, flat)


@dataclass
class Space:
    """The whole search space, with conversions between nested and flat parameters."""

    root: Node

    @classmethod
    def from_schema(cls, schema: Mapping[str, Any]) -> Space:
        """Parse a ``hyperparameters`` schema; raises ConfigError listing every problem."""
        too_deep = depth_issue(schema)
        if too_deep is not None:
            raise ConfigError(too_deep)
        issues: list[ConfigIssue] = []
        root = _Parser(issues).parse(schema, "", "", "hyperparameters")
        if issues:
            raise ConfigError(list(dict.fromkeys(issues)))  # array items repeat their problems
        return cls(root=root)

    def nested(self, flat: Mapping[str, Any]) -> Any:
        """The parameters exactly as the model receives them."""
        return self.root.nested(flat)

    def model_params(self, flat: Mapping[str, Any]) -> Any:
        """What the model receives for a trial: its parameters, plus ``$budget`` and the other
        run keys when the method scheduled it (Hyperband)."""
        return with_run_values(self.nested(flat), flat)

    def flatten(self, nested: Any) -> Flat:
        """The flat form of nested parameters (inverse of ``nested``)."""
        flat: Flat = {}
        self.root.flatten(nested, flat)
        return flat

    def default(self) -> Flat:
        """A flat parameter set of the ``default`` values (central values where none is given)."""
        flat: Flat = {}
        self.root.default_flat(flat)
        return flat

    def sample(self, rng: np.random.Generator, count: int) -> list[Flat]:
        """``count`` independent random flat sets, drawn as Hyperopt's random search would
        (but without its per-draw overhead: candidate pools of thousands are cheap)."""
        draws = []
        for _ in range(count):
            flat: Flat = {}
            self.root.sample_flat(rng, flat)
            draws.append(flat)
        return draws

    def fits(self, flat: Mapping[str, Any]) -> bool:
        """Whether a flat set (say, of a trial recorded before the config changed) is a point
        of this space: every value present, in range and allowed, and nothing extra (run keys
        such as ``$budget`` aside)."""
        flat = without_run_keys(flat)
        try:
            return self.flatten(self.nested(flat)) == flat
        except (KeyError, IndexError, TypeError, ValueError):
            return False

    def has_defaults(self) -> bool:
        """Whether the schema gives any ``default`` (then that set is worth trying first)."""
        return any(getattr(node, "default", None) is not None for node in self.nodes())

    def complete(self, partial: Any) -> Flat:
        """The flat form of a possibly partial nested set, missing values taken from the
        defaults; ValueError/KeyError/TypeError when it does not fit the space."""
        return self.flatten(_merged(self.nested(self.default()), partial))

    def unknown_keys(self, partial: Any) -> list[tuple[str, str, list[str]]]:
        """Keys of a nested (possibly partial) set that name no parameter, as (data path of
        the object, key, the keys it knows); a branch takes the one that fits best."""
        return _unknown_keys(self.root, partial)

    def cardinality(self) -> float:
        """Number of distinct parameter sets; ``inf`` when any parameter is continuous."""
        return self.root.cardinality()

    def tunable(self) -> list[Node]:
        """The parameters reachable through objects alone (what staged tuning can hold or
        tune one by one): numbers, enums, branches and lists, not constants."""
        found: list[Node] = []
        stack = [self.root]
        while stack:
            node = stack.pop(0)
            if isinstance(node, ObjectNode):
                stack[0:0] = list(node.properties.values())
            elif not isinstance(node, ConstantNode):
                found.append(node)
        return found

    def holding(self, tuned: Sequence[str], values: Any) -> Space:
        """This space with every parameter outside the ``tuned`` paths held at its value in
        the nested ``values``; ``tuned`` names objects or parameters of ``tunable()``."""
        return Space(root=_held(self.root, tuple(tuned), values))

    def nodes(self) -> list[Node]:
        """Every node, parents before children."""
        found: list[Node] = []
        stack = [self.root]
        while stack:
            node = stack.pop(0)
            found.append(node)
            stack[0:0] = node.children()
        return found

    def parameters(self) -> list[Node]:
        """The leaf nodes an optimizer chooses values for (constants excluded)."""
        return [node for node in self.nodes() if isinstance(node, (NumberNode, ChoiceNode))]


def _held(node: Node, tuned: tuple[str, ...], values: Any) -> Node:
    if any(_within(node.path, path) for path in tuned):
        return node
    if isinstance(node, ObjectNode) and any(_within(path, node.path) for path in tuned):
        properties = {
            key: _held(child, tuned, values[key]) for key, child in node.properties.items()
        }
        return ObjectNode(node.path, node.label, properties)
    return ConstantNode(node.path, node.label, values)


def depth_issue(schema: Any, where: str = "hyperparameters") -> ConfigIssue | None:
    """The first parameter nested more than MAX_SPACE_DEPTH levels below the top, found
    without recursion: parsing, validating and the optimizers' libraries all recurse."""
    stack: list[tuple[Any, int, str]] = [(schema, 0, where)]
    while stack:
        spec, depth, at = stack.pop()
        if not isinstance(spec, Mapping):
            continue
        if depth > MAX_SPACE_DEPTH:
            return ConfigIssue(
                at,
                f"parameters nested more than {MAX_SPACE_DEPTH} levels deep (objects, lists "
                "and branches): flatten the space",
            )
        properties = spec.get("properties")
        if isinstance(properties, Mapping):
            inside = join_path(at, "properties")
            stack += [(sub, depth + 1, join_path(inside, key)) for key, sub in properties.items()]
        if "items" in spec:
            stack.append((spec["items"], depth + 1, join_path(at, "items")))
        for keyword in ("anyOf", "oneOf"):
            if isinstance(spec.get(keyword), list):
                stack += [
                    (sub, depth + 1, f"{at}.{keyword}.{i}") for i, sub in enumerate(spec[keyword])
                ]
    return None


def _unknown_keys(node: Node, value: Any) -> list[tuple[str, str, list[str]]]:
    if isinstance(node, ObjectNode) and isinstance(value, Mapping):
        found = [
            (node.path, str(key), list(node.properties))
            for key in value
            if key not in node.properties
        ]
        for key, child in node.properties.items():
            if key in value:
                found += _unknown_keys(child, value[key])
        return found
    if isinstance(node, BranchNode):
        per_branch = [_unknown_keys(branch, value) for branch in node.branches]
        known: dict[str, dict[str, None]] = {}  # what any branch knows, for the suggestions
        for entries in per_branch:
            for path, _, keys in entries:
                known.setdefault(path, {}).update(dict.fromkeys(keys))
        return [(path, key, list(known[path])) for path, key, _ in min(per_branch, key=len)]
    if isinstance(node, ArrayNode) and isinstance(value, list):
        return [
            found
            for item, element in zip(node.items, value, strict=False)
            for found in _unknown_keys(item, element)
        ]
    return []


def _finite(value: float) -> bool:
    """Whether a number is one a float can hold (JSON integers may be far larger)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _within(path: str, ancestor: str) -> bool:
    return not ancestor or path == ancestor or path.startswith(ancestor + ".")


def _merged(base: Any, override: Any) -> Any:
    """``override`` laid over ``base``: dicts merge key by key, anything else replaces."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        return {**base, **{k: _merged(base.get(k), v) for k, v in override.items()}}
    return override


class _Parser:
    """Builds nodes from schema dicts, collecting every problem with its config path."""

    def __init__(self, issues: list[ConfigIssue]):
        self.issues = issues
        self.branch_depth: dict[str, int] = {}

    def fail(self, where: str, message: str) -> None:
        self.issues.append(ConfigIssue(where, message))

    def parse(self, spec: Any, path: str, label: str, where: str) -> Node:
        """Parse ``spec`` found at config path ``where`` into the node for data path ``path``."""
        if not isinstance(spec, Mapping):
            if isinstance(spec, (str, int, float, bool)) or spec is None:
                return ConstantNode(path, label, spec)
            self.fail(where, f"expected a parameter definition (an object), got {shown(spec)}")
            return ConstantNode(path, label, None)
        if "constant" in spec:
            return ConstantNode(path, label, spec["constant"])
        for keyword in ("anyOf", "oneOf"):
            if keyword in spec:
                return self._branches(spec, keyword, path, label, where)
        if "enum" in spec:
            return self._choice(spec, path, label, where)
        kind = spec.get("type", "object" if "properties" in spec else None)
        if kind in ("number", "integer"):
            return self._number(spec, path, label, where, integer=kind == "integer")
        if kind == "object":
            return self._object(spec, path, label, where)
        if kind == "array":
            return self._array(spec, path, label, where)
        if kind in ("string", "boolean"):
            self.fail(where, f"a {kind} parameter needs an 'enum' list of the values to try")
        elif kind is None:
            self.fail(
                where,
                "cannot tell what this parameter is: give 'type' (number, integer, object, "
                "array), an 'enum', a 'constant', or 'anyOf' branches",
            )
        else:
            self.fail(
                where, f"unknown type {kind!r}; use number, integer, object, array or string"
            )
        return ConstantNode(path, label, None)

    def _object(self, spec: Mapping[str, Any], path: str, label: str, where: str) -> Node:
        properties = spec.get("properties", {})
        if not isinstance(properties, Mapping):
            self.fail(join_path(where, "properties"), "must be an object")
            return ObjectNode(path, label, {})
        nodes = {}
        for key, sub in properties.items():
            at = join_path(join_path(where, "properties"), key)
            if "." in key or key.startswith("$"):
                self.fail(at, "parameter names may not contain '.' or start with '$'")
                continue
            nodes[key] = self.parse(sub, join_path(path, key), join_path(label, key), at)
        return ObjectNode(path, label, nodes)

    def _branches(
        self, spec: Mapping[str, Any], keyword: str, path: str, label: str, where: str
    ) -> Node:
        options = spec[keyword]
        if not isinstance(options, list) or not options:
            self.fail(where, f"'{keyword}' must be a non-empty list of branches")
            return ConstantNode(path, label, None)
        depth = self.branch_depth.get(path, 0)
        self.branch_depth[path] = depth + 1
        branches = [
            self.parse(
                option, path, join_path(label, f"${position}"), f"{where}.{keyword}.{position}"
            )
            for position, option in enumerate(options)
        ]
        self.branch_depth[path] = depth
        return BranchNode(path, label, branches, depth)

    def _choice(self, spec: Mapping[str, Any], path: str, label: str, where: str) -> Node:
        values = spec["enum"]
        if not isinstance(values, list) or not values:
            self.fail(where, "'enum' must be a non-empty list of the values to try")
            return ConstantNode(path, label, None)
        if len(values) > MAX_ENUM_VALUES:
            self.fail(
                join_path(where, "enum"),
                f"{len(values):,} values; at most {MAX_ENUM_VALUES:,} are supported: use an "
                "integer parameter as an index into your own list instead",
            )
            return ConstantNode(path, label, None)
        default = spec.get("default")
        if default is not None and default not in values:
            self.fail(
                where, f"default {shown(default)} is not one of the enum values {shown(values)}"
            )
        return ChoiceNode(path, label, list(values), default)

    def _number(
        self, spec: Mapping[str, Any], path: str, label: str, where: str, integer: bool
    ) -> Node:
        for key in ("min", "max", "mean", "stddev", "rounding", "default"):
            value = spec.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float))
            ):
                self.fail(join_path(where, key), f"must be a number, got {shown(value)}")
                return ConstantNode(path, label, None)
            if value is not None and not _finite(value):
                self.fail(join_path(where, key), f"must be a finite number, got {shown(value)}")
                return ConstantNode(path, label, None)
        low, high, mode = spec.get("min"), spec.get("max"), spec.get("mode", "uniform")
        if low is not None and high is not None and not _finite(float(high) - float(low)):
            self.fail(where, f"the range from {low} to {high} is too wide to draw numbers from")
            return ConstantNode(path, label, None)
        if mode == "randint" and max(abs(low or 0), abs(high or 0)) >= 2**62:
            self.fail(where, "mode 'randint' needs min and max between -2**62 and 2**62")
            return ConstantNode(path, label, None)
        scaling = spec.get("scaling", "linear")
        if mode not in ("uniform", "normal", "randint"):
            self.fail(
                join_path(where, "mode"), f"unknown mode {mode!r}; use uniform, normal or randint"
            )
        if scaling not in ("linear", "logarithmic", "exponential"):
            self.fail(
                join_path(where, "scaling"),
                f"unknown scaling {scaling!r}; use linear or logarithmic",
            )
        if mode == "normal":
            if spec.get("mean") is None or spec.get("stddev") is None:
                self.fail(where, "mode 'normal' needs 'mean' and 'stddev'")
            elif spec["stddev"] <= 0:
                self.fail(join_path(where, "stddev"), f"must be above 0, got {spec['stddev']}")
        elif low is None or high is None:
            missing = " and ".join(k for k in ("min", "max") if spec.get(k) is None)
            self.fail(
                where, f"a number parameter needs {missing} (or mode 'normal' with mean/stddev)"
            )
        if low is not None and high is not None and low >= high:
            self.fail(where, f"min ({low}) must be below max ({high})")
        mean = spec.get("mean")
        if scaling != "linear" and mode == "normal" and mean is not None and mean <= 0:
            self.fail(
                join_path(where, "mean"), f"logarithmic scaling needs mean above 0, got {mean}"
            )
        if scaling != "linear" and mode != "normal" and low is not None and low <= 0:
            self.fail(join_path(where, "min"), f"logarithmic scaling needs min above 0, got {low}")
        if spec.get("rounding") is not None and spec["rounding"] <= 0:
            self.fail(join_path(where, "rounding"), f"must be above 0, got {spec['rounding']}")
        default = spec.get("default")
        if (
            default is not None
            and low is not None
            and high is not None
            and not low <= default <= high
        ):
            self.fail(join_path(where, "default"), f"{default} is outside [{low}, {high}]")
        return NumberNode(path, label, spec, integer)

    def _array(self, spec: Mapping[str, Any], path: str, label: str, where: str) -> Node:
        items = spec.get("items")
        if items is None:
            self.fail(where, "an array parameter needs 'items' (the definition of one item)")
            return ConstantNode(path, label, None)
        min_items = spec.get("minItems", 1)
        max_items = spec.get("maxItems", min_items)
        if not isinstance(min_items, int) or not isinstance(max_items, int) or min_items < 0:
            self.fail(where, "minItems and maxItems must be whole numbers, 0 or more")
            return ConstantNode(path, label, None)
        if min_items > max_items:
            self.fail(where, f"minItems ({min_items}) must not exceed maxItems ({max_items})")
            return ConstantNode(path, label, None)
        if max_items > 64:
            self.fail(
                join_path(where, "maxItems"), f"at most 64 items are supported, got {max_items}"
            )
            return ConstantNode(path, label, None)
        nodes = [
            self.parse(items, join_path(path, i), f"{label}[{i}]", join_path(where, "items"))
            for i in range(max_items)
        ]
        return ArrayNode(path, label, nodes, min_items)
