"""Who is asking: a bearer token turned into the policy's person."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.api.errors import AuthError
from application.access import Access
from application.errors import PolicyUnavailableError


def authenticator(access: Access) -> Callable[..., str]:
    """The FastAPI dependency that turns a bearer token into the policy's person.

    Tokens are checked against ``access.credentials()``, the policy file as it stands now:
    a token removed from it is refused from the next request on, and a file that became
    invalid refuses every token (503) until it is fixed, as it refuses every other
    credential of the policy.
    """
    bearer = HTTPBearer(auto_error=False)

    def person(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:
        if creds is None:
            raise AuthError(401, "unauthenticated", "send Authorization: Bearer <token> "
                            "(`altlas token new --for PERSON` makes one)")
        try:
            who = access.token_holder(creds.credentials)
        except PolicyUnavailableError as e:
            raise unavailable(e, "no token") from None
        if who is None:
            raise AuthError(401, "unknown_token", "this token is not in the policy's "
                            "api_tokens")
        return who

    return person


def unavailable(error: PolicyUnavailableError, what: str) -> AuthError:
    """503 for any credential while the policy file cannot be used."""
    return AuthError(503, "policy_unavailable", f"the policy file cannot be used, so {what} "
                     f"is accepted until it is fixed: {error}")
