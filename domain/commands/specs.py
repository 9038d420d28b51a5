"""How each program that is not a wrapper reads its options, so that any spelling of them
normalises alike (``top -bn1`` and ``top --batch --iterations=1`` both read ``top -b -n 1``)."""

from __future__ import annotations

from domain.commands.options import Spec, getopt

SSH_OPTIONS = getopt("B:b:c:D:E:e:F:I:i:J:L:l:m:O:o:P:p:Q:R:S:W:w:", stop=True)
_MYSQL = getopt("e:u:h:P:D:S:p::",
                "execute=/e user=/u host=/h port=/P database=/D socket=/S password?= "
                "init-command= defaults-file= defaults-extra-file= login-path= "
                "default-character-set= protocol= pager?= tee= batch/B silent/s verbose/v "
                "table/t vertical/E force/f html/H xml/X raw/r skip-column-names/N help "
                "version/V")
_COREUTILS_CHOWN = ("changes/c silent/f quiet/f verbose/v recursive/R from= reference= "
                    "dereference no-dereference/h preserve-root no-preserve-root help version")
_COPY = ("target-directory=/t suffix=/S backup?= no-target-directory/T recursive/r "
         "archive/a force/f interactive/i no-clobber/n verbose/v help version")

SPECS: dict[str, Spec] = {
    "rm": getopt("", "force/f interactive?= recursive/r dir/d verbose/v one-file-system "
                 "no-preserve-root preserve-root?= help version", aliases="R=r"),
    "df": getopt("B:t:x:", "all/a block-size=/B human-readable/h si/H inodes/i local/l "
                 "no-sync output?= portability/P print-type/T sync total type=/t "
                 "exclude-type=/x help version"),
    "free": getopt("s:c:", "bytes/b kilo/k mega/m giga/g tera peta kibi mebi gibi tebi pebi "
                   "human/h si lohi/l total/t seconds=/s count=/c wide/w committed/v help "
                   "version/V"),
    "uname": getopt("", "all/a kernel-name/s nodename/n kernel-release/r kernel-version/v "
                    "machine/m processor/p hardware-platform/i operating-system/o help "
                    "version"),
    "uptime": getopt("", "pretty/p since/s container/c raw/r help/h version/V"),
    "head": getopt("c:n:", "bytes=/c lines=/n quiet/q silent/q verbose/v zero-terminated/z "
                   "help version"),
    "tail": getopt("c:n:s:", "bytes=/c lines=/n follow?= retry sleep-interval=/s pid= "
                   "max-unchanged-stats= quiet/q silent/q verbose/v zero-terminated/z help "
                   "version"),
    "top": getopt("d:n:p:u:U:o:w::E:e:", "batch/b iterations=/n delay=/d pid=/p user=/u "
                  "filter-any-user=/U sort-override=/o width?= scale-summary-mem=/E "
                  "scale-task-mem=/e cmdline-toggle/c secure-mode/s threads-show/H "
                  "idle-toggle/i single-cpu-toggle/1 accum-time-toggle/S list-fields/O "
                  "help/h version/V"),
    "journalctl": getopt(
        "u:D:o:S:U:p:t:T:g:F:M:c:n::b::",
        "system user machine=/M merge/m directory=/D file= root= image= image-policy= "
        "namespace= header disk-usage list-boots list-namespaces fields/N field=/F "
        "list-catalog dump-catalog update-catalog new-id128 setup-keys verify verify-key= "
        "interval= force since=/S until=/U cursor=/c after-cursor= cursor-file= "
        "show-cursor boot?= this-boot dmesg/k identifier=/t exclude-identifier=/T "
        "facility= priority=/p grep=/g case-sensitive?= unit=/u user-unit= invocation= "
        "lines?= reverse/r no-tail follow/f no-pager pager-end/e all/a full/l no-full "
        "catalog/x output=/o output-fields= utc no-hostname quiet/q synchronize-on-exit= "
        "vacuum-size= vacuum-files= vacuum-time= flush relinquish-var "
        "smart-relinquish-var rotate sync version help/h list-invocations "
        "truncate-newline"),
    "date": getopt("d:f:r:s:I::", "date=/d file=/f reference=/r set=/s iso-8601?= rfc-3339= "
                   "rfc-email/R rfc-822/R rfc-2822/R utc/u universal/u debug resolution "
                   "help version"),
    "hostname": getopt("F:", "file=/F boot/b alias/a all-fqdns/A domain/d fqdn/f long/f "
                       "ip-address/i all-ip-addresses/I short/s yp/y nis/y help/h "
                       "version/V"),
    "dmesg": getopt("f:F:l:n:s:L::", "clear/C read-clear/c console-off/D console-on/E "
                    "console-level=/n facility=/f file=/F level=/l buffer-size=/s color?= "
                    "decode/x follow/w follow-new/W human/H json/J kernel/k noescape "
                    "nopager/P force-prefix/p raw/r syslog/S show-delta/d reltime/e "
                    "ctime/T notime/t time-format= userspace/u since= until= help/h "
                    "version/V"),
    "ss": getopt("f:A:F:D:N:", "help/h version/V no-header/H oneline/O numeric/n resolve/r "
                 "all/a listening/l options/o extended/e memory/m processes/p threads/T "
                 "info/i tos cgroup summary/s events/E context/Z contexts/z net=/N bpf/b "
                 "ipv4/4 ipv6/6 packet/0 tcp/t sctp/S udp/u dccp/d raw/w unix/x mptcp/M "
                 "vsock tipc xdp inet-sockopt bpf-maps bpf-map-id= kill/K diag=/D "
                 "filter=/F query=/A socket=/A family=/f"),
    "sysctl": getopt("", "write/w load?= system all/a binary/b ignore/e names/N values/n "
                     "pattern= quiet/q deprecated help/h version/V", aliases="f=p"),
    "systemctl": getopt(
        "t:p:s:H:M:n:o:P:C:",
        "type=/t property=/p signal=/s host=/H machine=/M lines=/n output=/o value state= "
        "job-mode= root= image= image-policy= what= kill-whom= kill-value= preset-mode= "
        "message= timestamp= check-inhibitors= drop-in= when= reboot-argument= "
        "boot-loader-menu= boot-loader-entry= legend= capsule=/C all/a recursive/r "
        "reverse after before with-dependencies show-types failed full/l quiet/q "
        "no-block wait no-wall no-reload no-legend no-pager no-ask-password global user "
        "system runtime force/f now firmware-setup read-only mkdir plain dry-run "
        "ignore-inhibitors/i show-transaction/T marked help/h version"),
    "hwclock": getopt("f:", "show/r get set hctosys/s systohc/w systz adjust/a date= rtc=/f "
                      "utc/u localtime/l directisa test verbose/v update-drift param-get= "
                      "param-set= epoch= delay= noadjfile adjfile= help/h version/V"),
    "tee": getopt("", "append/a ignore-interrupts/i output-error?= help version"),
    "sed": getopt("e:f:l:i::", "expression=/e file=/f in-place?=/i line-length=/l "
                  "null-data/z zero-terminated/z regexp-extended/E quiet/n silent/n posix "
                  "sandbox separate/s unbuffered/u debug follow-symlinks binary/b help "
                  "version", aliases="r=E"),
    "sort": getopt("k:o:S:t:T:", "key=/k output=/o buffer-size=/S field-separator=/t "
                   "temporary-directory=/T compress-program= files0-from= batch-size= "
                   "parallel= ignore-leading-blanks/b dictionary-order/d ignore-case/f "
                   "general-numeric-sort/g human-numeric-sort/h ignore-nonprinting/i "
                   "month-sort/M numeric-sort/n random-sort/R random-source= reverse/r "
                   "sort= version-sort/V check?= merge/m stable/s unique/u "
                   "zero-terminated/z debug help version"),
    "psql": getopt("c:d:f:F:h:L:o:p:P:R:T:U:v:",
                   "command=/c dbname=/d file=/f field-separator=/F host=/h log-file=/L "
                   "output=/o port=/p pset=/P record-separator=/R table-attr=/T "
                   "username=/U variable=/v set=/v no-align/A echo-all/a echo-errors/b "
                   "echo-queries/e echo-hidden/E html/H list/l no-readline/n quiet/q "
                   "single-step/s single-line/S tuples-only/t expanded/x no-psqlrc/X "
                   "field-separator-zero/z record-separator-zero/0 single-transaction/1 "
                   "csv no-password/w password/W help?= version/V"),
    "mysql": _MYSQL,
    "mariadb": _MYSQL,
    "chmod": getopt("", _COREUTILS_CHOWN),
    "chown": getopt("", _COREUTILS_CHOWN),
    "chgrp": getopt("", _COREUTILS_CHOWN),
    "cp": getopt("S:t:", _COPY, aliases="R=r"),
    "mv": getopt("S:t:", _COPY),
    "ssh": SSH_OPTIONS,
    "crontab": getopt("u:"),
    "kill": getopt("s:n:", "signal=/s list?=/l table/L"),
}
