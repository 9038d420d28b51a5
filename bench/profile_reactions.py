"""Where a reaction's time goes on PostgreSQL: the statements the two workers send, per reaction.

Runs bench/reactions.py's PostgreSQL setup (two `altlas worker` processes, woken) against a
cluster that preloads `pg_stat_statements`, and prints the statements by total time with their
calls per reaction. Pair it with py-spy for the Python side:

    py-spy record --subprocesses --format raw -o /tmp/react.txt -- \\
        python bench/profile_reactions.py --url postgresql://…:55433/db

    python bench/profile_reactions.py --url URL [--requests N] [--top K]
"""

from __future__ import annotations

import argparse
import sys

import psycopg
from reactions import percentile, postgres

STATEMENTS = """
SELECT calls, total_exec_time, rows, query FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY total_exec_time DESC LIMIT %s
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a database whose cluster preloads "
                        "pg_stat_statements, with the extension created")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
    found = postgres(args.requests, True, args.url)
    every = [v for vs in found.values() for v in vs]
    for pair, values in sorted(found.items()):
        print(f"{pair:<40} p50 {percentile(values, .5):7.1f} ms  p99 "
              f"{percentile(values, .99):7.1f} ms")
    print(f"{len(every)} reactions: p50 {percentile(every, .5):.1f} ms, "
          f"p99 {percentile(every, .99):.1f} ms")
    with psycopg.connect(args.url, autocommit=True) as conn:
        rows = conn.execute(STATEMENTS, (args.top,)).fetchall()
        calls, total = conn.execute(
            "SELECT sum(calls), sum(total_exec_time) FROM pg_stat_statements WHERE dbid = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())").fetchone()
    reactions = max(len(every), 1)
    print(f"all statements: {calls} calls ({calls / reactions:.1f} per reaction), "
          f"{total:.0f} ms in the server ({total / reactions:.2f} ms per reaction)")
    print(f"{'calls/reaction':>14} {'ms/reaction':>11} {'ms/call':>8}  statement")
    for count, spent, _rows, query in rows:
        text = " ".join(query.split())[:110]
        print(f"{count / reactions:>14.2f} {spent / reactions:>11.3f} {spent / count:>8.3f}"
              f"  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
