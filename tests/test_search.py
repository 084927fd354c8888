"""The search runner's loop on a fake executor (tests/fake_executor.py): parallel slots, reruns
of interrupted trials and their cap, kills, errors, failing fast, early stopping, Ctrl-C, the
events listeners hear, and the best trial. Trials run on a virtual clock: each test takes
milliseconds, where the e2e tests spend seconds on real worker processes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# the random method's library, loaded at collection: the first search would otherwise spend
# most of a second importing it (and scipy)
import hyperopt  # noqa: F401
import pytest

from hypermax.config import Config, config_from_dict
from hypermax.errors import Terminated
from hypermax.events import EventKind
from hypermax.execution.base import OutcomeKind, TrialRequest
from hypermax.search import Search, SearchResult, TrialsFailing
from hypermax.storage import SQLStorage, sqlite_url
from hypermax.trial import Trial, TrialStatus
from tests.fake_executor import FakeExecutor, error, hang, killed, result
from tests.method_spy import spy_on_method

NAME = "fake"
KILL_LOSS = 7.0
RERUNS_ALLOWED = 2  # a trial the search died under runs again twice; a third time it fails
SPACE = {"type": "object", "properties": {"x": {"type": "number", "min": -5, "max": 5}}}


def square(params: dict[str, float]) -> float:
    return (params["x"] - 1) ** 2


def make_config(tmp_path: Path, function: dict[str, Any] | None = None, **search: Any) -> Config:
    settings = {"name": NAME, "method": "random", "iterations": 10, "seed": 1, **search}
    data = {
        "hyperparameters": SPACE,
        "search": settings,
        "function": function or {"auto_kill_loss": KILL_LOSS},
    }
    return config_from_dict(data, base_dir=tmp_path, require_function=False)


@pytest.fixture
def storage() -> Iterator[SQLStorage]:
    with SQLStorage("sqlite://", NAME) as db:
        yield db


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    return tmp_path / "results" / NAME


def stored(results_dir: Path) -> dict[int, Trial]:
    """The trials a search left in its results folder's database."""
    with SQLStorage(sqlite_url(results_dir), NAME, create=False) as db:
        return {t.number: t for t in db.trials()}


def statuses(trials: Iterable[Trial]) -> dict[int, TrialStatus]:
    return {t.number: t.status for t in trials}


@dataclass
class Heard:
    """One event as a listener saw it when it came (the trial is a live object: copied)."""

    kind: EventKind
    finished: int
    total: int
    trial: int | None
    best: int | None
    status: TrialStatus | None
    last_report: list[float] | None


class Recorder:
    def __init__(self) -> None:
        self.heard: list[Heard] = []

    def __call__(self, event: Any) -> None:
        trial = event.trial
        self.heard.append(
            Heard(
                EventKind(event.kind),
                event.finished,
                event.total,
                trial.number if trial else None,
                event.best.number if event.best else None,
                trial.status if trial else None,
                list(trial.intermediate[-1]) if trial and trial.intermediate else None,
            )
        )

    def kinds(self, *only: EventKind) -> list[EventKind]:
        return [h.kind for h in self.heard if not only or h.kind in only]

    def of(self, kind: EventKind) -> list[Heard]:
        return [h for h in self.heard if h.kind is kind]


# --- the fake itself ---------------------------------------------------------------------------


def request(number: int, x: float = 0.0) -> TrialRequest:
    return TrialRequest(number, {"x": x}, Path(f"trial-{number}.log"))


def test_the_fake_refuses_more_trials_than_its_capacity() -> None:
    fake = FakeExecutor(square, capacity=2)
    fake.start()
    fake.submit(request(1))
    fake.submit(request(2))
    with pytest.raises(AssertionError, match="more than capacity 2"):
        fake.submit(request(3))
    assert fake.max_running == 2


def test_the_fake_plays_scripts_on_a_virtual_clock_in_order() -> None:
    scripts = {1: result(1.0, duration=3), 2: result(2.0, reports=[(0, 5.0)]), 3: hang()}
    fake = FakeExecutor(capacity=3, scripts=scripts)
    fake.start()
    for number in (1, 2, 3):
        fake.submit(request(number))
    assert fake.wait(0.5) == [] and fake.now == 0.5  # nothing due: the timeout passes
    assert fake.wait(5) == [] and fake.now == 1.0  # trial 2's report
    assert [(r.number, r.step, r.value) for r in fake.reports()] == [(2, 0, 5.0)]
    (second,) = fake.wait(5)
    assert (second.number, second.kind, second.value, fake.now) == (2, OutcomeKind.RESULT, 2, 2)
    (first,) = fake.wait(5)
    assert (first.number, first.measured_time) == (1, 3.0)
    assert fake.stop() == [3]
    assert fake.in_flight == []


