import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from babel.support import Translations

from tests.factories import sign_in_client

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def catalog(lang):
    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", encoding="utf-8") as handle:
        return read_po(handle)


def test_arabic_is_the_default_and_right_to_left(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "تسجيل الدخول" in page and "Sign in" not in page


def test_english_is_left_to_right(client):
    page = client.get("/auth/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page and "Sign in" in page


def test_every_arabic_message_is_translated_with_the_same_placeholders():
    messages = [m for m in catalog("ar") if m.id]
    assert len(messages) > 100
    for message in messages:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {ids[0]!r}"
        assert "fuzzy" not in message.flags, f"fuzzy: {ids[0]!r}"
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for form, string in enumerate(strings):
            found = set(PLACEHOLDER.findall(string))
            if len(strings) == 6 and form in (1, 2):  # "يوم واحد", "يومان": the word says the number
                assert expected - {"%(num)d"} <= found <= expected, (ids[0], form)
            else:
                assert found == expected, (ids[0], form)


def test_the_catalogues_cover_every_message_in_the_code(tmp_path):
    """Extract afresh, so a new string that nobody translated fails here."""
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "translations" / "babel.cfg"),
                                "-k", "_l", "--ignore-dirs", ".*", "-o", str(pot), str(ROOT)])
    with open(pot, encoding="utf-8") as handle:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert {"Confirm and send", "Received", "Choose the service this request is about.",
            "Please correct the following", "Due today"} <= template  # _macros/ too
    for lang in ("ar", "en"):
        present = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(lang) if m.id}
        assert template <= present, f"{lang} misses {sorted(template - present)[:3]}"


def test_arabic_plural_header_is_the_gnu_six_form_rule():
    header = catalog("ar").plural_expr
    assert header == "(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 && n%100<=99 ? 4 : 5)"


@pytest.mark.parametrize("count, form", [(0, 0), (1, 1), (2, 2), (3, 3), (11, 4), (100, 5), (102, 5), (111, 4)])
def test_compiled_arabic_plurals_pick_the_right_form(count, form):
    translations = Translations.load(str(ROOT / "translations"), ["ar"])
    singular = "A code was sent a moment ago. You can ask for another in %(num)d second."
    plural = "A code was sent a moment ago. You can ask for another in %(num)d seconds."
    entry = catalog("ar")[singular]
    assert translations.ngettext(singular, plural, count) == entry.string[form]
    assert entry.string[1] != entry.string[2] != entry.string[3]  # singular, dual, plural differ


def test_status_labels_and_model_messages_are_translated(client, resident, service_request):
    sign_in_client(client)
    arabic = {m.id: m.string for m in catalog("ar") if m.id}
    page = client.get(f"/requests/{service_request.number}").get_data(as_text=True)
    assert arabic["Received"] in page and arabic["Request sent"] in page
    page = client.get("/inquiry", query_string={"number": "12"}).get_data(as_text=True)
    message = arabic["A request number has exactly %(length)d digits; this one has %(count)d."]
    assert message.replace("%(length)d", "9").replace("%(count)d", "2") in page


def test_dates_are_shown_in_both_calendars(client, resident, service_request):
    sign_in_client(client)
    page = client.get(f"/requests/{service_request.number}/confirmation").get_data(as_text=True)
    assert "هـ" in page
    english = client.get(f"/requests/{service_request.number}/confirmation",
                         headers={"Accept-Language": "en"})
    client.post("/auth/language", data={"lang": "en"})
    page = client.get(f"/requests/{service_request.number}/confirmation").get_data(as_text=True)
    assert english.status_code == 200 and " AH)" in page


PLURALS = [m for m in catalog("ar") if m.id and m.pluralizable]
ARABIC_FORM = {0: 0, 1: 1, 2: 2, 3: 3, 11: 4, 100: 5}


@pytest.mark.parametrize("count", sorted(ARABIC_FORM))
@pytest.mark.parametrize("entry", PLURALS, ids=[m.id[0][:30] for m in PLURALS])
def test_every_arabic_plural_reads_right(entry, count):
    """Every plural message of the compiled catalogue at 0, 1, 2, 3, 11 and 100: the right
    form, the number written in digits except for one and two, which Arabic says in the
    word itself ("يوم واحد", "يومان"), never "1 يوم" or "2 يومان"."""
    translations = Translations.load(str(ROOT / "translations"), ["ar"])
    values = dict.fromkeys(re.findall(r"%\(([a-z_]+)\)", entry.id[1]), "X") | {"num": count}
    text = translations.ngettext(*entry.id, count) % values
    assert text == entry.string[ARABIC_FORM[count]] % values
    if count in (1, 2):
        assert not re.search(r"[0-9٠-٩]", text), text
        assert ("واحد" in text) if count == 1 else (text != entry.string[3] % values), text
    else:
        assert str(count) in text


@pytest.mark.parametrize("singular, plural, count, arabic", [
    ("%(num)d day", "%(num)d days", 1, "يوم واحد"),
    ("%(num)d day", "%(num)d days", 2, "يومان"),
    ("%(num)d day", "%(num)d days", 0, "0 أيام"),
    ("%(num)d day", "%(num)d days", 11, "11 يومًا"),
    ("%(num)d day overdue", "%(num)d days overdue", 2, "تأخير يومين"),
    ("%(num)d day left", "%(num)d days left", 1, "بقي يوم واحد"),
    ("%(num)d linked person in the registry", "%(num)d linked persons in the registry", 2,
     "شخصان مرتبطان في السجل"),
])
def test_arabic_says_one_and_two_in_words(singular, plural, count, arabic):
    translations = Translations.load(str(ROOT / "translations"), ["ar"])
    assert translations.ngettext(singular, plural, count) % {"num": count} == arabic
