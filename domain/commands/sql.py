"""SQL clients (psql, mysql, sqlite3) and the code they are given: statements parsed with
sqlglot for what destroys data, and the shell commands a client or server runs for them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from domain.commands.context import Analysis, Context, Interpreter, Invocation
from domain.commands.model import Finding, change, destroys

if TYPE_CHECKING:  # sqlglot is imported when SQL is first read: a tenth of a second at start
    from sqlglot import exp

_DIALECTS = {"psql": "postgres", "mysql": "mysql", "sqlite3": "sqlite"}
_SHELL_ESCAPES = {
    # \! cmd; \o |cmd, \g |cmd, \w |cmd pipe output to a shell command
    "psql": re.compile(r"\\(?:!|(?:o|out|g|gx|w|write)\s*\|)([^\n]*)"),
    "mysql": re.compile(r"(?:^|[;\n])\s*(?:system|\\!)\s([^\n]*)", re.I),
    "sqlite3": re.compile(r"^\s*\.(?:(?:shell|system)\s|(?:output|once)\s+\|)([^\n]*)", re.M),
}
_COPY_PROGRAM = re.compile(r"\bPROGRAM\s+E?'((?:[^']|'')*)'", re.I)
_SQL_DESTROYING_WORDS = re.compile(r"\b(DROP|TRUNCATE|DELETE|UPDATE)\b", re.I)
# Destructive SQL inside a string or a block (DO $$ ... EXECUTE '...' $$, dblink_exec).
_HIDDEN_SQL = re.compile(r"\b(?:DROP|TRUNCATE)\s+\w|\bDELETE\s+FROM\b|\bUPDATE\s+\S+\s+SET\b",
                         re.I)


def _shell_escapes(text: str, client: str) -> Iterator[str]:
    """Shell commands a SQL client or server runs for the text (\\!, COPY ... PROGRAM)."""
    for match in _SHELL_ESCAPES[client].finditer(text):
        yield match.group(1)
    for match in _COPY_PROGRAM.finditer(text):
        yield match.group(1).replace("''", "'")


def _strip_meta(text: str, client: str) -> str:
    """The SQL without the client's own commands (psql's \\x, mysql's \\G, sqlite's .x);
    psql's \\\\ ends a meta-command's arguments and goes back to SQL."""
    if client == "psql":
        return re.sub(r"\\\S+[^\n]*", " ", text.replace("\\\\", "\n"))
    if client == "mysql":
        return re.sub(r"\\.|(?:^|(?<=[;\n]))\s*system\s[^\n]*", ";", text, flags=re.I)
    return re.sub(r"^\s*\.[^\n]*", " ", text, flags=re.M)


def _destructive_sql(node: exp.Expression) -> str | None:
    """What makes a statement destructive: DROP, TRUNCATE, DELETE or UPDATE without a WHERE
    (a WHERE that names no column, like ``WHERE 1=1``, is no WHERE at all)."""
    from sqlglot import exp

    if isinstance(node, exp.Drop):
        return f"DROP {node.args.get('kind') or ''}".strip()
    if isinstance(node, exp.TruncateTable):
        return "TRUNCATE"
    if isinstance(node, exp.Delete | exp.Update):
        where = node.args.get("where")
        if where is None or where.find(exp.Column) is None:
            return f"{type(node).__name__.upper()} without WHERE"
        return None
    if isinstance(node, exp.Command):
        word = str(node.this).upper()
        if word in ("DROP", "TRUNCATE"):
            return word
        return f"{word} with destructive SQL inside" if _HIDDEN_SQL.search(node.sql()) else None
    if isinstance(node, exp.Literal):
        hidden = node.is_string and _HIDDEN_SQL.search(str(node.this))
        return "text inside a string that reads as DROP, TRUNCATE, DELETE or UPDATE" if (
            hidden) else None
    if isinstance(node, exp.Merge) and "THEN DELETE" in node.sql().upper():
        return "MERGE ... THEN DELETE"
    return None


def _sql(an: Analysis, text: str, client: str, ctx: Context, *,
         destructive_only: bool = False) -> list[Finding]:
    """What a SQL client's inline code does: destructive statements, shell escapes."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    found: list[Finding] = []
    for code in _shell_escapes(text, client):
        an.shell(code, ctx.under(client, keep_stdin=False))
        found.append(change(f"{client} runs the shell command {code.strip()[:60]!r}"))
    statements = _strip_meta(text, client)
    destroying = _SQL_DESTROYING_WORDS.search(text)
    if statements != text and destroying:
        # client commands can build and run SQL (\gexec, :variables): no guessing
        found.append(destroys(f"{client} mixes client commands with "
                              f"{destroying.group(1).upper()}: destructive"))
        return found
    try:
        parsed = [s for s in sqlglot.parse(statements, read=_DIALECTS[client]) if s]
    except SqlglotError:
        if destroying:
            found.append(destroys(f"{client} runs SQL that cannot be parsed and names "
                                  f"{destroying.group(1).upper()}: destructive"))
        elif not destructive_only:
            found.append(change(f"{client} runs SQL that cannot be parsed"))
        return found
    for statement in parsed:
        for node in statement.find_all(exp.Drop, exp.TruncateTable, exp.Delete,
                                       exp.Update, exp.Command, exp.Merge, exp.Literal):
            what = _destructive_sql(node)
            if what:
                found.append(destroys(f"SQL {what} is destructive ({client})"))
    return found


