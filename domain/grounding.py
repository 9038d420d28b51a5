"""Does a plan do what was asked? The grounding check every plan passes before it is recorded.
One module, because its checks read the same parse of the request and one refusal names them.

A person approving a plan reads it, but READ_ONLY steps run at once, so a plan that does
something other than what was asked is worse than no plan. The request is read on its own,
apart from any segmenter: the hosts and environments it names, the actions it asks for in each
clause, and the words nothing in a plan could account for. A plan is grounded when

- every step's target is a host the request names (or one the person picked when asked),
  every query's environment one it names, or the task's;
- every step runs a command altlas knows the meaning of, and that meaning was asked for
  (a command copied word for word from the request is taken as asked for);
- every action the request asks for, and every host it names, is covered by a step;
- nothing is done twice that was asked once (one summary, however many hosts).

What a step does comes from domain.commands.meaning; what to ask instead, from domain.asking.
Pure functions: nothing here runs, reads or opens anything.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from domain.commands.meaning import meaning, services
from domain.plan import Plan
from domain.policy import Policy

# -- reading a request ----------------------------------------------------------------------

_FOLD = str.maketrans({"ı": "i", "İ": "i", "ş": "s", "ğ": "g", "ü": "u", "ö": "o", "ç": "c",
                       "Ş": "S", "Ğ": "G", "Ü": "U", "Ö": "O", "Ç": "C", "â": "a", "î": "i",
                       "û": "u", "’": "'", "‘": "'", "`": "'"})


def fold(text: str) -> str:
    """Lower case without Turkish diacritics, so "başlat" and "baslat" read the same."""
    text = text.replace("İ", "i").lower().translate(_FOLD)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


# The words each intent is asked with (folded English and Turkish). An intent may stand for
# several step intents: "why is db-1 slow" is answered by its load, memory, disk or top.
@dataclass(frozen=True)
class Intent:
    name: str
    asked: re.Pattern[str]
    answers: frozenset[str]
    weak: bool = False  # "running", "status": asked for only when nothing else is


def _intent(name: str, pattern: str, answers: Iterable[str] = (), weak: bool = False
            ) -> Intent:
    return Intent(name, re.compile(pattern), frozenset(answers) or frozenset({name}), weak)


INTENTS: tuple[Intent, ...] = (
    _intent("maintenance", r"maintenance|bakim (?:bayrag|mod)"),
    _intent("apt_clean", r"(?:(?:clean|clear|purge|empty|temizle)\w*\s+(?:the\s+|up\s+)?)?"
                         r"\bapt(?:-get)?\b(?:\s+(?:package\s+)?(?:cache|onbelle\w*))?"
                         r"(?:\s+(?:clean|clear|purge|temizle)\w*)?|package cache"),
    _intent("rotate", r"\brotat\w*\s+(?:the\s+|all\s+)?(?:\w+\s+)?(?:logs?|them)\b|"
                      r"\blog\w*\s+(?:\S+\s+){0,5}(?:rotation|rotate\w*|dondur\w*)|logrotate|"
                      r"\bdondur\w*"),
    _intent("clean_tmp", r"(?:clean|clear|purge|empty(?!\w* (?:files?|dir\w*|folders?|lines?|"
                         r"ones)\b)|temizle|bosalt|nuke)\w*\W+"
                         r"(?:\w+\W+){0,5}/tmp\b|"
                         r"/tmp\W+(?:\w+\W+){0,3}(?:clean|clear|purge|empty|temizle|bosalt)|"
                         r"\btemp(?:orary)? (?:files|dir)"),
    _intent("reboot", r"\breboot|power[- ]?cycle|(?:server|host|machine|box|sunucu\w*|makine\w*)"
                      r" (?:yeniden baslat|restart)|restart (?:the )?(?:server|host|machine|box)"
                      r"\b|\bboot\b"),
    _intent("start_again", r"\btekrar baslat", {"start", "restart"}),  # after a stop, a start
    _intent("restart", r"\brestart|\bbounce|\bkick|yeniden baslat|\bre-start"),
    _intent("reload", r"\breload|yeniden yukle|tekrar yukle"),
    _intent("stop", r"\bstop|\bdurdur|\bkapat|\bhalt\b|shut (?:it )?down"),
    _intent("start", r"(?<!re)(?<!re-)\bstart|(?<!yeniden )(?<!tekrar )\bbaslat|"
                     r"\bbring \w+ (?:back )?up|\bbring \w+ back"),
    _intent("status", r"not running|isn'?t running|not active|\bis \w+ down\b|"
                      r"(?<!targets )(?<!target )\bdown\?|"
                      r"\bdead\b|calismiyor|\bayakta degil"),
    _intent("state", r"\bstatus|\bdurum|\brunning\b|\bactive\b|\bcalis(?!tir)|\balive\b|\bis \w+ up"
                      r"\b|\bup\?|\bayakta|\bcame back\b|\bis back\b|\bis (?:still )?up\b|"
                      r"\b(?:nginx|postgres|postgresql|redis|api) up\b",
            {"status"}, weak=True),
    _intent("logs", r"\blog\b|\blogs\b|\blog'|journal|\blogla?r|\bkayit|\btail\b"),
    _intent("top", r"\btop\b(?:\s+\d+)?(?:\s+(?:cpu|memory|ram|mem)\b)?(?:\s+(?:processes|procs|"
                   r"tasks|process'?\w*|hogs|consumers))?"
                   r"(?:\s+(?:by|using|on|for|sorted by)\s+(?:cpu|memory|ram|mem)\b)?|\bheaviest|"
                   r"\bhungriest|most (?:cpu|memory|ram)|\ben cok\b|"
                   r"(?:cpu|memory|ram|bellek)[- ]hungry|\bhogg|\bby (?:cpu|memory|ram|mem)\b|"
                   r"\b(?:cpu|bellek|ram|memory)\w*'?\w* gore|\bilk \d+ surec|"
                   r"\bwhat(?:'s| is) eating (?:the |all the |my )?(?:cpu|memory|ram)\b"),
    _intent("processes", r"\bprocess|\bpgrep\b|\bsurec|\bislem(?!ci)|\bpid",
            {"processes", "top"}),
    _intent("disk", r"\bdisk|\broot (?:fs|file ?system|partition)\b|\bfilesystem|"
                    r"\bdisc\b|\bstorage|\bspace\b|\bdf\b|\bfull\b|\bmount|\bdepolama|"
                    r"\balan\b|\bdolu"),
    _intent("load", r"\bload\b|\bloads\b|\buptime|\byuk(?:u|unu|une|leri)?\b|\bload average"),
    _intent("memory", r"\bmemory|\bram\b|\bbellek|\bbelleg|\bhafiza|\bmem\b|\bswap\b"),
    _intent("drop", r"\bdrop\b|\btruncate\b|\btablo\w* (?:sil|kaldir)\w*"),
    _intent("delete", r"\bdelete|\bremove|\brm\b|\bwipe|\bsil\b|\bsil(?:in|er)?\b|\berase"),
    _intent("kernel", r"\bkernel|\buname\b|\bcekirdek"),
    _intent("ports", r"\bport|\blistening|\bdinle|\bsockets?\b"),
    _intent("failed", r"\bfailed\b|\bfailing (?:units|services)|\bbasarisiz|\bcrashed units"),
    _intent("targets_down", r"\btargets?\b|\bhedef|\bscrape"),
    _intent("cpu", r"\bcpu\b|\bprocessor|\bislemci"),
    _intent("error_rate", r"\berror rate|\berrors?\b|\b5xx\b|\b500s\b|\bhata"),
    _intent("health", r"\bhealth|\bsaglik|\bhealthy|\bhealthcheck"),
    _intent("summarise", r"\bsummar|\bexplain|\bozet|\bacikla|\btl;?dr|\bwhat (?:it|this) means"
                         r"|\bsum (?:it|this|them|that|everything) up|\byorumla"
                         r"|\binterpret|\banaly[sz]"),
    _intent("diagnose", r"\bslow|\bsluggish|\bwhy\b|\binvestigate|\blook into|\byavas|\bneden\b"
                        r"|\bwhat'?s wrong|\bunresponsive|\blaggy|\btriage",
            {"load", "memory", "disk", "top", "cpu"}),
)
_BY_NAME = {i.name: i for i in INTENTS}

# Words that ask for nothing by themselves (English and folded Turkish).
_FILLER_WORDS = (
    "a an the and or but then also too again please pls plz kindly could can would will you u me "
    "my our us we i it its it's this that these those there here now right asap quickly quick "
    "real really just only some any all every each both of on in at to for from with by about as "
    "is are was were be been being do does did done have has had get got give show see look "
    "looking tell check checking verify inspect display list print find fetch grab pull view read "
    "report make sure let know what which who how much many whether if when once after afterwards "
    "before until while soon first next finally last lastly out up down over under above below "
    "more less than greater higher lower exceeds exceed percent percentage pct usage used use "
    "level levels current currently state box host hosts server servers machine node instance "
    "service services daemon unit thing stuff hey hi hello thanks thank team folks guys yo ok "
    "okay so go ahead run need needs want wants like little bit note eh um hmm should must left "
    "remaining free available endpoint set flag mode force forced units take morning evening "
    "still think struggling struggle trouble acting endpoints where not no isn't isnt doesn't "
    "dont don't them they their whole entire everything anything something new old sunucu "
    "sunucuyu sunucusu sunucusunun sunucuda sunucusunda sunucudaki makine makineyi makinede "
    "lutfen bir bi de da ve ile sonra ardindan daha sonrasinda eger ise mi mu misin musun bak "
    "bakar bakabilir kontrol et edin eder goster gosterir gosterin ver verir soyle nedir ne kadar "
    "kac mevcut durum icin uzerinde ustunde altinda fazla az yuzde servis servisi servisini "
    "hizmet hizmeti simdi hemen acil tekrar yine bunu onu su bu onun bunun "
    # conversation: greetings, thanks, time, people, feelings — never an action
    "good morning afternoon evening night day today tonight yesterday tomorrow week weekend "
    "sec second seconds minute minutes min mins moment while whenever free busy home lunch "
    "meeting call go going gone goes went leave leaving heading before after later earlier "
    "thanks thank thx ty cheers cheerio appreciate appreciated appreciate grateful awesome "
    "great nice cool sweet star legend hero buddy mate pal friend dear sir madam boss "
    "lot lots much bunch heya hiya howdy greetings yo sup morning altlas bot robot assistant "
    "users user customers customer people someone somebody everyone anyone folks pager paging "
    "site website app application page pages complaining complain complaint complaints "
    "reporting reported reports says said saying seems seem seemed looks feel feels felt "
    "slow slower sluggish weird strange odd broken flaky crazy wild bad badly terrible "
    "awful fine okay alright healthy sure make certain ensure confirm double quick quickly "
    "fast asap urgent urgently possible possibly maybe perhaps probably actually basically "
    "honestly literally kinda sorta pretty very super way too also even eating eat eats "
    "swapping swap thrashing hammered hammering melting burning spiking spike spikes high low "
    "hit hits ping poke peek glance glimpse eye eyes look looks looking have having had get "
    "getting take taking give giving let lets tell telling telled know knowing wondering "
    "wonder curious interested mind favour favor help helping hand result results output "
    "outputs answer answers number numbers value values rate rates figure figures "
    "prometheus grafana metric metrics monitoring dashboard right away immediately already "
    "yet ever never always again once twice back came come comes coming "
    "merhaba selam selamlar gunaydin iyi gunler aksamlar rica ederim acaba hocam abi abla "
    "tesekkurler tesekkur ederim sagol sagolun eyvallah olur tamam yap yapar yapabilir yapin "
    "et koy koyar koyun ne nedir neler var yok olmus olan olarak gibi kadar cok az biraz hizli "
    "hizlica gerekiyor gerek lazim istiyorum rica surum surumu surumunu uc nokta noktasi "
    "noktasini noktasina endpointi endpointini endpointine endpoint'e endpoint'ini put lines line "
    "entries satir satiri son systemd birim birimleri birimlerini oran orani doluluk unless "
    "already "
    "across convenience earliest gimme lemme wanna gonna fire wedged stuck hung dead-ish "
    "wise systemd-wise quick-ish real quick once pls plz thx abi abla sayin degerli rica "
    "ederim bildirmenizi bildirir misiniz misiniz musunuz eder edebilir lutfen alemde ne "
    "alemde durumda hakkinda bi at atsana atar atin falan filan dokunma yapma hicbir sey "
    "bitince bunlar bitti bittikten kendi own box whatever anyway rebuilding worst best which "
    "one one's ones re-check recheck leftover called named goz hepsi hepsine hepsini kisaca "
    "raporla raporlayiniz raporlar guncellendigi icin su an hangi oldugunu since alarm alarms "
    "alert alerts fired firing twice thrice night flip turn switch enable going on happening "
    "wrong there")
_FILLER = frozenset(_FILLER_WORDS.split())
# Turkish takes suffixes: a word starting with one of these stems is filler too.
_FILLER_STEMS = ("kullanim", "durum", "rapor", "hepsi", "endpoint", "nokta", "surum", "tesekkur",
                 "yapabil",
                 "birim", "fazla", "gec", "doluluk", "uzerinde", "ustunde", "altinda", "kontrol",
                 "goster",
                 "sunucu", "makine", "servis", "hizmet", "bayrag", "yuzde", "bak", "nedir",
                 "listele", "getir", "ogren", "soyle", "ver", "mevcut", "simdi", "lutfen")

# Turkish writes suffixes onto names, with or without an apostrophe: web-1'de, web-1de.
_SUFFIX = (r"(?:'?(?:deki|daki|teki|taki|nin|nun|den|dan|ten|tan|de|da|te|ta|ye|ya|yi|yu|in|un"
           r"|e|a|i|u))?")
_HOST_LIKE = re.compile(rf"(?<![\w/.-])([a-z][a-z0-9]*(?:-[a-z0-9]+)*-\d+){_SUFFIX}(?![\w-])")
_ENV_WORDS = {"production": "prod", "prd": "prod", "stage": "staging", "stg": "staging",
              "development": "dev"}
LOCAL = re.compile(r"\b(?:the altlas (?:host|box|machine|server)|altlas(?:'s?|'in)? (?:own )?"
                   r"(?:host|box|machine|server)|this host|this machine|this box|"
                   r"this server|localhost|altlas sunucu\w*|altlas(?:'in)? kendi (?:makine|sunucu)"
                   r"\w*|bu sunucu\w*|bu makine\w*)\b")
_STRONG = re.compile(r"\s*(?:;|\n|\. |\band then\b|\bthen\b|\bafter that\b|\bafterwards\b|"
                     r"\bonce (?:that'?s|it'?s|done)\b|\bdaha sonra\b|\bsonra\b|\bardindan\b|"
                     r"\bsonrasinda\b|\bfollowed by\b|\b(?:and )?(?:finally|lastly)\b|"
                     r"\ben son\b)\s*,?\s*")
_AGAIN = re.compile(r"\b(?:again|once more|re-?check\w*|tekrar|yine|yeniden)\b")
# Verbs that ask for something to be done, whatever it is.
_DOING = re.compile(r"\b(?:check|verify|look|inspect|confirm|make sure|ensure|test|run|do|"
                    r"fix|show|tell|kontrol|bak|dogrula|goster)\w*\b")
_WEAK = re.compile(r"\s*(?:,|\band\b|\bplus\b|\bve\b|\bayrica\b|&)\s*")
_WORDS = re.compile(r"/?[a-z0-9][a-z0-9_.@%/:'-]*")
_QUOTES = str.maketrans({"`": "'", "’": "'", "‘": "'", "“": '"', "”": '"'})
_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"")
# Correctly spelled keywords, so "restrat ngnix" and "chekc the dsik" read as meant.
_KEYWORDS = ("restart", "reload", "disk", "memory", "status", "running", "logs", "processes",
             "process", "reboot", "delete", "remove", "health", "summarise", "summarize",
             "explain", "maintenance", "targets", "rotate", "kernel", "ports", "failed",
             "check", "nginx", "postgresql", "postgres", "redis", "uptime", "please",
             "errors", "error", "usage", "space", "start", "stop", "load", "show", "what",
             "list", "listening", "yeniden", "baslat", "endpoint")


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (a swap of two letters counts one)."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _spell(word: str) -> str:
    if len(word) < 4 or word in _FILLER or word in _KEYWORDS or not word.isalpha():
        return word
    for keyword in _KEYWORDS:
        if word.startswith(keyword) or abs(len(word) - len(keyword)) > 1:
            continue  # "rotated" is not a misspelled "rotate"
        if len(keyword) <= 5:  # "htop" is not "stop", "hogs" not "logs": swaps and drops only
            swapped = sorted(word) == sorted(keyword)
            dropped = len(keyword) == 5 and len(word) == 4
            if (swapped or dropped) and _distance(word, keyword) == 1:
                return keyword
        elif _distance(word, keyword) <= (1 if len(keyword) < 7 else 2):
            return keyword
    return word


_UNITS = {"zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
          "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
          "nineteen": 19, "sifir": 0, "iki": 2, "dort": 4, "bes": 5, "yedi": 7, "sekiz": 8,
          "dokuz": 9}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90, "yirmi": 20, "otuz": 30, "kirk": 40, "elli": 50,
         "altmis": 60, "yetmis": 70, "seksen": 80, "doksan": 90}
_DIGITS = {"one": 1, "bir": 1, "uc": 3, "alti": 6, **{k: v for k, v in _UNITS.items()
                                                        if v < 10}}
# "ninety", "eighty-five", "doksan bes", "dortten" (Turkish suffixes stay on): digits.
# "one", "bir", "uc" and "alti" only after a ten: alone they are other words too.
_NUMBER_WORDS = re.compile(
    r"\b(?:(?P<tens>" + "|".join(_TENS) + r")(?:[- ](?P<digit>" + "|".join(_DIGITS) + r"))?"
    r"|(?P<unit>" + "|".join(_UNITS) + r"))(?P<suffix>(?:ten|tan|den|dan|in|un|i|u|a|e|"
    r"'\w+)?)\b", re.IGNORECASE)


def _number(m: re.Match[str]) -> str:
    if m.group("unit"):
        value = _UNITS[m.group("unit").lower()]
    else:
        value = _TENS[m.group("tens").lower()] + _DIGITS.get((m.group("digit") or "").lower(), 0)
    return f"{value}{m.group('suffix')}"


def digits(text: str) -> str:
    """Numbers said in words written in digits: "above ninety percent" is above 90."""
    return _NUMBER_WORDS.sub(_number, text)


def spelled(text: str, keywords: bool = True) -> str:
    """The text with Turkish letters folded, numbers in digits and misspelled keywords put
    right, its case and everything else kept (paths are case-sensitive)."""
    text = digits(text.replace("İ", "I").translate(_FOLD))
    if not keywords:
        return text
    return re.sub(r"[A-Za-z]+", lambda m: _respell(m.group(0)), text)


def _respell(word: str) -> str:
    fixed = _spell(word.lower())
    return word if fixed == word.lower() else fixed


def normalise(text: str) -> str:
    """The request folded, its spaces collapsed and its misspelled keywords put right."""
    folded = digits(" ".join(fold(text).split()))
    return re.sub(r"[a-z]+", lambda m: _spell(m.group(0)), folded)


@dataclass(frozen=True)
class Inventory:
    """What a request may name: hosts (with their environment), environments, the local host."""

    hosts: Mapping[str, str]
    environments: Collection[str]
    local_host: str

    @classmethod
    def of(cls, policy: Policy) -> Inventory:
        return cls({name: h.environment for name, h in policy.hosts.items()},
                   tuple(policy.environments), policy.local_host)

    def host_named(self, word: str) -> str | None:
        """The inventory host a word names: exactly, or spelled "web1", "web 1", "WEB_1"."""
        key = re.sub(r"[\s_]", "-", word.lower())
        if key in self.hosts:
            return key
        squashed = key.replace("-", "")
        found = [h for h in self.hosts if h.replace("-", "") == squashed]
        return found[0] if len(found) == 1 else None

    def near(self, word: str) -> tuple[str, ...]:
        """Inventory hosts a word could have meant: web-9 → web-1, web-2."""
        stem = re.sub(r"[-_]?\d+[a-z]?$", "", word.lower())
        close = [h for h in self.hosts if stem and (h.startswith(stem + "-") or h == stem)]
        return tuple(sorted(close or [h for h in self.hosts if _distance(word, h) <= 2]))


@dataclass(frozen=True)
class Reading:
    """What a request asks for, read apart from any plan."""

    text: str                                # normalised
    clauses: tuple[str, ...]                 # joined by "then", ";", "sonra", …
    parts: tuple[str, ...]                   # clauses further split on "and" and commas
    asked: tuple[tuple[int, str], ...]       # (clause, intent) pairs, in order
    allowed: frozenset[str]                  # what steps may do besides: weak mentions
    hosts: tuple[str, ...]                   # inventory hosts named, in order
    unknown_hosts: tuple[str, ...]           # host-like names the inventory does not have
    environments: tuple[str, ...] = ()
    quoted: tuple[str, ...] = ()  # commands given word for word
    forbidden: frozenset[str] = frozenset()  # "don't restart anything": never to be done

    def intents(self) -> set[str]:
        return {name for _, name in self.asked}


def _host_words(text: str, inventory: Inventory) -> tuple[list[tuple[int, str]], list[str]]:
    named: list[tuple[int, str]] = []
    unknown: list[str] = []
    local = LOCAL.search(text)
    if local:
        named.append((local.start(), inventory.local_host))
    names = sorted(inventory.hosts, key=len, reverse=True)
    spelled = re.compile(r"(?<![\w-])(" + "|".join(
        re.escape(n).replace(r"\-", r"[-_ ]?") for n in names) + rf"){_SUFFIX}(?![\w-])"
    ) if names else None
    taken: list[tuple[int, int]] = []
    if spelled is not None:
        for m in spelled.finditer(text):
            host = inventory.host_named(m.group(1))
            if host:
                named.append((m.start(), host))
                taken.append((m.start(), m.end()))
    for m in _HOST_LIKE.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        word = m.group(1)
        if re.fullmatch(r"(?:s|step|p|top|last|n|x|utf|sha|ipv|http|5xx)-?\d+[a-z]?", word):
            continue
        unknown.append(word)
    return named, unknown


_CONDITION = re.compile(r"(?<!tell me )(?<!let me know )(?<!see )(?<!check )(?<!find out )"
                        r"\b(?:if|only if|unless|eger|in case)\b(?! you\b| u\b)|\w(?:yse|ysa)\b"
                        r"|\w+ ise\b|(?:^|[,;] )should\b")
_PATH = re.compile(r"(?<![\w/])/[\w.@/-]*")
_PATH_COMPARED = re.compile(r"(?<![\w/])/[\w./-]*(?=(?: on [\w-]+)? (?:is|are) (?:over|above|more|"
                            r"greater|higher|under|below|less|at)\b)")
_THEN = re.compile(r"\b(?:then|after that|afterwards|once (?:that'?s|it'?s|done)|sonra|ardindan|"
                   r"sonrasinda|followed by|finally|lastly|before)\b")
# "since web-1 was rebooted yesterday": something that happened, not something asked for
_HAPPENED = re.compile(r"\b(?:was|were|got|has been|had been|have been|just)\s+")
# "don't restart anything": what follows is not asked for
_NEGATED = re.compile(r"\b(?:don'?t|do not|never|without|no need to|not to|dont)\s+")


def _next_word_end(text: str, at: int) -> int:
    """Where the word after ``at`` ends, with its space: "don't [just] restart"."""
    m = re.match(r"\w+\s+", text[at:])
    return at + m.end() if m else at
# Thresholds the request sets: each must be in a step's condition.
_THRESHOLD = re.compile(
    r"(?:above|over|more than|greater than|higher than|exceeds?|exceeding|below|under|"
    r"less than|lower than|[<>]=?)\s*%?\s*(\d+(?:\.\d+)?)|"
    r"%?(\d+(?:\.\d+)?)\s*%?'?\w*\s+(?:uzerinde|ustunde|fazla|altinda|gec|as[tma])")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
# Counts: "the last 40 lines", "top 5", "son 40 satir", "ilk 5 surec"
_COUNT = re.compile(r"\b(?:last|top|first|son|ilk)\s+(\d+)\b|\b(\d+)\s+(?:lines|satir\w*|processes|"
                    r"surec\w*)\b")
_TOP_N = re.compile(r"\bhead -n (\d+)")
_DF_MOUNT = re.compile(r"df -h (/\S*)")
DEFAULT_TOP = 10  # "show the top processes" without a count
DEFAULT_LINES = 100  # "show the nginx logs" without a count
_LINES = re.compile(r"^journalctl\b.*\s-n\s*(\d+)")
_SORT = re.compile(r"--sort=-%(cpu|mem)\b")
_RESOURCE = {"cpu": r"\bcpu|\bprocessor|\bislemci", "mem": r"\bmem|\bram\b|\bbellek|\bhafiza"}


def _mask_paths(text: str) -> str:
    """Paths out of the way of the action words ("/var/log/old" asks for no logs); /tmp
    stays, since cleaning it is an action; a path compared with a number reads as a disk."""
    text = _PATH_COMPARED.sub(" disk ", text)
    return _PATH.sub(lambda m: m.group(0) if m.group(0).rstrip("/") == "/tmp" else " ",
                     text)


def _unasked(part: str) -> str:
    """The part without the words that ask for an action (whole words)."""
    masked = _mask_paths(part)
    spans = [m.span() for i in INTENTS for m in i.asked.finditer(masked)]
    out = []
    for word in re.finditer(r"\S+", part):
        if not any(a < word.end() and word.start() < b for a, b in spans):
            out.append(word.group(0))
    return " ".join(out)


def _restarts_a_host(clause: str, inventory: Inventory) -> bool:
    names = "|".join(re.escape(h) for h in sorted(inventory.hosts, key=len, reverse=True))
    return bool(names and re.search(
        rf"\b(?:restart|bounce|recycle) (?:the )?(?:{names})(?![\w-])|"
        rf"(?<![\w-])(?:{names}){_SUFFIX} (?:yeniden|tekrar) baslat", clause))


def read_request(text: str, inventory: Inventory) -> Reading:
    norm = normalise(text)
    named, unknown = _host_words(norm, inventory)
    envs: list[str] = []
    for word in _WORDS.findall(norm):
        base = word.split("'")[0]
        env = base if base in inventory.environments else _ENV_WORDS.get(base)
        if env and env in inventory.environments and env not in envs:
            envs.append(env)
    clauses = tuple(c.strip(" ,.!?") for c in _STRONG.split(norm) if c.strip(" ,.!?"))
    asked: list[tuple[int, str]] = []
    weak: set[str] = set()
    forbidden: set[str] = set()
    parts: list[str] = []
    for i, clause in enumerate(clauses):
        parts += [p for p in _WEAK.split(clause) if p.strip(" ,.!?")]
        masked = _mask_paths(clause)
        taken: list[tuple[int, int]] = []
        negated = {end for m in _NEGATED.finditer(masked)
                   for end in (m.end(), _next_word_end(masked, m.end()))}
        happened = {m.end() for m in _HAPPENED.finditer(masked)}
        for intent in INTENTS:
            for m in intent.asked.finditer(masked):
                if any(a < m.end() and m.start() < b for a, b in taken):
                    continue
                taken.append((m.start(), m.end()))
                if m.start() in negated:
                    forbidden.add(intent.name)
                elif m.start() in happened:
                    continue
                elif (i, intent.name) not in asked:
                    asked.append((i, intent.name))
        if (i, "restart") in asked and _restarts_a_host(clause, inventory):
            asked[asked.index((i, "restart"))] = (i, "reboot")  # "restart web-1": the host
        here = [n for c, n in asked if c == i]
        for name in here:
            if _BY_NAME[name].weak and len(here) > 1:  # "memory status" asks for the memory
                asked.remove((i, name))
                weak.update(_BY_NAME[name].answers)
    quoted = tuple(q for pair in _QUOTED.findall(text.translate(_QUOTES)) for q in pair if q)
    return Reading(norm, clauses, tuple(parts), tuple(asked), frozenset(weak),
                   tuple(dict.fromkeys(h for _, h in sorted(named))),
                   tuple(dict.fromkeys(unknown)), tuple(envs), quoted,
                   frozenset(forbidden))


# -- the check ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """Why a plan is not accepted as the plan for a request, and what to ask instead."""

    kind: str                          # "host", "clause", "command", "repeat"
    message: str
    choices: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.message


def _named_service(service: str, reading: Reading) -> bool:
    words = {w.strip("'.,") for w in reading.text.replace("'", " ").split()}
    base = service.removesuffix(".service")
    return any(w == base or (len(w) >= 4 and (base.startswith(w) or w.startswith(base)))
               for w in words)


def host_problem(reading: Reading, inventory: Inventory,
                 picked: Collection[str] = ()) -> Problem | None:
    """A request that names a host altlas does not know, or none where one is needed."""
    if reading.unknown_hosts and not picked:
        word = reading.unknown_hosts[0]
        return Problem("host", f"{word!r} is not a host altlas knows", inventory.near(word))
    return None


def check(plan: Plan, reading: Reading, inventory: Inventory, *, environment: str | None = None,
          picked: Collection[str] = ()) -> list[Problem]:
    """Every way the plan differs from the request; empty when it does what was asked."""
    problems: list[Problem] = []
    unknown = host_problem(reading, inventory, picked)
    if unknown is not None:
        problems.append(unknown)
    hosts = set(reading.hosts) | set(picked)
    envs = set(reading.environments) | {inventory.hosts[h] for h in hosts if h in inventory.hosts}
    if not reading.environments and environment:
        envs.add(environment)
    asked = reading.intents()
    allowed = set(reading.allowed).union(*(_BY_NAME[n].answers for n in asked))
    covered_hosts: set[str] = set()
    done: list[str] = []
    seen: set[tuple[str, str, str | None, str | None, tuple[str, ...]]] = set()
    for step in plan.steps:
        where = f"step {step.id}"
        intent = meaning(step.kind, step.action)
        if step.kind == "promql":
            if step.target not in envs:
                problems.append(Problem("host", f"{where} queries {step.target!r}, an "
                                        "environment the request does not name",
                                        tuple(sorted(envs))))
            for host in re.findall(r'instance=~?"([\w.-]+)', step.action):
                if host not in hosts:
                    problems.append(Problem("host", f"{where} asks about {host!r}, a host the "
                                            "request does not name", tuple(sorted(hosts))))
                covered_hosts.add(host)
        elif step.kind != "llm":
            target = step.target or inventory.local_host
            # the maintenance flag lives on the altlas host, whatever else is named
            flag = intent == "maintenance" and target == inventory.local_host
            if target not in hosts and not flag:
                problems.append(Problem("host", f"{where} runs on {target!r}, a host the "
                                        "request does not name", tuple(sorted(hosts))))
            covered_hosts.add(target)
        given = any(step.action.strip() == q.strip() or (
            step.kind == "http" and re.search(rf"\bcurl\b.*{re.escape(step.action)}", q))
            for q in reading.quoted)  # word for word, or the URL of a curl given so
        if not given:
            problems += _meaning_problems(where, step.action, intent, reading, allowed)
        for service in services(step.action):
            if service in _FILLER:
                problems.append(Problem("clause", f"{where} acts on {service!r}, a word of the "
                                        "request, not a service"))
            elif not _named_service(service, reading):
                problems.append(Problem("clause", f"{where} acts on {service!r}, a service "
                                        "the request does not name"))
        key = (step.kind, step.action, step.target, step.when, step.needs)
        if key in seen:
            problems.append(Problem("repeat", f"{where} repeats an earlier step"))
        seen.add(key)
        if intent:
            done.append(intent)
    if done.count("summarise") > sum(1 for _, n in reading.asked if n == "summarise"):
        problems.append(Problem("repeat", "the plan summarises more often than asked"))
    for _, name in reading.asked:
        if not _BY_NAME[name].answers & set(done):
            problems.append(Problem("clause", f"nothing in the plan does what "
                                    f"'{name.replace('_', ' ')}' asks"))
    if _CONDITION.search(reading.text) and not any(step.when for step in plan.steps):
        problems.append(Problem("clause", "the request sets a condition, but no step waits "
                                "for one"))
    if (_THEN.search(reading.text) and len(plan.steps) > 1
            and not any(step.needs for step in plan.steps)):
        problems.append(Problem("clause", "the request says to do things in turn, but no "
                                "step waits for an earlier one"))
    problems += _invented_details(plan, reading)
    problems += _dropped_details(plan, reading)
    problems += _elliptical(plan, reading, inventory)
    for host in hosts - covered_hosts:
        if host in reading.hosts:
            problems.append(Problem("clause", f"the request names {host}, but no step is for it"))
    problems += _not_understood(plan, reading, inventory)
    for quoted in reading.quoted:  # a command cut short: "run `df -h \\` on web-1"
        try:
            shlex.split(quoted)
        except ValueError as e:
            problems.append(Problem("command", f"the command {quoted!r} cannot be read as a "
                                    f"shell would ({str(e).lower()}); give it whole"))
    problems += _misplaced(plan, reading, inventory)
    problems += _unfounded_summaries(plan)
    problems += _unplanned_clauses(reading, inventory)
    return list(dict.fromkeys(problems))


def _pairs(reading: Reading, inventory: Inventory) -> tuple[dict[str, set[str]], set[str]]:
    """Which hosts each asked action goes with: those named in its own part ("restart nginx
    on web-1 and check disk on db-1"), or in the parts after it that ask nothing ("… on web-1
    and web-2"); and the actions asked where no host is named, which may go anywhere named."""
    asked = reading.intents()
    pairs: dict[str, set[str]] = {}
    free: set[str] = set()
    current: list[str] = []  # the last action asked: "…, then on web-2" repeats it
    pending: set[str] = set()  # hosts named before their action: "web-1 ve web-2'de …"
    for clause in reading.clauses:
        for part in (p for p in _WEAK.split(clause) if p.strip(" ,.!?")):
            masked = _mask_paths(part)
            names = [i.name for i in INTENTS if i.name in asked and i.asked.search(masked)]
            if "restart" in names and _restarts_a_host(part, inventory):
                names[names.index("restart")] = "reboot"
            hosts = {h for _, h in _host_words(part, inventory)[0]}
            if names:
                current, hosts, pending = names, hosts | pending, set()
            elif hosts and not current:
                pending |= hosts
                continue
            if hosts:
                for name in current:
                    pairs.setdefault(name, set()).update(hosts)
            elif names:
                free.update(names)
    return pairs, free


def _misplaced(plan: Plan, reading: Reading, inventory: Inventory) -> list[Problem]:
    """A step on a host the request named for something else: "restart nginx on web-1 and
    check disk on db-1" restarts nothing on db-1."""
    pairs, free = _pairs(reading, inventory)
    problems = []
    for step in plan.steps:
        if step.kind in ("llm", "promql"):
            continue
        done = meaning(step.kind, step.action)
        if done is None:
            continue
        names = [n for n in reading.intents() if done in _BY_NAME[n].answers]
        if not names or any(n in free or n not in pairs for n in names):
            continue
        meant = set().union(*(pairs[n] for n in names))
        target = step.target or inventory.local_host
        if target not in meant:
            problems.append(Problem("host", f"step {step.id} does {done.replace('_', ' ')} on "
                                    f"{target}, but the request asks for it on "
                                    f"{', '.join(sorted(meant))}", tuple(sorted(meant))))
    return problems


def _unfounded_summaries(plan: Plan) -> list[Problem]:
    """An llm step answers from the outputs it needs: with none, it answers from nothing."""
    by_id = {s.id: s for s in plan.steps}

    def evidence(step_id: str, seen: set[str]) -> bool:
        if step_id in seen or step_id not in by_id:
            return False
        seen.add(step_id)
        step = by_id[step_id]
        return step.kind != "llm" or any(evidence(n, seen) for n in step.needs)

    return [Problem("clause", f"step {s.id} summarises, but no step before it reads anything "
                    "for it to summarise; say what to look at, e.g. 'the nginx logs on web-1'")
            for s in plan.steps if s.kind == "llm"
            and not any(evidence(n, set()) for n in s.needs)]


def _unplanned_clauses(reading: Reading, inventory: Inventory) -> list[Problem]:
    """"…, then check both": a clause that asks to do something altlas cannot tell, and
    names no host to repeat the clause before on, is asked about, never dropped."""
    problems = []
    for i, clause in enumerate(reading.clauses):
        if any(c == i for c, _ in reading.asked) or _host_words(clause, inventory)[0]:
            continue
        if _DOING.search(clause) and not _NEGATED.search(clause) and not _AGAIN.search(clause):
            problems.append(Problem("clause", f"altlas cannot tell what {clause!r} asks to "
                                    "do; say it, e.g. 'then check nginx is running on web-1'"))
    return problems


def _meaning_problems(where: str, action: str, intent: str | None, reading: Reading,
                      allowed: set[str]) -> list[Problem]:
    if intent is None:
        return [Problem("command", f"{where}: {action!r} is not a command altlas knows the "
                        "meaning of, and the request does not give it word for word")]
    if intent in reading.forbidden:
        return [Problem("clause", f"{where} does {intent.replace('_', ' ')}, which the "
                        "request says not to do")]
    if intent not in allowed:
        return [Problem("clause", f"{where} does {intent.replace('_', ' ')}, which the "
                        "request does not ask for")]
    return []


def _invented_details(plan: Plan, reading: Reading) -> list[Problem]:
    """Thresholds, counts and mounts the request never gave: a plan that restarts at 80% when
    90% was asked, or looks at /var when the person asked about / , is another plan."""
    given = {float(n) for n in _NUMBER.findall(reading.text)}
    problems = []
    for step in plan.steps:
        where = f"step {step.id}"
        numbers = _NUMBER.findall(re.sub(r"\bs\w*\.\w+", " ", step.when or ""))
        top = _TOP_N.search(step.action) if step.kind == "ssh" else None
        if top and int(top.group(1)) != DEFAULT_TOP:
            numbers.append(top.group(1))
        for number in dict.fromkeys(numbers):
            if float(number) not in given | {0.0}:
                problems.append(Problem("clause", f"{where} uses {number}, a number the "
                                        "request does not give"))
        lines = _LINES.search(step.action) if step.kind == "ssh" else None
        if lines and int(lines.group(1)) != DEFAULT_LINES:
            numbers.append(lines.group(1))
        sort = _SORT.search(step.action) if top else None
        if sort and not re.search(_RESOURCE[sort.group(1)], reading.text):
            problems.append(Problem("clause", f"{where} sorts processes by {sort.group(1)}, "
                                    "which the request does not ask for"))
        mount = _DF_MOUNT.fullmatch(step.action.strip()) if step.kind == "ssh" else None
        if mount and mount.group(1).rstrip("/") and mount.group(1).rstrip("/") not in {
                p.rstrip("/") for p in _PATH.findall(reading.text)}:
            problems.append(Problem("clause", f"{where} looks at {mount.group(1)}, a mount the "
                                    "request does not name"))
    return problems


def _dropped_details(plan: Plan, reading: Reading) -> list[Problem]:
    """Thresholds and counts the request gives that the plan leaves out: "if disk is over
    90% and load above 4" with one condition, or "the last 40 lines" read as 100."""
    conditions = " ".join(step.when or "" for step in plan.steps)
    used = {float(n) for n in _NUMBER.findall(re.sub(r"\bs\w*\.\w+", " ", conditions))}
    actions = " ".join(step.action for step in plan.steps)
    used |= {float(n) for n in re.findall(r"(?<![\w.%-])\d+(?:\.\d+)?(?![\w.-])", actions)}
    problems = []
    for m in _THRESHOLD.finditer(_mask_hosts(reading.text)):
        number = m.group(1) or m.group(2)
        if float(number) not in used:
            problems.append(Problem("clause", f"the request compares with {number}, but no "
                                    "step's condition does"))
    for m in _COUNT.finditer(_mask_hosts(reading.text)):
        number = m.group(1) or m.group(2)
        if float(number) not in used:
            problems.append(Problem("clause", f"the request asks for {number} of something, "
                                    "but no step uses that number"))
    return problems


def _mask_hosts(text: str) -> str:
    return _HOST_LIKE.sub(" ", text)


def _elliptical(plan: Plan, reading: Reading, inventory: Inventory) -> list[Problem]:
    """ "restart nginx on web-1, then on web-2": a clause that names hosts and asks nothing
    asks again what the clause before it asked, on those hosts."""
    problems = []
    for i, clause in enumerate(reading.clauses):
        if i == 0 or any(c == i for c, _ in reading.asked):
            continue
        before = {n for c, n in reading.asked if c == i - 1}
        named, _ = _host_words(clause, inventory)
        for _, host in named:
            done = {meaning(s.kind, s.action) for s in plan.steps if s.target == host}
            for name in sorted(before):
                if not _BY_NAME[name].answers & done:
                    problems.append(Problem("clause", f"'{clause}' asks for "
                                            f"{name.replace('_', ' ')} on {host} again, but no "
                                            "step does it there"))
    return problems


def _not_understood(plan: Plan, reading: Reading, inventory: Inventory) -> list[Problem]:
    """Parts of the request no step accounts for: words that are not filler, a host, an
    environment, a number, an action word or something a step names."""
    vocabulary: set[str] = set()
    for step in plan.steps:
        vocabulary.update(w.lower() for w in re.findall(r"[\w.@/-]+", step.action))
        vocabulary.update(p.rstrip("/") for p in re.findall(r"/[\w./-]+", step.action))
    return [Problem("clause", f"altlas does not understand {part!r} ({', '.join(strange[:3])})")
            for part, strange in unaccounted(reading, inventory, vocabulary)]


def unaccounted(reading: Reading, inventory: Inventory, vocabulary: Collection[str] = ()
                ) -> list[tuple[str, list[str]]]:
    """Each part of the request with the words nothing accounts for: not filler, a host, an
    environment, a number, an action word, a quoted word or one of ``vocabulary``."""
    known = {w.lower() for q in reading.quoted for w in re.findall(r"[\w.@/-]+", q)}
    known.update(vocabulary)
    found = []
    for part in reading.parts:
        words = [w.strip("'.,:;!?()") for w in _WORDS.findall(_unasked(part))]
        strange = [w for w in words if w and not _accounted(w, inventory, known)]
        if strange:
            found.append((part, strange))
    return found


def _accounted(word: str, inventory: Inventory, vocabulary: set[str]) -> bool:
    base = word.split("'")[0]
    if _HOST_LIKE.fullmatch(base):
        return True  # a host: known, or already asked about
    if base in _FILLER or word in _FILLER or base in vocabulary or word in vocabulary:
        return True
    if base.startswith(_FILLER_STEMS) or word.rstrip("/") in vocabulary:
        return True
    if inventory.host_named(base) or base in inventory.environments or base in _ENV_WORDS:
        return True
    if any(h.startswith(base + "-") for h in inventory.hosts):  # "the web server"
        return True
    if re.fullmatch(r"[\d.,%]+[a-z%]{0,3}|%?\d+|\d+(?:st|nd|rd|th)", base):
        return True
    if len(base) <= 2 or base in {"altlas", "local"}:
        return True
    return any(base.startswith(v) and len(v) >= 4 for v in vocabulary if v.isalpha())


