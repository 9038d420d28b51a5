"""Voice clips on every chat front (Slack, Discord): the clip, once the front downloaded it,
heard through the one use case; "I heard: …" first, then what the typed request would have
answered, or the doubt with its two buttons. The platforms only fetch and render."""

from __future__ import annotations

from dataclasses import dataclass, field

from application.errors import AudioRefusedError
from application.i18n import t
from application.plain_text import shown
from application.ports import SpeechWarmingError
from application.use_cases.voice import VoiceNotEnabledError
from bots.chat import Caller, ChatFront, Reply
from domain.errors import DomainError
from domain.voice import HearingSettledError, NotSpeakerError


@dataclass
class Heard:
    """What a front posts for a clip, in order: "I heard: …", then ``then`` (the typed
    request's answer), or the doubt alone with its buttons (``hearing_id``)."""

    first: Reply
    then: Reply | None = None
    hearing_id: str | None = None
    replies: list[Reply] = field(init=False)

    def __post_init__(self) -> None:
        self.replies = [self.first, *([self.then] if self.then else [])]


class ChatVoice:
    def __init__(self, chat: ChatFront, max_bytes: int) -> None:
        self.chat = chat
        self.max_bytes = max_bytes

    def hear(self, caller: Caller, audio: bytes, reply_to: dict[str, str]) -> Heard:
        """The downloaded clip: nothing is recorded unless it is heard as a request."""
        refused = self._refused_caller(caller)
        if refused is not None:
            return Heard(refused)
        loc = caller.locale
        try:
            heard = self.chat.use_cases.hear_request(
                caller.who, audio, source=caller.source, reply_to={**reply_to, "locale": loc})
        except AudioRefusedError as e:
            return Heard(self.refused(caller, e))
        except VoiceNotEnabledError:
            return Heard(Reply(t(loc, "voice.disabled"), locale=loc))
        except SpeechWarmingError:
            return Heard(Reply(t(loc, "voice.warming"), locale=loc))
        except DomainError as e:
            return Heard(Reply(t(loc, "refused", reason=self.chat._reason(caller, e)),
                               locale=loc))
        if heard.hearing is not None:
            return Heard(Reply(t(loc, "voice.doubted", transcript=shown(heard.transcript)),
                               locale=loc), hearing_id=heard.hearing.id)
        assert heard.task is not None
        working = Reply(t(loc, "working", request=shown(heard.task.request)), locale=loc,
                        task_id=heard.task.id)
        return Heard(Reply(t(loc, "voice.heard", transcript=shown(heard.transcript)),
                           locale=loc), working)

    def refused(self, caller: Caller, error: AudioRefusedError) -> Reply:
        """Why a clip was not heard (or not even downloaded), in the caller's words."""
        loc = caller.locale
        return Reply(t(loc, f"voice.refused.{error.reason}", detail=str(error),
                       limit=f"{self.max_bytes / 1_048_576:.0f} MB"), locale=loc)

    def too_large(self, caller: Caller) -> Reply:
        return self.refused(caller, AudioRefusedError("over the limit", "too_large"))

    def answer(self, caller: Caller, hearing_id: str, yes: bool) -> Reply:
        """A click on "yes, that's it" or "no": only the speaker's counts. Yes asks for the
        work (its plan comes in the thread of this reply); no drops it."""
        refused = self._refused_caller(caller)
        if refused is not None:
            return refused
        uc, loc = self.chat.use_cases, caller.locale
        try:
            if yes:
                task = uc.confirm_hearing(caller.who, hearing_id)
                return Reply(t(loc, "working", request=shown(task.request)), locale=loc,
                             task_id=task.id)
            hearing = uc.reject_hearing(caller.who, hearing_id)
            return Reply(t(loc, "voice.rejected", transcript=shown(hearing.transcript)),
                         locale=loc)
        except NotSpeakerError:
            speaker = uc.hearing(caller.who, hearing_id).speaker
            reason = t(loc, "voice.not_speaker", speaker=speaker)
        except HearingSettledError:
            reason = t(loc, "voice.settled", status=uc.hearing(caller.who, hearing_id).status)
        except DomainError as e:
            reason = self.chat._reason(caller, e)
        return Reply(t(loc, "refused", reason=reason), ephemeral=True, locale=loc)

    def _refused_caller(self, caller: Caller) -> Reply | None:
        loc = caller.locale
        if caller.unusable_policy is not None:
            return Reply(t(loc, "policy_unavailable", reason=caller.unusable_policy),
                         ephemeral=True, locale=loc)
        if caller.person is None:
            return Reply(t(loc, "unknown_person", identity=caller.identity), ephemeral=True,
                         locale=loc)
        return None
