"""Who may do what: one check for every front (chat, HTTP, the command line).

A front only says who is asking (a chat identity, a bearer token, `--as`); the use cases ask
this module whether that person may do it, so the rules cannot differ between fronts.
"""

from __future__ import annotations

from collections.abc import Callable

from application.i18n import t
from domain.errors import NotAllowedError
from domain.policy import Policy

# The role each action needs; None: any person of the policy.
ROLES: dict[str, str | None] = {
    "read": None,
    "request": "requester",        # ask for work, submit a plan
    "plan": "requester",           # record the plan of one's own task
    "answer": "requester",         # answer what altlas asked about one's own task
    "vote": "approver",
    "deny": "approver",
    "cancel": "requester",         # withdraw one's own approval request
    "start": "operator",           # start a run by hand (the reactions start them)
    "report": "operator",          # report a step run outside altlas
    "confirm": "approver",         # say a step left to a person was done by hand
    "reject": "operator",
    "expire": "operator",
    "audit": "auditor",
    "import": "operator",          # import another installation's .atlas
    "judge": "approver",           # say which of two planners' plans was better (a match)
    "replay": "admin",             # write views as of a time into a database one names
    "forget": "admin",             # ask to forget a person (someone else grants it)
    "personal_data": "admin",      # everything recorded about a person
    "register_model": "operator",  # register a GGUF file (it plans nothing until activated)
    "activate_model": "operator",  # ask that another model plan (someone else grants it)
    "train": "operator",           # build a training set: requests in clear, credentials out
    "publish_runbook": "operator", # a new version of a runbook (gated ones: someone else grants)
    "run_runbook": "requester",    # run a published runbook: a request, through its gates
    "schedule_runbook": "operator",  # a trigger that runs a runbook on one's behalf
    "end_sessions": "admin",       # end the dashboard sessions of another person
}
# Who may grant what concerns the whole installation (forgetting a person, the model that
# plans, a training) besides the one who asks.
INSTALLATION_APPROVERS = frozenset({"admin", "approver"})
# Actions on something a person owns: only its owner, or a person with this role.
OWNER_OR: dict[str, str | None] = {"plan": None, "answer": None, "cancel": "operator"}
# Actions any person may do to themselves (``owner`` is who asks), and to someone else only
# with the action's role.
ON_ONESELF = frozenset({"end_sessions"})


class Access:
    """``policy``: the policy in use (the process adopts each valid edit); ``credentials``:
    the policy file as it stands now, which every credential is checked against and which
    raises PolicyUnavailableError while the file cannot be used (docs/ARCHITECTURE.md §2:
    one policy state for every credential)."""

    def __init__(self, policy: Callable[[], Policy],
                 credentials: Callable[[], Policy] | None = None) -> None:
        self._policy = policy
        self._credentials = credentials or policy

    @property
    def policy(self) -> Policy:
        return self._policy()

    def credentials(self) -> Policy:
        """The policy a credential is checked against; PolicyUnavailableError, for every
        credential alike, while the policy file cannot be used."""
        return self._credentials()

    def token_holder(self, token: str) -> str | None:
        """Who an API bearer token belongs to."""
        return self.credentials().person_for_token(token)

    def identify(self, identity: str) -> str | None:
        """The person a chat identity (slack:U…, discord:…) belongs to."""
        return self.credentials().person_for_identity(identity)

    def person(self, name: str) -> str:
        """``name`` if the policy knows the person; the command line's --as goes here."""
        if name not in self.policy.people:
            known = ", ".join(sorted(self.policy.people))
            raise UnknownPersonError(f"{name!r} is not a person in the policy (people: {known})",
                                     name)
        return name

    def check(self, person: str, action: str, *, owner: str | None = None) -> None:
        """Raise AccessDeniedError unless ``person`` may do ``action`` (to what ``owner``
        owns)."""
        self.person(person)
        roles = self.policy.roles_of(person)
        if "admin" in roles or (action in ON_ONESELF and owner == person):
            return
        role = ROLES[action]
        if role is not None and role not in roles:
            raise AccessDeniedError(denied_text("en", person, action, role), person, action,
                                    role)
        if action in OWNER_OR and owner is not None and person != owner:
            override = OWNER_OR[action]
            if override is None or override not in roles:
                raise NotOwnerError(f"only {owner}, who asked for it, may "
                                    f"{t('en', f'doing.{action}')}"
                                    + (f" (or an {override})" if override else ""),
                                    person, action, owner)

    def alert_sender(self, authorization: str | None) -> None:
        """Raise UnknownSenderError unless the credentials are those the policy gives
        Alertmanager (alerts are recorded as the sender's, not a person's)."""
        sender = self.credentials().alertmanager
        if not sender.configured:
            raise UnknownSenderError("alert ingest is off: set alertmanager.bearer_sha256 or "
                                     "alertmanager.basic_auth in the policy",
                                     "alerts_not_configured")
        if not sender.accepts(authorization):
            raise UnknownSenderError("send the bearer token or basic auth the policy's "
                                     "alertmanager section names (http_config)",
                                     "not_alertmanager")

    def roles(self, person: str) -> frozenset[str]:
        return self.policy.roles_of(person)


def denied_text(locale: str, person: str, action: str, role: str) -> str:
    """What ``person`` may not do, in words, and the role it needs."""
    return t(locale, "needs_role", person=person, doing=t(locale, f"doing.{action}"), role=role)


def installation_approvers(policy: Policy) -> frozenset[str]:
    """The people who may grant an approval of the whole installation's."""
    return frozenset(p for p in policy.people if policy.roles_of(p) & INSTALLATION_APPROVERS)


class UnknownSenderError(NotAllowedError):
    """Alerts from someone the policy does not name as the alert sender."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class UnknownPersonError(NotAllowedError):
    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name


class AccessDeniedError(NotAllowedError):
    def __init__(self, message: str, person: str, action: str, role: str) -> None:
        super().__init__(message)
        self.person, self.action, self.role = person, action, role


class NotOwnerError(NotAllowedError):
    def __init__(self, message: str, person: str, action: str, owner: str) -> None:
        super().__init__(message)
        self.person, self.action, self.owner = person, action, owner
