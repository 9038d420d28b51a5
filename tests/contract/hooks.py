"""What schemathesis cannot read from the schema: a valid voice clip. The schema says the
`audio` part of POST /voice is a file of an audio media type (its multipart encoding), not
that it holds speech; schemathesis generates a part of a media type with the strategy
registered for it, so its positive examples are real clips (synthesised here, as the voice
tests' are) rather than random bytes the server rightly refuses as not audio. Every check
still runs on every operation. Loaded with SCHEMATHESIS_HOOKS."""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

from adapters.api.voice import CLIP_TYPES
from testkit.speech import as_ogg_opus, say

CLIPS = [as_ogg_opus(say(text)) for text in ("check disk on web one",
                                            "check uptime on db one")]

for media_type in CLIP_TYPES:  # ogg/opus is read whatever the part says it is
    schemathesis.openapi.media_type(media_type, st.sampled_from(CLIPS))
