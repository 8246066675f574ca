"""The demo data: the Arabic `demo` account reads Arabic (its requests, the officers'
messages and reasons, its linked persons), an older demo database is brought up to
that, and the volume has ratings for the figures."""
import re

from cli.demo import DEMO_TEXTS, DEMO_TEXTS_BEFORE
from models import Event, Person, Rating, ServiceRequest, User

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def demo_texts():
    demo = User.get(User.username == "demo")
    requests = list(ServiceRequest.select().where(ServiceRequest.owner == demo))
    texts = [r.description for r in requests] + [r.reason for r in requests if r.reason]
    texts += [e.message for e in Event.select().where(Event.request.in_([r.id for r in requests]))
              if e.message]
    names = [p.name for p in Person.select().where(Person.sponsor_id_number == demo.id_number)]
    return texts, names


def test_the_arabic_demo_account_reads_arabic(runner):
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0
    texts, names = demo_texts()
    assert len(texts) >= 8 and len(names) == 5
    for text in texts + names:
        assert not LATIN_WORD.search(text), text
    demo2 = User.get(User.username == "demo2")
    assert ServiceRequest.select().where(ServiceRequest.owner == demo2).count() == 1


def test_an_older_demo_database_gets_the_arabic_texts_and_ratings(runner):
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0
    demo = User.get(User.username == "demo")
    for key, english in DEMO_TEXTS_BEFORE.items():  # as an earlier release loaded it
        arabic = DEMO_TEXTS[key]
        Person.update(name=english).where(Person.name == arabic).execute()
        ServiceRequest.update(description=english).where(ServiceRequest.description == arabic).execute()
        ServiceRequest.update(reason=english).where(ServiceRequest.reason == arabic).execute()
        Event.update(message=english).where(Event.message == arabic).execute()
    typed = ServiceRequest.select().where(ServiceRequest.owner == demo).first()
    ServiceRequest.update(description="Typed by a visitor in English.").where(ServiceRequest.id == typed.id).execute()
    Rating.delete().execute()
    versions = {r.id: r.version for r in ServiceRequest.select().where(ServiceRequest.owner == demo)}
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0
    assert all(ServiceRequest.get_by_id(id).version == version + 1  # open pages show the new texts
               for id, version in versions.items())
    texts, names = demo_texts()
    assert "Typed by a visitor in English." in texts  # nothing a visitor typed is rewritten
    for text in texts + names:
        assert text == "Typed by a visitor in English." or not LATIN_WORD.search(text), text
    assert Rating.select().count() > 20


def test_the_volume_has_ratings_and_the_demo_account_has_none(runner):
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0
    demo = User.get(User.username == "demo")
    rated = Rating.select(Rating, ServiceRequest).join(ServiceRequest)
    assert rated.count() > 50 and all(r.request.is_final and 1 <= r.stars <= 5 for r in rated)
    assert rated.where(ServiceRequest.owner == demo).count() == 0
