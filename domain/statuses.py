"""What listings of tasks and runs filter on, apart from the aggregates that have them, so
a read of the views checks a filter without importing the aggregates."""

from __future__ import annotations

from typing import Literal, get_args

TaskStatus = Literal["requested", "asking", "unanswered", "segmented", "rejected"]
TASK_STATUSES: tuple[str, ...] = get_args(TaskStatus)
# where a run is, or how it ended
RunStatus = Literal["running", "completed", "succeeded", "failed", "cancelled",
                    "manual_outstanding"]
RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)
