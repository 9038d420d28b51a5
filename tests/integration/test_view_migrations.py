"""Views databases are brought to the newest schema, and left alone once they are there."""

from pathlib import Path

from sqlalchemy import inspect, text

from projections.store import HEAD_REVISION, at_head, migrate, open_engine


def test_a_new_views_database_is_migrated_to_the_head(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'views.db'}")
    assert not at_head(engine)
    migrate(engine)
    assert at_head(engine)
    assert "tasks" in inspect(engine).get_table_names()


def test_views_left_at_an_older_revision_are_migrated_on(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'views.db'}")
    migrate(engine)
    with engine.begin() as conn:  # 0013 folds the incidents again from the events
        conn.execute(text("INSERT INTO projection_positions VALUES ('incidents', 'store', 0, 7)"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0012'"))
        conn.execute(text("DROP TABLE runbooks"))  # 0015 adds them
        conn.execute(text("DROP TABLE triggers"))
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == \
            HEAD_REVISION
        assert conn.execute(text("SELECT COUNT(*) FROM projection_positions")).scalar() == 0
