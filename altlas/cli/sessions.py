"""The dashboard's sessions: ending every session of a person from the command line."""

from __future__ import annotations

import argparse

from altlas.bootstrap import System
from altlas.cli.common import answer, with_system


@with_system
def ui_sign_out(system: System, args: argparse.Namespace) -> int:
    ended = system.use_cases().end_sessions(args.actor, args.person)
    at = ended.at.strftime("%Y-%m-%d %H:%M:%S UTC")
    answer(args, ended.to_dict(),
           f"ended every dashboard session {ended.person} opened until {at}, on every "
           f"`altlas serve` of this store (recorded as DashboardSessionsEnded by {ended.by})\n"
           f"{ended.person}'s API token still signs in: if someone else may hold it, take its "
           f"hash out of api_tokens in the policy and give them a new one (`altlas token new "
           f"--for {ended.person}`)")
    return 0
