"""A one-time code per browser session that asked for it, so a stranger who types
someone's identity number can no longer replace their code; and a log of the SMS
the code steps send, for each phone's daily cap."""
from peewee import AutoField, CharField, DateTimeField, Model

OLD_INDEX, NEW_INDEX = "onetimecode_purpose_id_number", "onetimecode_purpose_id_number_holder"


def code_sent_table(db):
    class CodeSent(Model):
        id = AutoField()
        mobile = CharField(max_length=13)
        network = CharField(max_length=45)
        sent_at = DateTimeField()

        class Meta:
            database = db
            table_name = "code_sent"
            indexes = ((("mobile", "sent_at"), False),)

    return CodeSent


def up(migrator, db):
    db.execute_sql(f'DROP INDEX "{OLD_INDEX}"')
    db.execute_sql(f'CREATE UNIQUE INDEX "{NEW_INDEX}" ON "one_time_code" ("purpose", "id_number", "holder")')
    db.create_tables([code_sent_table(db)])


def down(migrator, db):
    db.drop_tables([code_sent_table(db)])
    db.execute_sql('DELETE FROM "one_time_code"')  # several codes per number cannot go back into one row
    db.execute_sql(f'DROP INDEX "{NEW_INDEX}"')
    db.execute_sql(f'CREATE UNIQUE INDEX "{OLD_INDEX}" ON "one_time_code" ("purpose", "id_number")')
