"""My requests lists the resident's unfinished drafts, the last touched first."""


def up(migrator, db):
    migrator.migrate(migrator.add_index("draft", ("owner_id", "updated_at")))


def down(migrator, db):
    migrator.migrate(migrator.drop_index("draft", "draft_owner_id_updated_at"))
