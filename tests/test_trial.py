"""The trial lifecycle: the only way a trial's status changes, and the transitions it refuses."""

from __future__ import annotations

from datetime import timezone

import pytest

from hypermax.trial import ALLOWED, IllegalTransition, Trial, TrialStatus


def new_trial() -> Trial:
    return Trial(1, {"x": 1.0}, {"x": 1.0})


def started() -> Trial:
    trial = new_trial()
    trial.start("trial-1.log")
    return trial


def test_a_new_trial_starts_running_with_its_log() -> None:
    trial = started()
    assert trial.status is TrialStatus.RUNNING
    assert trial.started_at is not None and trial.finished_at is None
    assert trial.started_at.tzinfo is timezone.utc  # an instant, whatever the machine's zone
    assert trial.log_path == "trial-1.log"


@pytest.mark.parametrize(
    "ending", [TrialStatus.OK, TrialStatus.FAILED, TrialStatus.KILLED, TrialStatus.PRUNED]
)
def test_a_running_trial_finishes_once(ending: TrialStatus) -> None:
    trial = started()
    trial.finish(ending, loss=0.5, error="why")
    assert (trial.status, trial.loss, trial.error) == (ending, 0.5, "why")
    assert trial.finished_at is not None
    with pytest.raises(IllegalTransition, match=f"from {ending.value} to ok"):
        trial.finish(TrialStatus.OK, loss=0.1)
    with pytest.raises(IllegalTransition, match=f"from {ending.value} to running"):
        trial.start()
    with pytest.raises(IllegalTransition):
        trial.interrupt(counted=False)
    assert (trial.status, trial.loss) == (ending, 0.5)


def test_an_ending_must_be_a_finished_status() -> None:
    trial = started()
    with pytest.raises(IllegalTransition, match="interrupted is not an ending"):
        trial.finish(TrialStatus.INTERRUPTED)
    assert trial.status is TrialStatus.RUNNING


def test_a_running_trial_cannot_start_again() -> None:
    trial = started()
    with pytest.raises(IllegalTransition, match="from running to running"):
        trial.start()


def test_an_interrupted_trial_runs_again_from_its_first_step() -> None:
    trial = started()
    trial.intermediate = [[1, 0.9], [2, 0.8]]
    trial.interrupt(counted=True)
    assert trial.status is TrialStatus.INTERRUPTED
    assert trial.finished_at is not None and trial.interruptions == 1
    with pytest.raises(IllegalTransition, match="from interrupted to interrupted"):
        trial.interrupt(counted=True)
    trial.start("again.log")
    assert trial.status is TrialStatus.RUNNING
    assert trial.finished_at is None and trial.intermediate == []
    assert trial.log_path == "again.log" and trial.interruptions == 1


def test_the_users_ctrl_c_is_not_held_against_a_trial() -> None:
    trial = started()
    trial.interrupt(counted=False)
    assert trial.interruptions == 0


def test_an_interrupted_trial_can_be_given_up_but_a_running_one_cannot() -> None:
    trial = started()
    with pytest.raises(IllegalTransition, match="trial 1 is running, not interrupted"):
        trial.give_up("no")
    trial.interrupt(counted=True)
    trial.give_up("interrupted the search 3 times")
    assert trial.status is TrialStatus.FAILED
    assert trial.error == "interrupted the search 3 times"


def test_the_table_allows_exactly_the_documented_moves() -> None:
    moves = {(a, b) for a, targets in ALLOWED.items() for b in targets}
    running, interrupted = TrialStatus.RUNNING, TrialStatus.INTERRUPTED
    endings = {TrialStatus.OK, TrialStatus.FAILED, TrialStatus.KILLED, TrialStatus.PRUNED}
    assert moves == {(running, s) for s in endings | {interrupted}} | {
        (interrupted, running),
        (interrupted, TrialStatus.FAILED),
    }
    assert set(ALLOWED) == set(TrialStatus)
