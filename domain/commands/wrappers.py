"""Wrappers: programs that run another program (sudo, env, timeout, xargs, chroot, su -c
...). The program they run is what counts, with whatever the wrapper adds to it."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Sequence

from domain.commands.context import Analysis, Context
from domain.commands.model import Finding, Program, change
from domain.commands.options import Spec, getopt, parse
from domain.commands.words import env_findings, split_assignments
from domain.risk import Effect

Wrapper = Callable[[Analysis, str, list[str], Context], None]


def _nothing_to_run(an: Analysis, name: str, args: Sequence[str], ctx: Context,
                    *findings: Finding) -> None:
    """A wrapper given no command is itself the program that runs."""
    an.programs.append(Program((name, *args), (*ctx.findings, *findings), ctx.via))


def _simple_wrapper(spec: Spec, skip: int = 0, *, fed: bool = False,
                    bare: str | None = None) -> Wrapper:
    """A wrapper that runs its operands (after ``skip`` of its own) as a command; ``bare``
    says what it does without one."""
    def wrap(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
        inner = list(parse(spec, args).operands[skip:])
        if not inner:
            _nothing_to_run(an, name, args, ctx, *((change(bare),) if bare else ()))
            return
        an.run(inner, ctx.under(name, fed=fed))
    return wrap


def _sudo(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    p = parse(_SUDO if name == "sudo" else _DOAS, args)
    if "-e" in p.keys:
        _nothing_to_run(an, name, args, ctx, change("sudo --edit edits files as root"))
        return
    assignments, inner = split_assignments(p.operands)
    findings = list(env_findings(assignments))
    if p.keys & {"-s", "-i"}:
        findings.append(change(f"{name} runs the command through a shell"))
    if not inner:
        _nothing_to_run(an, name, args, ctx, *findings)
        return
    roots = p.values("-R")
    root = posixpath.normpath(posixpath.join(ctx.root, roots[-1])) if roots else None
    an.run(inner, ctx.under(name, *findings, root=root))


def _env(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    findings: list[Finding] = []
    for _ in range(8):  # -S splits a string into more arguments, options included
        p = parse(_ENV, args, stop_at=frozenset({"-S"}))
        last = p.options[-1] if p.options else ("", None)
        if last[0] != "-S" or last[1] is None:
            break
        text = last[1]
        if "$" in text:
            findings.append(change("env -S expands variables: what runs is only known then"))
            an.complete = False
        try:
            args = [*shlex.split(text, comments=True), *p.rest]
        except ValueError:
            an.unknown("env -S gives a string that does not split")
            return
    else:
        an.unknown("env -S is nested too deeply to follow")
        return
    operands = list(p.operands)
    if operands[:1] == ["-"]:
        operands = operands[1:]
    assignments, inner = split_assignments(operands)
    findings += env_findings(assignments)
    if not inner:
        _nothing_to_run(an, name, args, ctx, *findings)
        return
    an.run(inner, ctx.under(name, *findings))


def _nice(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    if args and re.fullmatch(r"-[-+]?\d+", args[0]):  # the old form: nice -5 cmd
        args = args[1:]
    _simple_wrapper(_NICE)(an, name, args, ctx)


def _ionice(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    p = parse(_IONICE, args)
    if p.keys & {"-p", "-P", "-u"}:
        _nothing_to_run(an, name, args, ctx,
                        change("ionice changes the I/O priority of running processes"))
        return
    _simple_wrapper(_IONICE)(an, name, args, ctx)


def _time(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    p = parse(_TIME, args)
    findings = [change(f"time --output writes {f}") for f in p.values("-o")]
    if not p.operands:
        _nothing_to_run(an, name, args, ctx, *findings)
        return
    an.run(list(p.operands), ctx.under(name, *findings))


def _xargs(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    inner = list(parse(_XARGS, args).operands) or ["echo"]
    an.run(inner, ctx.under(name, fed=True))


def _watch(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    p = parse(_WATCH, args)
    if not p.operands:
        _nothing_to_run(an, name, args, ctx)
    elif "-x" in p.keys:
        an.run(list(p.operands), ctx.under(name))
    else:
        an.interpreted(name, args, ctx, " ".join(p.operands),
                       "watch runs its command through sh -c")


def _flock(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    p = parse(_FLOCK, args)
    operands = list(p.operands)
    lock = operands[0] if operands else ""
    findings = [] if lock.isdigit() or not lock else [
        Finding(Effect.REVERSIBLE, f"flock creates its lock file {lock} if it is missing")]
    code = p.values("-c")
    if len(operands) > 2 and operands[1] in ("-c", "--command"):
        code.append(operands[2])
    if code:
        an.interpreted(name, args, ctx, code[-1], "flock -c runs its command through a shell",
                       *findings)
    elif len(operands) > 1:
        an.run(operands[1:], ctx.under(name, *findings))
    else:
        _nothing_to_run(an, name, args, ctx, *findings)


def _chroot(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    operands = list(parse(_CHROOT, args).operands)
    if len(operands) < 2:
        _nothing_to_run(an, name, args, ctx, change("chroot starts an interactive shell"))
        return
    root = posixpath.normpath(posixpath.join(ctx.root, operands[0]))
    an.run(operands[1:], ctx.under(name, root="/" + root.lstrip("/")))


def _su(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    p = parse(_SU, args)
    code = p.values("-c", "-C")
    operands = list(p.operands)
    if not code and "-c" in operands[1:-1]:  # su user -- -c CMD: arguments for the shell
        code = [operands[operands.index("-c", 1) + 1]]
    if code:
        an.interpreted(name, args, ctx, code[-1], f"{name} -c runs its command through a shell")
    elif name == "runuser" and "-u" in p.keys and operands:
        an.run(operands, ctx.under(name))
    else:
        _nothing_to_run(an, name, args, ctx, change(f"{name} starts a shell"))


def _sg(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    words = [a for a in args if a != "-c"]
    if len(words) < 2:
        _nothing_to_run(an, name, args, ctx, change("sg starts a shell"))
        return
    an.interpreted(name, args, ctx, " ".join(words[1:]), "sg runs its command through sh -c")


def _eval(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    an.interpreted(name, args, ctx, " ".join(args), "eval runs its arguments as shell code")


def _trap(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    operands = [a for a in args if a not in ("-l", "-p", "--")]
    if len(operands) < 2 or operands[0] == "-" or operands[0].isdigit():
        _nothing_to_run(an, name, args, ctx)
        return
    an.interpreted(name, args, ctx, operands[0], "trap runs its first argument as shell code")


def _alias(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    values = [a.split("=", 1)[1] for a in args if "=" in a]
    if not values:
        _nothing_to_run(an, name, args, ctx)
    for value in values:
        an.interpreted(name, args, ctx, value, "alias defines shell code that runs later")


def _chrt(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    spec = _CHRT if name == "chrt" else _TASKSET
    p = parse(spec, args)
    if "-p" in p.keys:
        _nothing_to_run(an, name, args, ctx,
                        change(f"{name} -p changes a running process's scheduling"))
        return
    operands = list(p.operands)
    if name == "taskset" or (operands[:1] and operands[0].isdigit()):
        operands = operands[1:]  # the CPU mask, or the priority
    if not operands:
        _nothing_to_run(an, name, args, ctx)
        return
    an.run(operands, ctx.under(name))


def _systemd_run(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    p = parse(_SYSTEMD_RUN, args)
    unit = change("systemd-run starts a unit that outlives the step")
    if "-S" in p.keys or not p.operands:
        _nothing_to_run(an, name, args, ctx, unit)
        return
    an.run(list(p.operands), ctx.under(name, unit))


def _script(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    p = parse(_SCRIPT, args)
    log = change("script writes a typescript of the session")
    if p.values("-c"):
        an.interpreted(name, args, ctx, p.values("-c")[-1],
                       "script -c runs its command through a shell", log)
    else:
        _nothing_to_run(an, name, args, ctx, log, change("script starts a shell"))


def _busybox(an: Analysis, name: str, args: list[str], ctx: Context) -> None:
    if args and not args[0].startswith("-"):
        an.run(args, ctx.under(name))
    else:
        _nothing_to_run(an, name, args, ctx)


_SUDO = getopt("a:c:C:D:g:h::p:r:R:t:T:U:u:",
               "askpass/A bell/B background/b close-from=/C chdir=/D preserve-env?= edit/e "
               "group=/g set-home/H help host= login/i remove-timestamp/K reset-timestamp/k "
               "list/l no-update/N non-interactive/n preserve-groups/P prompt=/p chroot=/R "
               "role=/r stdin/S shell/s type=/t command-timeout=/T other-user=/U user=/u "
               "version/V validate/v", stop=True)
_DOAS = getopt("C:u:", stop=True)
_ENV = getopt("u:C:S:a:", "ignore-environment/i null/0 unset=/u chdir=/C split-string=/S "
              "debug/v argv0=/a block-signal?= default-signal?= ignore-signal?= "
              "list-signal-handling help version", stop=True)
_NICE = getopt("n:", "adjustment=/n help version", stop=True)
_IONICE = getopt("c:n:p:P:u:", "class=/c classdata=/n pid=/p pgid=/P uid=/u ignore/t help "
                 "version", stop=True)
_PLAIN = getopt(stop=True)
_TIMEOUT = getopt("k:s:", "foreground/f kill-after=/k preserve-status/p signal=/s verbose/v "
                  "help version", stop=True)
_STDBUF = getopt("i:o:e:", "input=/i output=/o error=/e help version", stop=True)
_SETSID = getopt("", "ctty/c fork/f wait/w help version", stop=True)
_TIME = getopt("o:f:", "output=/o append/a format=/f portability/p verbose/v quiet/q help "
               "version", stop=True)
_EXEC = getopt("a:", stop=True)
_XARGS = getopt("a:d:E:I:L:n:P:s:e::i::l::",
                "null/0 arg-file=/a delimiter=/d eof?= replace?= max-lines?= max-args=/n "
                "max-procs=/P max-chars=/s interactive/p no-run-if-empty/r verbose/t exit/x "
                "open-tty/o process-slot-var= show-limits help version", stop=True)
_WATCH = getopt("n:d::q:s:", "interval=/n differences?= chgexit/g errexit/e beep/b "
                "no-title/t exec/x color/c no-color/C no-wrap/w no-linewrap/w precise/p "
                "equexit=/q no-rerun/r shell=/s help/h version/v", stop=True)
_FLOCK = getopt("w:E:c:", "shared/s exclusive/x nonblock/n nb/n no-fork/F unlock/u "
                "timeout=/w wait=/w conflict-exit-code=/E close/o verbose command=/c help "
                "version", aliases="e=x", stop=True)
_CHROOT = getopt("", "groups= userspec= skip-chdir help version", stop=True)
_SU = getopt("c:C:s:g:G:w:u:", "command=/c session-command=/C shell=/s group=/g "
             "supp-group=/G whitelist-environment=/w user=/u login/l "
             "preserve-environment/p pty/P fast/f help version", aliases="m=p")
_CHRT = getopt("T:P:D:", "all-tasks/a batch/b deadline/d fifo/f idle/i max/m other/o pid/p "
               "rr/r reset-on-fork/R verbose/v sched-runtime=/T sched-period=/P "
               "sched-deadline=/D help version", stop=True)
_TASKSET = getopt("", "all-tasks/a cpu-list/c pid/p help version", stop=True)
_NSENTER = getopt("t:S:G:m::u::i::n::p::U::C::T::r::w::",
                  "target=/t mount?= uts?= ipc?= net?= pid?= user?= cgroup?= time?= "
                  "setuid=/S setgid=/G preserve-credentials root?= wd?= no-fork/F all/a "
                  "follow-context/Z env/e help version", stop=True)
_UNSHARE = getopt("S:G:R:w:", "mount?= uts?= ipc?= net?= pid?= user?= cgroup?= time?= "
                  "fork/f kill-child?= mount-proc?= map-root-user/r map-current-user/c "
                  "map-auto map-user= map-group= map-users= map-groups= propagation= "
                  "setgroups= keep-caps setuid=/S setgid=/G root=/R wd=/w monotonic= "
                  "boottime= load-interp= help version", stop=True)
_SYSTEMD_RUN = getopt("u:p:E:M:H:",
                      "unit=/u property=/p description= slice= slice-inherit scope user "
                      "system machine=/M host=/H uid= gid= nice= working-directory= "
                      "same-dir/d setenv=/E pty/t pipe/P quiet/q verbose/v "
                      "remain-after-exit/r service-type= send-sighup wait/W collect/G "
                      "on-active= on-boot= on-startup= on-unit-active= on-unit-inactive= "
                      "on-calendar= on-clock-change on-timezone-change timer-property= "
                      "path-property= socket-property= no-block expand-environment= "
                      "shell/S ignore-failure background= json= job-mode= no-ask-password "
                      "help version", stop=True)
_STRACE = getopt("a:b:e:E:I:o:O:p:P:s:S:u:X:U:", stop=True)
_PKEXEC = getopt("", "user= disable-internal-agent help version", stop=True)
_SCRIPT = getopt("c:E:I:O:B:T:m:t::", "append/a command=/c echo=/E return/e flush/f force "
                 "log-in=/I log-out=/O log-io=/B log-timing=/T logging-format=/m quiet/q "
                 "timing?= help version")

WRAPPERS: dict[str, Wrapper] = {
    "sudo": _sudo,
    "doas": _sudo,
    "env": _env,
    "nice": _nice,
    "ionice": _ionice,
    "nohup": _simple_wrapper(_PLAIN),
    "timeout": _simple_wrapper(_TIMEOUT, 1),
    "stdbuf": _simple_wrapper(_STDBUF),
    "setsid": _simple_wrapper(_SETSID),
    "time": _time,
    "command": _simple_wrapper(_PLAIN),
    "builtin": _simple_wrapper(_PLAIN),
    "exec": _simple_wrapper(_EXEC),
    "coproc": _simple_wrapper(_PLAIN),
    "xargs": _xargs,
    "watch": _watch,
    "flock": _flock,
    "chroot": _chroot,
    "su": _su,
    "runuser": _su,
    "sg": _sg,
    "eval": _eval,
    "trap": _trap,
    "alias": _alias,
    "chrt": _chrt,
    "taskset": _chrt,
    "nsenter": _simple_wrapper(_NSENTER, bare="nsenter starts a shell"),
    "unshare": _simple_wrapper(_UNSHARE, bare="unshare starts a shell"),
    "systemd-run": _systemd_run,
    "strace": _simple_wrapper(_STRACE),
    "ltrace": _simple_wrapper(_STRACE),
    "pkexec": _simple_wrapper(_PKEXEC),
    "script": _script,
    "busybox": _busybox,
    "toybox": _busybox,
}
