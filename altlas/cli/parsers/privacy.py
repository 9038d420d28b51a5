"""The commands of privacy: what they accept; `altlas.cli.privacy` carries them out."""

from __future__ import annotations

from altlas.cli.parsing import (
    DOCUMENT_JSON,
    Subparsers,
    actor,
    add,
    as_json,
    group,
    path_arg,
)


def register(sub: Subparsers) -> None:
    privacy = group(sub, "privacy", "forget a person; export what is recorded about one")
    p = add(privacy, "forget", "privacy:privacy_forget",
            "ask to forget a person (admins): once someone else approves, their key is "
            "destroyed and their name and what they wrote read as erased everywhere; the "
            "history still verifies")
    p.add_argument("person", metavar="PERSON",
                   help="a name, or #id as an erased person is shown")
    actor(p)
    p.add_argument("--reason", default="", help="why, for the record (sealed with your key)")
    as_json(p)
    p = add(privacy, "export", "privacy:privacy_export",
            "everything recorded about a person, as JSON lines (admins; a data-access "
            "request)")
    p.add_argument("person", metavar="PERSON",
                   help="a name, or #id as an erased person is shown")
    actor(p)
    p.add_argument("--output", type=path_arg, default="-", metavar="FILE", help="default stdout")
    as_json(p, DOCUMENT_JSON)
