"""The reactions: what altlas does by itself after an event (ARCHITECTURE.md §5), one module per
area, all of them listed here.

Nothing after a command depends on which front took it or whether that process still lives:
every continuation is a reaction to a recorded event, listed in EVENT_HANDLERS. A reaction
decides and collects new events; it does no I/O of its own. The worker that ran it records
the new events together with the position of the event it reacted to (application.app
AltlasApplication.react), then does the I/O the reaction asked for: the steps it claimed.
What people are told follows the events too, from each chat front (application/conversation.py,
its table TOLD).
"""

from __future__ import annotations

from application.core import Reaction
from application.lanes import LANE_NAMES
from application.reactions.approvals import decided
from application.reactions.arena import count_duel_run, plan_duel
from application.reactions.common import Event, Handler, Ports
from application.reactions.incidents import clear_alert, correlate_alert, enrich_incident
from application.reactions.knowledge import watch_pattern
from application.reactions.runs import advance_run, start_run
from application.reactions.tasks import plan_task
from application.reactions.triggers import fire_on_incident, fire_on_pattern_low
from domain.alerts import Alert
from domain.approval import Approval
from domain.duel import Duel
from domain.incidents import Incident
from domain.knowledge import PatternWatch
from domain.run import Run, settled_outcome
from domain.task import Task

__all__ = ["EVENT_HANDLERS", "LANES", "SHARDS", "Event", "Handler", "Ports", "advance_run"]

def completed(event: Run.Completed | Run.ManualStepConfirmed, r: Reaction, ports: Ports
              ) -> None:
    """Once its outcome is settled (no work left to a person), a run counts."""
    outcome = settled_outcome(event.type_name, event.outcome)
    if outcome is not None:
        watch_pattern(event, outcome, r, ports)
        count_duel_run(event, r, ports)


# What happens after each event. Events not listed change nothing by themselves.
EVENT_HANDLERS: dict[type[Event], Handler] = {
    Task.Requested: plan_task,            # plan it, ask back, or reject it with the reason
    Task.Clarified: plan_task,            # plan it again with the answer
    Task.Segmented: start_run,            # start the run, unless the mode is dream
    Run.Started: advance_run,             # run what may run at once, open the waits
    Run.StepSucceeded: advance_run,       # what needed it may run now
    Run.StepFailed: advance_run,          # what needed it is skipped (a retry waits)
    Run.StepSkipped: advance_run,
    Run.StepInterrupted: advance_run,     # run it again (read-only) or stop the run
    Approval.Granted: decided,            # the gated step runs; or the person is forgotten
    Approval.Denied: decided,             # the gated step and what needs it are cancelled
    Approval.Expired: decided,
    Approval.Cancelled: decided,
    Run.Completed: completed,             # the .atlas watches its pattern; a duel counts it
    Run.ManualStepConfirmed: completed,   # the same, once the last manual step is done
    Duel.Requested: plan_duel,            # each side of an arena duel plans the request
    Alert.Received: correlate_alert,      # open an incident, or join (and merge) one
    Alert.Resolved: clear_alert,          # the incident resolves with its last alert
    Alert.Expired: clear_alert,           # over without a resolved notice: the same
    Incident.Opened: enrich_incident,     # its metrics, anomalies, incidents like it
    Incident.Enriched: fire_on_incident,  # triggers whose cause matches run their runbook
    PatternWatch.Low: fire_on_pattern_low,  # triggers on a failing pattern run theirs
}


# Planning may wait seconds for a model: it follows the events on a lane of its own, so votes
# and step results never queue behind it. Each lane keeps its own place in the events.
# Alerts have their own lane too: a storm of them never delays a run.
_PLANNING: frozenset[type[Event]] = frozenset({Task.Requested, Task.Clarified,
                                               Duel.Requested})


_ALERTS: frozenset[type[Event]] = frozenset({Alert.Received, Alert.Resolved, Alert.Expired})


# Enriching waits for Prometheus: on a lane of its own, so correlation never queues behind it.
_ENRICHING: frozenset[type[Event]] = frozenset({Incident.Opened})


_RUNS: frozenset[type[Event]] = frozenset(EVENT_HANDLERS) - _PLANNING - _ALERTS - _ENRICHING


# Runs are split in two by the aggregate an event belongs to, so that with two workers on
# PostgreSQL each follows one share and claims and runs the steps of its runs (a lane is
# followed by one worker at a time: application/lane_shares.py). "runs.1" starts where "runs"
# stood on a store from before the split. Workers sharing the lanes out keep them in this
# order, so the two shares of the runs fall to different workers.
LANES: dict[str, frozenset[type[Event]]] = dict(zip(
    LANE_NAMES, (_RUNS, _PLANNING, _ALERTS, _RUNS, _ENRICHING), strict=True))
SHARDS: dict[str, tuple[int, int]] = {"runs": (0, 2), "runs.1": (1, 2)}
