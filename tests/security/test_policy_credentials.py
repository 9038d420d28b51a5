"""One policy state for every credential the policy gives (docs/ARCHITECTURE.md §2): while
the policy file cannot be used, API tokens, Alertmanager's credential and chat identities are
all refused alike, with the reason, and nothing is recorded; once it is fixed, or edited
validly, each of them follows the file as it stands, not the policy the process started with.
Served by uvicorn with Slack mounted, as `altlas serve` is."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from testkit.helpers import ALERTMANAGER_PASSWORD, ALERTMANAGER_TOKEN, TOKENS
from testkit.slack_desk import approval_of, ephemeral, is_card, posted, wait
from tests.integration.test_http_api import alertmanager_payload
from tests.security.test_http_requests import ALERTS, Served
from tests.security.test_http_requests import served as served  # uvicorn, Slack mounted

ALICE, ERIN = "U0ALICE01", "U0ERIN001"
BEARER = {"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"}
BASIC = {"Authorization": "Basic " + base64.b64encode(
    f"alertmanager:{ALERTMANAGER_PASSWORD}".encode()).decode()}
REFUSED = "The policy file cannot be used, so altlas takes no command from chat"


def alert(served: Served, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{served.url}{ALERTS}", json=alertmanager_payload(), headers=headers,
                      timeout=10)


def recorded(served: Served, kind: str = "") -> int:
    """Events recorded so far (of types starting with ``kind``)."""
    return sum(1 for r in served.desk.system.history.read() if r.type_name.startswith(kind))


BREAKS: dict[str, Callable[[Path], Any]] = {
    "not YAML": lambda path: path.write_text("people: [unclosed\n"),
    "deleted": lambda path: path.unlink(),
    "an unknown key": lambda path: path.write_text(path.read_text() + "surprise: 1\n"),
}


@pytest.mark.parametrize("breaks", sorted(BREAKS))
def test_an_invalid_policy_refuses_every_credential_alike_until_fixed(
    served: Served, breaks: str
) -> None:
    assert alert(served, BEARER).status_code == 200
    desk = served.desk
    desk.command(ERIN, "do set the maintenance flag on the altlas host")
    card = wait(lambda: next(iter(posted(desk, is_card)), None))
    good = served.policy.read_text()
    BREAKS[breaks](served.policy)
    before = recorded(served)

    token = served.get("/tasks", TOKENS["alice"])
    assert (token.status_code, token.json()["error"]) == (503, "policy_unavailable")
    for credential in (BEARER, BASIC, BEARER):  # the same delivery again is refused again
        webhook = alert(served, credential)
        assert (webhook.status_code, webhook.json()["error"]) == (503, "policy_unavailable")
        assert "no alert is accepted until it is fixed" in webhook.json()["message"]
    desk.command(ALICE, "approvals")
    assert REFUSED in wait(lambda: ephemeral(desk, ALICE))[0]
    desk.click(ALICE, "altlas_approve", card)  # a button, not a command
    assert REFUSED in wait(lambda: ephemeral(desk, ALICE)[1:])[0]
    assert recorded(served) == before  # not even a refused click is put on the record
    assert desk.system.app.get_approval(UUID(approval_of(card))).votes == []

    served.policy.write_text(good)
    assert served.get("/tasks", TOKENS["alice"]).status_code == 200
    assert alert(served, BEARER).status_code == 200
    desk.click(ALICE, "altlas_approve", card)
    assert wait(lambda: desk.system.app.get_approval(UUID(approval_of(card))).votes)


def test_a_webhook_credential_removed_from_the_policy_is_refused_at_once(
    served: Served
) -> None:
    """The webhook follows the file as tokens do, not the policy the process started with."""
    assert alert(served, BEARER).status_code == 200
    good = served.policy.read_text()
    rotated = hashlib.sha256(b"tok-alertmanager-rotated").hexdigest()
    served.policy.write_text(good.replace(
        hashlib.sha256(ALERTMANAGER_TOKEN.encode()).hexdigest(), rotated))
    before = recorded(served, "Alert")
    assert alert(served, BEARER).status_code == 401
    assert recorded(served, "Alert") == before
    assert alert(served, {"Authorization": "Bearer tok-alertmanager-rotated"}
                        ).status_code == 200


def test_a_chat_identity_removed_from_the_policy_is_unknown_at_once(served: Served) -> None:
    desk = served.desk
    policy = served.policy.read_text()
    served.policy.write_text(policy.replace("slack:U0ALICE01", "slack:U0ALICE99"))
    desk.command(ALICE, "approvals")
    assert "I don't know slack:U0ALICE01" in wait(lambda: ephemeral(desk, ALICE))[0]