def _psql(an: Analysis, inv: Invocation, ctx: Context) -> list[Finding]:
    found = [change("psql runs SQL")]
    for key, value in inv.parsed.options:
        if value is None:
            continue
        if key == "-c":
            found += _sql(an, value, "psql", ctx)
        elif key == "-v" and "=" in value:  # psql -v q='DROP ...' -c ':q'
            found += _sql(an, value.split("=", 1)[1], "psql", ctx, destructive_only=True)
        elif key in ("-o", "-L") and value.startswith("|"):
            an.shell(value[1:], ctx.under("psql", keep_stdin=False))
            found.append(change(f"psql pipes its output to {value[1:]!r}"))
    if not inv.keys & {"-c", "-f"} and ctx.stdin is not None:
        found += _sql(an, ctx.stdin, "psql", ctx)
    return found


def _mysql(an: Analysis, inv: Invocation, ctx: Context) -> list[Finding]:
    found = [change(f"{inv.name} runs SQL")]
    for sql in inv.parsed.values("-e", "--init-command"):
        found += _sql(an, sql, "mysql", ctx)
    if "-e" not in inv.keys and ctx.stdin is not None:
        found += _sql(an, ctx.stdin, "mysql", ctx)
    return found


_SQLITE_VALUES = {"cmd": 1, "init": 1, "separator": 1, "newline": 1, "nullvalue": 1,
                  "vfs": 1, "mmap": 1, "maxsize": 1, "escape": 1, "heap": 2,
                  "lookaside": 2, "pagecache": 2}


def _sqlite3(an: Analysis, inv: Invocation, ctx: Context) -> list[Finding]:
    found = [change("sqlite3 runs SQL")]
    sql: list[str] = []
    database: str | None = None
    args, i = inv.args, 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg.startswith("-") and len(arg) > 1:
            option = arg.lstrip("-")
            if option == "cmd" and i < len(args):
                sql.append(args[i])
            elif option == "init" and i < len(args):
                found.append(change(f"sqlite3 -init runs {args[i]}"))
            i += _SQLITE_VALUES.get(option, 0)
        elif database is None:
            database = arg
        else:
            sql.append(arg)
    if not sql and ctx.stdin is not None:
        sql.append(ctx.stdin)
    for text in sql:
        found += _sql(an, text, "sqlite3", ctx)
    return found


CLIENTS: dict[str, Interpreter] = {
    "psql": _psql,
    "mysql": _mysql,
    "mariadb": _mysql,
    "sqlite3": _sqlite3,
}