def test_the_fake_prunes_at_the_next_report_and_turns_exceptions_into_errors() -> None:
    def model(params: dict[str, float]) -> Any:
        if params["x"] < 0:
            raise ValueError("negative")
        return result(params["x"], reports=[(0, 1.0), (1, 0.5), (2, 0.25)])

    fake = FakeExecutor(model, capacity=2)
    fake.start()
    fake.submit(request(1, 1.0))
    fake.submit(request(2, -1.0))
    (failed,) = fake.wait(1)  # at 1 s: trial 2 ends, trial 1 reports step 0
    assert (failed.number, failed.kind, failed.error) == (
        2,
        OutcomeKind.ERROR,
        "ValueError: negative",
    )
    assert 'raise ValueError("negative")' in (failed.traceback or "")
    assert [(r.number, r.step) for r in fake.reports()] == [(1, 0)]
    fake.prune(1)
    outcomes = fake.wait(5)
    assert [(o.number, o.kind, o.measured_time) for o in outcomes] == [
        (1, OutcomeKind.PRUNED, 2.0)
    ]
    assert fake.reports() == []  # the pruned step is not reported
    assert fake.prune_calls == [1]


# --- parallel slots ----------------------------------------------------------------------------


def test_parallel_slots_are_used_and_exactly_the_iterations_finish(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    config = make_config(tmp_path, parallel=3, iterations=10)
    fake = FakeExecutor(square, capacity=3)
    found = Search(config, executor=fake, storage=storage, results_dir=results_dir).run()

    assert fake.max_running == 3
    assert fake.numbers == list(range(1, 11))
    assert [t.number for t in found.trials] == list(range(1, 11))
    assert all(t.status is TrialStatus.OK for t in found.trials)
    assert [t.number for t in storage.trials() if t.status.finished] == list(range(1, 11))
    assert fake.now == 4.0  # ceil(10 / 3) rounds of one virtual second: all slots busy
    assert fake.start_calls == 1 and fake.stop_calls == [[]]


def test_a_slot_is_refilled_as_soon_as_its_trial_ends(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    config = make_config(tmp_path, parallel=2, iterations=6)
    fake = FakeExecutor(square, capacity=2, scripts={1: result(0.5, duration=10)})
    Search(config, executor=fake, storage=storage, results_dir=results_dir).run()

    # trial 1 holds one slot for 10 s; the other slot runs 2..6 back to back meanwhile
    assert fake.started_at == {1: 0.0, 2: 0.0, 3: 1.0, 4: 2.0, 5: 3.0, 6: 4.0}
    assert fake.now == 10.0


def test_each_trial_gets_the_params_the_method_chose(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    config = make_config(tmp_path, parallel=2, iterations=5)
    fake = FakeExecutor(square, capacity=2)
    found = Search(config, executor=fake, storage=storage, results_dir=results_dir).run()
    for trial in found.trials:
        assert fake.params_of(trial.number) == trial.params
        assert trial.loss == square(trial.params)
        assert trial.measured_time == 1.0  # the executor's measure, in virtual seconds
        assert trial.log_path == str(results_dir / "logs" / f"trial-{trial.number}.log")


# --- Ctrl-C and reruns -------------------------------------------------------------------------


def test_ctrl_c_interrupts_running_trials_stops_the_executor_and_reraises(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    config = make_config(tmp_path, parallel=3, iterations=10)
    fake = FakeExecutor(square, capacity=3, interrupt_after=4)
    search = Search(config, executor=fake, storage=storage, results_dir=results_dir)
    with pytest.raises(KeyboardInterrupt):
        search.run()

    assert fake.interrupted
    assert fake.stop_calls[0] == [5, 6, 7]  # the trials still running were ended
    assert fake.in_flight == []
    trials = {t.number: t for t in storage.trials()}
    assert statuses(trials.values()) == {
        **{n: TrialStatus.OK for n in (1, 2, 3, 4)},
        **{n: TrialStatus.INTERRUPTED for n in (5, 6, 7)},
    }
    for number in (1, 2, 3, 4):  # every finished trial is in storage, loss and all
        assert trials[number].loss == square(fake.params_of(number))
    for number in (5, 6, 7):
        assert trials[number].interruptions == 0  # Ctrl-C is never held against a trial
        assert trials[number].finished_at is not None
        assert trials[number].loss is None


def test_interrupted_trials_run_again_first_with_their_params(
    tmp_path: Path, results_dir: Path
) -> None:
    config = make_config(tmp_path, parallel=3, iterations=10)
    first = FakeExecutor(square, capacity=3, interrupt_after=4)
    with pytest.raises(KeyboardInterrupt):
        Search(config, executor=first, results_dir=results_dir).run()  # SQLite in the folder
    before = stored(results_dir)
    interrupted = [n for n, t in before.items() if t.status is TrialStatus.INTERRUPTED]
    assert interrupted == [5, 6, 7]

    second = FakeExecutor(square, capacity=3)
    found = Search(config, executor=second, results_dir=results_dir).run()

    assert second.numbers[:3] == interrupted  # the reruns come first
    assert second.numbers == list(range(5, 11))  # no finished trial runs again
    for number in interrupted:
        assert second.params_of(number) == first.params_of(number) == before[number].params
    after = stored(results_dir)
    assert sorted(n for n, t in after.items() if t.status.finished) == list(range(1, 11))
    assert [t.number for t in found.trials if t.status is TrialStatus.OK] == list(range(1, 11))
    for number in (1, 2, 3, 4):  # what finished before is kept as it was
        assert after[number].finished_at == before[number].finished_at
    csv_rows = (results_dir / "trials.csv").read_text("utf-8").splitlines()
    assert len(csv_rows) == 11


@pytest.mark.parametrize(
    "death",
    [Terminated, RuntimeError],  # SIGTERM (the CLI raises Terminated); a crash of the search
    ids=["sigterm", "crash"],
)
def test_a_trial_the_search_dies_under_three_times_is_failed_not_run_again(
    tmp_path: Path, storage: SQLStorage, results_dir: Path, death: type[BaseException]
) -> None:
    config = make_config(tmp_path, iterations=3)
    runs = []
    for attempt in range(1, RERUNS_ALLOWED + 2):
        fake = FakeExecutor(square, interrupt_after=0, interrupt_with=death("the search died"))
        with pytest.raises(death):
            Search(config, executor=fake, storage=storage, results_dir=results_dir).run()
        assert fake.numbers == [1]  # trial 1 is run again on every resume so far
        (trial,) = storage.trials()
        assert (trial.status, trial.interruptions) == (TrialStatus.INTERRUPTED, attempt)
        runs.append(fake)
    assert len({str(fake.params_of(1)) for fake in runs}) == 1

    fake = FakeExecutor(square)
    found = Search(config, executor=fake, storage=storage, results_dir=results_dir).run()

    assert fake.numbers == [2, 3]  # trial 1 is not run a fourth time
    poison = found.trials[0]
    assert poison.status is TrialStatus.FAILED
    assert "interrupted the search 3 times" in (poison.error or "")
    assert "not run again" in (poison.error or "")
    assert statuses(storage.trials()) == {
        1: TrialStatus.FAILED,
        2: TrialStatus.OK,
        3: TrialStatus.OK,
    }


def test_ctrl_c_under_a_trial_any_number_of_times_never_fails_it(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    config = make_config(tmp_path, iterations=2)
    for _ in range(RERUNS_ALLOWED + 2):
        fake = FakeExecutor(square, interrupt_after=0)
        with pytest.raises(KeyboardInterrupt):
            Search(config, executor=fake, storage=storage, results_dir=results_dir).run()
    fake = FakeExecutor(square)
    found = Search(config, executor=fake, storage=storage, results_dir=results_dir).run()
    assert fake.numbers == [1, 2]
    assert [(t.status, t.interruptions) for t in found.trials] == [(TrialStatus.OK, 0)] * 2


def test_running_the_same_search_again_after_ctrl_c_goes_on(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    config = make_config(tmp_path, parallel=3, iterations=10)
    fake = FakeExecutor(square, capacity=3, interrupt_after=4)
    search = Search(config, executor=fake, storage=storage, results_dir=results_dir)
    with pytest.raises(KeyboardInterrupt):
        search.run()
    found = search.run()  # "running it again continues where the last run stopped"
    assert fake.numbers == [1, 2, 3, 4, 5, 6, 7, 5, 6, 7, 8, 9, 10]
    assert [t.number for t in found.trials if t.status is TrialStatus.OK] == list(range(1, 11))


# --- kills, errors, failing fast ---------------------------------------------------------------


def test_a_killed_trial_gets_auto_kill_loss_and_the_method_learns_it(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    config = make_config(tmp_path, iterations=8)
    reason = "past auto_kill_max_time (1.0 s)"
    fake = FakeExecutor(square, scripts={2: killed(reason, duration=1.5), 5: killed(reason)})
    search = Search(config, executor=fake, storage=storage, results_dir=results_dir)
    spy = spy_on_method(search)
    found = search.run()

    killed_trials = [t for t in found.trials if t.status is TrialStatus.KILLED]
    assert [t.number for t in killed_trials] == [2, 5]
    for trial in killed_trials:
        assert trial.loss == KILL_LOSS
        assert trial.error == f"killed: {reason}"
    assert found.trials[1].measured_time == 1.5
    assert all(t.status is TrialStatus.OK for t in found.trials if t not in killed_trials)
    # one trial at a time: every suggestion after a kill saw it, with its loss
    for number in (2, 5):
        states = [seen[number] for seen in spy.seen if number in seen]
        assert states and set(states) == {(TrialStatus.KILLED, KILL_LOSS)}
    assert {(t.status, t.loss) for t in storage.trials() if t.number in (2, 5)} == {
        (TrialStatus.KILLED, KILL_LOSS)
    }


def test_errors_are_recorded_with_their_traceback_and_the_search_goes_on(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    def model(params: dict[str, float]) -> float:
        if params["x"] < 0:
            raise ValueError(f"negative x {params['x']}")
        return params["x"]

    config = make_config(tmp_path, iterations=10, initial=[{"x": 1}])
    no_loss = result({"accuracy": 0.5})  # the loss cannot be computed: failed too
    fake = FakeExecutor(model, scripts={4: no_loss})
    found = Search(config, executor=fake, storage=storage, results_dir=results_dir).run()

    assert len(found.trials) == 10 and all(t.status.finished for t in found.trials)
    raised = [t for t in found.trials if t.number != 4 and t.params["x"] < 0]
    assert raised, "the seed draws no negative x: pick another"
    for trial in raised:
        assert trial.status is TrialStatus.FAILED
        assert trial.loss is None
        assert trial.error == f"ValueError: negative x {trial.params['x']}"
        assert "Traceback" in (trial.traceback or "")
        assert 'raise ValueError(f"negative x' in (trial.traceback or "")
    no_loss_trial = found.trials[3]
    assert no_loss_trial.status is TrialStatus.FAILED
    assert "loss" in (no_loss_trial.error or "")
    ok = [t for t in found.trials if t.status is TrialStatus.OK]
    assert ok and all(t.params["x"] >= 0 for t in ok)
    assert {t.number: t.status for t in storage.trials()} == statuses(found.trials)


def test_the_first_five_trials_all_failing_stop_the_run_with_every_trial_recorded(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    def broken(params: dict[str, float]) -> float:
        raise ValueError("broken model")

    config = make_config(tmp_path, iterations=20)
    fake = FakeExecutor(broken)
    with pytest.raises(TrialsFailing, match="5 trials of this run failed") as caught:
        Search(config, executor=fake, storage=storage, results_dir=results_dir).run()

    assert "ValueError: broken model" in str(caught.value)
    assert isinstance(caught.value.result, SearchResult)
    assert [t.status for t in caught.value.result.trials] == [TrialStatus.FAILED] * 5
    assert caught.value.result.best is None
    assert fake.numbers == [1, 2, 3, 4, 5]
    assert [t.status for t in storage.trials()] == [TrialStatus.FAILED] * 5
    assert all(t.traceback and "broken model" in t.traceback for t in storage.trials())
    assert fake.stop_calls and fake.in_flight == []


def test_failing_fast_in_parallel_records_the_batch_and_interrupts_the_rest_uncounted(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    def broken(params: dict[str, float]) -> float:
        raise ValueError("broken model")

    config = make_config(tmp_path, iterations=20, parallel=3)
    fake = FakeExecutor(broken, capacity=3, scripts={6: hang()})
    with pytest.raises(TrialsFailing):
        Search(config, executor=fake, storage=storage, results_dir=results_dir).run()

    assert statuses(storage.trials()) == {
        **{n: TrialStatus.FAILED for n in (1, 2, 3, 4, 5)},
        6: TrialStatus.INTERRUPTED,
    }
    assert storage.trials()[5].interruptions == 0  # stopping early is never held against it
    assert fake.stop_calls[0] == [6]

    again = FakeExecutor(broken, capacity=3)
    with pytest.raises(TrialsFailing):
        Search(config, executor=again, storage=storage, results_dir=results_dir).run()
    assert again.numbers[0] == 6 and again.params_of(6) == fake.params_of(6)


def test_killed_trials_do_not_count_towards_failing_fast(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    config = make_config(tmp_path, iterations=8, stop_after_failures=1)
    fake = FakeExecutor(lambda params: killed("past auto_kill_max_ram (10 MiB)"))
    found = Search(config, executor=fake, storage=storage, results_dir=results_dir).run()
    assert [t.status for t in found.trials] == [TrialStatus.KILLED] * 8


def test_running_the_same_search_again_after_failing_fast_allows_five_more_failures(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    def broken(params: dict[str, float]) -> float:
        raise ValueError("broken model")

    fake = FakeExecutor(broken)
    config = make_config(tmp_path, iterations=20)
    search = Search(config, executor=fake, storage=storage, results_dir=results_dir)
    with pytest.raises(TrialsFailing):
        search.run()
    with pytest.raises(TrialsFailing):
        search.run()
    assert fake.numbers == list(range(1, 11))  # as a new Search (the CLI's way) runs them


# --- early stopping ----------------------------------------------------------------------------

# a trial's value at step s is its final value plus (2 - s) / 10: every trial improves
FINAL = {1: 1.0, 2: 3.0, 3: 5.0, 4: 0.5, 5: 4.0, 6: 2.0}


def reporting(final: float) -> Any:
    return result(final, reports=[(step, final + (2 - step) / 10) for step in range(3)])


def test_early_stopping_prunes_poor_trials_which_keep_their_last_value(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    config = make_config(
        tmp_path, iterations=6, early_stopping={"percentile": 50, "min_trials": 2}
    )
    fake = FakeExecutor(scripts={n: reporting(v) for n, v in FINAL.items()})
    found = Search(config, executor=fake, storage=storage, results_dir=results_dir).run()

    # 1, 2: nothing to compare with yet. 3 (5.2 at step 0) is worse than the median of 1.2
    # and 3.2; 4 beats the median at every step; 5 is worse at step 0; 6 at step 1 (2.1 vs
    # the median 1.1 of 1.1, 3.1 and 0.6).
    assert statuses(found.trials) == {
        1: TrialStatus.OK,
        2: TrialStatus.OK,
        3: TrialStatus.PRUNED,
        4: TrialStatus.OK,
        5: TrialStatus.PRUNED,
        6: TrialStatus.PRUNED,
    }
    assert fake.prune_calls == [3, 5, 6]
    by_number = {t.number: t for t in found.trials}
    for number in (3, 5, 6):
        trial = by_number[number]
        assert trial.loss == trial.intermediate[-1][1]
        assert len(trial.intermediate) < 3
    assert by_number[6].intermediate == [[0, 2.2], [1, 2.1]]
    for number in (1, 2, 4):
        trial = by_number[number]
        assert [step for step, _ in trial.intermediate] == [0, 1, 2]
        assert trial.loss == FINAL[number]
    assert {t.number: t.intermediate for t in storage.trials()} == {
        t.number: t.intermediate for t in found.trials
    }
    assert found.best is by_number[4]


def test_without_early_stopping_reports_are_saved_and_nothing_is_pruned(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    config = make_config(tmp_path, iterations=6)
    fake = FakeExecutor(scripts={n: reporting(v) for n, v in FINAL.items()})
    found = Search(config, executor=fake, storage=storage, results_dir=results_dir).run()
    assert all(t.status is TrialStatus.OK for t in found.trials)
    assert all(len(t.intermediate) == 3 for t in found.trials)
    assert fake.prune_calls == []


# --- events ------------------------------------------------------------------------------------

LIFECYCLE = (
    EventKind.STARTED,
    EventKind.TRIAL_STARTED,
    EventKind.TRIAL_FINISHED,
    EventKind.FINISHED,
)


def test_events_come_in_order_with_the_counts(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    config = make_config(tmp_path, iterations=4)
    recorder = Recorder()
    Search(
        config,
        executor=FakeExecutor(square),
        storage=storage,
        results_dir=results_dir,
        listeners=[recorder],
    ).run()

    per_trial = [EventKind.TRIAL_STARTED, EventKind.TRIAL_FINISHED]
    assert recorder.kinds(*LIFECYCLE) == [
        EventKind.STARTED,
        *per_trial * 4,
        EventKind.FINISHED,
    ]
    lifecycle = [h for h in recorder.heard if h.kind in LIFECYCLE]
    assert [(h.finished, h.total, h.trial) for h in lifecycle] == [
        (0, 4, None),
        (0, 4, 1),
        (1, 4, 1),
        (1, 4, 2),
        (2, 4, 2),
        (2, 4, 3),
        (3, 4, 3),
        (3, 4, 4),
        (4, 4, 4),
        (4, 4, None),
    ]
    started = recorder.of(EventKind.TRIAL_STARTED)
    assert {h.status for h in started} == {TrialStatus.RUNNING}


def test_events_in_parallel_start_each_trial_before_it_finishes(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    config = make_config(tmp_path, iterations=10, parallel=3)
    recorder = Recorder()
    Search(
        config,
        executor=FakeExecutor(square, capacity=3),
        storage=storage,
        results_dir=results_dir,
        listeners=[recorder],
    ).run()

    kinds = recorder.kinds()
    assert kinds[0] is EventKind.STARTED and kinds[-1] is EventKind.FINISHED
    assert kinds.count(EventKind.STARTED) == kinds.count(EventKind.FINISHED) == 1
    finishing = recorder.of(EventKind.TRIAL_FINISHED)
    assert [h.finished for h in finishing] == list(range(1, 11))
    assert all(h.total == 10 and h.status is TrialStatus.OK for h in finishing)
    starting = recorder.of(EventKind.TRIAL_STARTED)
    assert sorted(h.trial or 0 for h in starting) == list(range(1, 11))
    for number in range(1, 11):
        start = next(i for i, h in enumerate(recorder.heard) if h.trial == number)
        assert recorder.heard[start].kind is EventKind.TRIAL_STARTED
    in_flight, most = 0, 0  # as the listener sees it: three trials in flight at once
    for heard in recorder.heard:
        in_flight += {EventKind.TRIAL_STARTED: 1, EventKind.TRIAL_FINISHED: -1}.get(heard.kind, 0)
        most = max(most, in_flight)
    assert most == 3 and in_flight == 0


# the losses by trial number: the best improves at 1, 2 and 6 only; 3 fails, 5 is killed
# with a loss lower than any (a killed trial is never the best), 7 ties with 6 (the earlier
# one stays the best)
BEST_SCRIPTS = {
    1: result(5.0),
    2: result(3.0),
    3: error("ValueError: no"),
    4: result(4.0),
    5: killed("past auto_kill_max_time (1.0 s)"),
    6: result(1.0),
    7: result(1.0),
}


def best_config(tmp_path: Path) -> Config:
    return make_config(tmp_path, iterations=7, function={"auto_kill_loss": -100.0})


def test_best_changed_is_heard_only_when_the_best_improves(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    recorder = Recorder()
    Search(
        best_config(tmp_path),
        executor=FakeExecutor(scripts=BEST_SCRIPTS),
        storage=storage,
        results_dir=results_dir,
        listeners=[recorder],
    ).run()

    changes = recorder.of(EventKind.BEST_CHANGED)
    assert [(h.trial, h.best) for h in changes] == [(1, 1), (2, 2), (6, 6)]
    kinds = recorder.kinds()
    for change in changes:  # right after the trial_finished of the trial that became best
        index = recorder.heard.index(change)
        assert kinds[index - 1] is EventKind.TRIAL_FINISHED
        assert recorder.heard[index - 1].trial == change.trial
    finishing = recorder.of(EventKind.TRIAL_FINISHED)
    assert [h.best for h in finishing] == [1, 2, 2, 2, 2, 6, 6]
    assert recorder.heard[-1].best == 6


def test_a_resumed_search_starts_from_the_stored_best_and_counts(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    scripts = {1: result(2.0), 2: result(1.0), 3: result(3.0), 4: result(1.5), 5: result(0.5)}
    first = make_config(tmp_path, iterations=3)
    Search(
        first, executor=FakeExecutor(scripts=scripts), storage=storage, results_dir=results_dir
    ).run()

    recorder = Recorder()
    Search(
        make_config(tmp_path, iterations=5),
        executor=FakeExecutor(scripts=scripts),
        storage=storage,
        results_dir=results_dir,
        listeners=[recorder],
    ).run()

    started = recorder.heard[0]
    assert (started.kind, started.finished, started.total, started.best) == (
        EventKind.STARTED,
        3,
        5,
        2,
    )
    assert [(h.trial, h.finished) for h in recorder.of(EventKind.TRIAL_FINISHED)] == [
        (4, 4),
        (5, 5),
    ]
    assert [h.trial for h in recorder.of(EventKind.BEST_CHANGED)] == [5]  # not 4 (1.5 > 1.0)


def test_trial_reported_is_heard_for_each_saved_report(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    config = make_config(tmp_path, iterations=2)
    reports = [(0, 3.0), (1, 2.0), (2, 1.5)]
    recorder = Recorder()
    Search(
        config,
        executor=FakeExecutor(lambda params: result(1.5, reports=reports)),
        storage=storage,
        results_dir=results_dir,
        listeners=[recorder],
    ).run()

    reported = recorder.of(EventKind.TRIAL_REPORTED)
    assert [(h.trial, h.last_report) for h in reported] == [
        (n, [float(step), value]) for n in (1, 2) for step, value in reports
    ]
    assert (
        recorder.kinds(EventKind.TRIAL_STARTED, EventKind.TRIAL_REPORTED, EventKind.TRIAL_FINISHED)
        == [
            EventKind.TRIAL_STARTED,
            *[EventKind.TRIAL_REPORTED] * 3,
            EventKind.TRIAL_FINISHED,
        ]
        * 2
    )


def test_a_listener_that_raises_is_detached_and_the_search_completes(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    calls = []

    def broken(event: Any) -> None:
        calls.append(event)
        raise RuntimeError("the UI broke")

    recorder = Recorder()
    config = make_config(tmp_path, iterations=5, parallel=2)
    fake = FakeExecutor(square, capacity=2)
    found = Search(
        config,
        executor=fake,
        storage=storage,
        results_dir=results_dir,
        listeners=[broken, recorder],
    ).run()

    assert len(found.trials) == 5 and all(t.status is TrialStatus.OK for t in found.trials)
    assert len(calls) == 1  # told once, then detached
    kinds = recorder.kinds()
    assert kinds[0] is EventKind.STARTED and kinds[-1] is EventKind.FINISHED
    assert kinds.count(EventKind.TRIAL_FINISHED) == 5


def test_no_finished_event_after_ctrl_c_but_every_trial_finished_is_heard(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    config = make_config(tmp_path, iterations=10, parallel=3)
    recorder = Recorder()
    search = Search(
        config,
        executor=FakeExecutor(square, capacity=3, interrupt_after=4),
        storage=storage,
        results_dir=results_dir,
        listeners=[recorder],
    )
    with pytest.raises(KeyboardInterrupt):
        search.run()
    assert [h.trial for h in recorder.of(EventKind.TRIAL_FINISHED)] == [1, 2, 3, 4]
    assert EventKind.FINISHED not in recorder.kinds()


# --- the best ----------------------------------------------------------------------------------


def test_the_best_is_the_lowest_loss_ok_trial(
    tmp_path: Path, storage: SQLStorage, results_dir: Path
) -> None:
    fake = FakeExecutor(scripts=BEST_SCRIPTS)
    found = Search(
        best_config(tmp_path), executor=fake, storage=storage, results_dir=results_dir
    ).run()

    assert found.trials[4].status is TrialStatus.KILLED and found.trials[4].loss == -100.0
    assert found.best is found.trials[5]  # 6: lowest among ok, earliest of the tie with 7
    assert found.best_loss == 1.0
    assert found.best_params == fake.params_of(6)
    assert found.results_dir == results_dir
