"""The dashboard's words in English and Turkish. Apart from application/i18n.py, whose
catalog is what altlas tells people in chat and on the command line: these are the labels of
pages, many and short; a reason altlas gives (a refused vote) still comes from there."""

from __future__ import annotations

from typing import Any

from application.i18n import CATALOGS
from application.i18n import t as told

EN: dict[str, str] = {
    "title": "altlas",
    "nav.now": "Now",
    "nav.runs": "Runs",
    "nav.tasks": "Tasks",
    "nav.main": "Main",
    "signed_in_as": "Signed in as {person}",
    "sign_out": "Sign out",
    "signin.title": "Sign in",
    "signin.token": "API token",
    "signin.help": "Paste your API token. An admin makes one with "
                   "`altlas token new --for YOU`; it is not kept, only a session cookie is.",
    "signin.submit": "Sign in",
    "signin.unknown": "This token is not in the policy's api_tokens: ask an admin for one "
                      "(`altlas token new --for YOU`).",
    "signin.needed": "Sign in to see this page.",
    "signin.ended": "Your session ended (it expired, or your token or person left the "
                    "policy): sign in again.",
    "error.title": "Something is not right",
    "error.back": "Back to Now",
    "error.not_found": "No such page. Start again from Now.",
    "error.forged": "This form was not sent from your own page (its CSRF token is missing or "
                    "wrong): open the page again and send it from there.",
    "error.invalid": "{where}: {message}. Correct it and try again.",
    "error.policy": "The policy file cannot be used, so nobody is signed in until an admin "
                    "fixes it: {reason}",
    "skip": "Skip to the content",
    "live.note": "Updates live.",
    "now.approvals": "Open approvals",
    "now.no_approvals": "Nothing waits for an approval.",
    "now.step": "Step",
    "now.runs": "Will run",
    "now.why": "Why",
    "now.requester": "Asked by",
    "now.votes": "Votes",
    "now.quorum": "{have} of {required}",
    "now.left": "Time left",
    "now.minutes": "{m} min {s} s",
    "now.approve": "Approve",
    "now.deny": "Deny",
    "now.reason": "Reason",
    "now.running": "Runs in progress",
    "now.no_runs": "No run is in progress.",
    "now.incidents": "Open incidents",
    "now.no_incidents": "No incident is open.",
    "now.opened": "opened {at}",
    "now.cause": "likeliest cause",
    "now.failing": "Patterns that fail too often",
    "now.no_failing": "No pattern fails too often.",
    "now.rate": "{successes} of {runs} runs succeeded ({rate}%)",
    "runs.run": "Run",
    "runs.request": "Request",
    "runs.started": "Started",
    "decided.open": "Your approval of {id} is counted: {remaining} more needed.",
    "decided.granted": "Approval {id} is granted: the run goes on.",
    "decided.denied": "Approval {id} is denied: the step and what needs it are cancelled.",
    "deny.reason": "Say why you deny it (at most {most} characters), then send again.",
}

TR: dict[str, str] = {
    "nav.now": "Şimdi",
    "nav.runs": "Çalışmalar",
    "nav.tasks": "Görevler",
    "nav.main": "Ana menü",
    "signed_in_as": "{person} olarak girildi",
    "sign_out": "Çıkış",
    "signin.title": "Giriş",
    "signin.token": "API belirteci",
    "signin.help": "API belirtecinizi yapıştırın. Bir yönetici `altlas token new --for SİZ` "
                   "ile üretir; belirteç saklanmaz, yalnızca bir oturum çerezi tutulur.",
    "signin.submit": "Giriş yap",
    "signin.unknown": "Bu belirteç politikanın api_tokens listesinde yok: bir yöneticiden "
                      "isteyin (`altlas token new --for SİZ`).",
    "signin.needed": "Bu sayfayı görmek için giriş yapın.",
    "signin.ended": "Oturumunuz bitti (süresi doldu ya da belirteciniz veya kişiniz "
                    "politikadan çıkarıldı): yeniden giriş yapın.",
    "error.title": "Bir sorun var",
    "error.back": "Şimdi sayfasına dön",
    "error.not_found": "Böyle bir sayfa yok. Şimdi sayfasından yeniden başlayın.",
    "error.forged": "Bu form kendi sayfanızdan gönderilmedi (CSRF belirteci yok ya da "
                    "yanlış): sayfayı yeniden açıp oradan gönderin.",
    "error.invalid": "{where}: {message}. Düzeltip yeniden deneyin.",
    "error.policy": "Politika dosyası kullanılamıyor; bir yönetici düzeltene kadar kimse "
                    "giriş yapamaz: {reason}",
    "skip": "İçeriğe geç",
    "live.note": "Canlı güncellenir.",
    "now.approvals": "Açık onaylar",
    "now.no_approvals": "Onay bekleyen bir şey yok.",
    "now.step": "Adım",
    "now.runs": "Çalıştıracağı",
    "now.why": "Neden",
    "now.requester": "İsteyen",
    "now.votes": "Oylar",
    "now.quorum": "{required} onayın {have} tanesi",
    "now.left": "Kalan süre",
    "now.minutes": "{m} dk {s} sn",
    "now.approve": "Onayla",
    "now.deny": "Reddet",
    "now.reason": "Gerekçe",
    "now.running": "Süren çalışmalar",
    "now.no_runs": "Süren bir çalışma yok.",
    "now.incidents": "Açık olaylar",
    "now.no_incidents": "Açık bir olay yok.",
    "now.opened": "{at} açıldı",
    "now.cause": "en olası neden",
    "now.failing": "Sık başarısız olan kalıplar",
    "now.no_failing": "Sık başarısız olan bir kalıp yok.",
    "now.rate": "{runs} çalışmanın {successes} tanesi başarılı (%{rate})",
    "runs.run": "Çalışma",
    "runs.request": "İstek",
    "runs.started": "Başladı",
    "decided.open": "{id} onayınız sayıldı: {remaining} onay daha gerekiyor.",
    "decided.granted": "{id} onaylandı: çalışma sürüyor.",
    "decided.denied": "{id} reddedildi: adım ve ona bağlı olanlar iptal edildi.",
    "deny.reason": "Neden reddettiğinizi yazın (en çok {most} karakter) ve yeniden gönderin.",
}

PAGES: dict[str, dict[str, str]] = {"en": EN, "tr": TR}


def t(locale: str, key: str, **params: Any) -> str:
    """A page's label in ``locale`` (English if missing); a key of altlas's own catalog
    (a reason, a status) is read from there."""
    catalog = PAGES.get(locale, EN)
    text = catalog.get(key, EN.get(key))
    if text is None:
        return told(locale if locale in CATALOGS else "en", key, **params)
    return text.format(**params)
