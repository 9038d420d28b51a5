"""Labelled corpora the tests and the benchmarks share: commands by what they do, and
credentials as step output shows them."""

from __future__ import annotations

READS = ["df -h", "uptime", "free -m", "uname -a", "journalctl -u nginx --since today",
         "systemctl status nginx", "ss -tlnp", "date", "hostname", "dmesg -T", "ps aux",
         "top -b -n 1", "cat /etc/os-release", "head -n 20 /var/log/syslog", "ls -la /srv",
         "du -sh /var/lib", "pgrep -a postgres", "lsblk", "whoami", "id",
         "tail -n 100 /var/log/nginx/error.log", "grep -c error /var/log/syslog",
         "systemctl is-active nginx", "journalctl -k -p err -n 50", "nproc"]
CHANGES = ["systemctl restart nginx", "systemctl reload nginx", "touch /srv/maintenance.flag",
           "journalctl --vacuum-time=1s", "date -s 2020-01-01", "hostname evil", "dmesg -C",
           "ss -K dst 10.0.0.1", "sysctl -w vm.swappiness=10", "ip link set eth0 down",
           "kill -9 1234", "tee /etc/motd", "sed -i s/a/b/ /etc/hosts", "cp a b",
           "chmod 600 /etc/x", "psql -c 'select 1'", "bash -c 'df -h'",
           "python3 -c 'print(1)'", "tar -xf a.tar", "some-unknown-tool --fix",
           "nginx -s reload", "systemctl enable --now nginx", "crontab /tmp/c",
           "psql -c 'delete from users where id = 1'", "mysql -e 'select 1'"]
DESTROYS = ["rm -rf /", "rm --recursive --force /var/lib/postgresql", "mkfs.ext4 /dev/sda1",
            "dd if=/dev/zero of=/dev/sda", "shred -u /etc/passwd", "wipefs -a /dev/sdb",
            "find / -delete", "find /srv -exec rm {} +", "systemctl reboot", "reboot",
            "shutdown -h now", "init 0", "psql -c 'DROP TABLE users'",
            "psql -c 'delete from users'", "mysql -e 'TRUNCATE TABLE users'",
            "sqlite3 app.db 'update users set admin = 1'", "bash -c 'rm -rf /'",
            "xargs rm -f", "systemctl isolate rescue.target", "crontab -r", "dropdb prod",
            "chmod -R 000 /", "telinit 6", "redis-cli flushall", "poweroff"]
WRAPPERS = ["", "sudo ", "timeout 5 ", "nice -n 5 ", "env LANG=C ", "sudo -u postgres ",
            "nohup ", "stdbuf -oL ", "sudo env FOO=1 "]




def corpus() -> list[str]:
    """A few hundred realistic commands across every level (also the bench's corpus)."""
    return [w + c for w in WRAPPERS for c in (*READS, *CHANGES, *DESTROYS)]


# Credentials as step output shows them (bench/redaction.py measures on them too): the line,
# and the part of it that must go.
PLANTED: list[tuple[str, str, str]] = [
    ("AWS access key", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("AWS secret key", 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("Slack bot token", "SLACK_BOT_TOKEN=xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp",
     "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"),
    ("Slack webhook", "posting to https://hooks.slack.com/services/T0000AAAA/B0000BBBB/"
     "XXXXXXXXXXXXXXXXXXXXXXXX", "XXXXXXXXXXXXXXXXXXXXXXXX"),
    ("GitHub token in a URL", "fetch https://x-access-token:ghp_" + "A1b2" * 9 + "@github.com/o/r",
     "ghp_" + "A1b2" * 9),
    ("GitHub fine-grained token", "GH=github_pat_11ABCDEFG0123456789_" + "a1" * 30,
     "github_pat_11ABCDEFG0123456789_" + "a1" * 30),
    ("JWT bearer", "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIx"
     "MjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
     "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
    ("PEM private key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo"
     "\n-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo"),
    ("password= pair", "DB_PASSWORD=s3cr3t-Passw0rd", "s3cr3t-Passw0rd"),
    ("YAML password", "  password: hunter2-yaml", "hunter2-yaml"),
    ("JSON token", '{"access_token": "at-1234567890abcdef", "expires_in": 3600}',
     "at-1234567890abcdef"),
    ("Set-Cookie", "Set-Cookie: sessionid=38afes7a8; HttpOnly; Path=/", "38afes7a8"),
    ("URL password", "postgresql://app:Db-Pa55@db-1:5432/app", "Db-Pa55"),
    ("Basic auth", "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l", "YWxhZGRpbjpvcGVuc2VzYW1l"),
    ("quoted API key", 'export API_KEY="k-0123456789abcdef"', "k-0123456789abcdef"),
]
