"""The views' head revision that every command checks without importing alembic."""

from alembic.script import ScriptDirectory

from projections.store import HEAD_REVISION, alembic_config


def test_the_head_checked_at_start_is_the_newest_migration() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION
