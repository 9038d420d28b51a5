"""Who is asking: a bearer token turned into the policy's person."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.api.errors import AuthError
from adapters.policy_watch import PolicyUnavailableError, PolicyWatch
from domain.policy import Policy


def authenticator(policy: Policy, path: Path | None = None,
                  watch: PolicyWatch | None = None) -> Callable[..., str]:
    """The FastAPI dependency that turns a bearer token into the policy's person.

    With the policy's ``path``, tokens follow the file without a restart: a token removed
    from it is refused from the next request on, and a file that became invalid refuses
    every token (503) until it is fixed. ``watch`` is the process's own, when it has one.
    """
    bearer = HTTPBearer(auto_error=False)
    watch = watch or PolicyWatch(policy, path)
    watch.consequences.append("API requests are refused")

    def person(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:
        if creds is None:
            raise AuthError(401, "unauthenticated", "send Authorization: Bearer <token> "
                            "(`altlas token new --for PERSON` makes one)")
        try:
            current = watch.current()
        except PolicyUnavailableError as e:
            raise AuthError(503, "policy_unavailable", f"the policy file cannot be used, "
                            f"so no token is accepted until it is fixed: {e}") from None
        who = current.person_for_token(creds.credentials)
        if who is None:
            raise AuthError(401, "unknown_token", "this token is not in the policy's "
                            "api_tokens")
        return who

    return person
