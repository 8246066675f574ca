"""Ready-made reasons kept by supervisors (issue 15, part 5): add, reword, retire, in
Arabic and English, supervisors only, every change in an append-only record; old
decisions keep the words they were given with; a restart never undoes a change."""
import html
import re

import pytest
from peewee import DatabaseError

from models import (
    REJECTED,
    UNDER_REVIEW,
    Reason,
    ReasonChange,
    ReasonRetired,
    Service,
    ServiceRequest,
    db,
    upgrade,
)
from models.reasons import add_reason, retire_reason, reword_reason
from tests.factories import sign_in_client, submit_request

EN = {"Accept-Language": "en"}
AR_TEXT, EN_TEXT = "صورة جواز السفر منتهية الصلاحية.", "The passport copy has expired."


def as_user(app, username):
    client = app.test_client()
    assert sign_in_client(client, username).status_code == 303
    return client


def reason(code):
    return Reason.get(Reason.code == code)


def passport():
    return Service.get(Service.code == "passport")


def offered(client, service_request, headers=EN):
    """The ready-made reasons the officer's decision form offers: {id: text}."""
    page = client.get(f"/staff/requests/{service_request.number}", headers=headers).text
    select = re.search(r'<select[^>]*name="reason_choice".*?</select>', page, re.S).group(0)
    options = re.findall(r'<option[^>]*value="([0-9]+)"[^>]*>([^<]*)</option>', select)
    return {int(value): text for value, text in options if value != "0"}


def under_review_by(client, service_request):
    assert client.post(f"/staff/requests/{service_request.number}/start").status_code == 303


def rejected_with(service_request, chosen):
    """A decision made with `chosen` (as the command line would: whoever holds it)."""
    ServiceRequest.get_by_id(service_request.id).change_status(UNDER_REVIEW)
    return ServiceRequest.get_by_id(service_request.id).change_status(REJECTED, reason_choice=chosen)


# ------------------------------------------------------------------ who may

@pytest.mark.parametrize("method, path", [("get", "/staff/reasons"), ("get", "/staff/reasons/1"),
                                          ("post", "/staff/reasons"), ("post", "/staff/reasons/1/reword"),
                                          ("post", "/staff/reasons/1/retire")])
def test_only_supervisors_keep_the_reasons(app, resident, officer, method, path):
    data = {"kind": "reject", "text_ar": AR_TEXT, "text_en": EN_TEXT}
    assert getattr(as_user(app, "noura"), method)(path, data=data).status_code == 403
    assert getattr(as_user(app, "amal"), method)(path, data=data).status_code == 403
    assert getattr(app.test_client(), method)(path, data=data).status_code == 302
    assert Reason.select().where(Reason.retired_at.is_null(False)).count() == 0
    assert ReasonChange.select().count() == 0


def test_the_nav_links_the_page_for_supervisors_only(app, officer, supervisor):
    assert 'href="/staff/reasons"' in as_user(app, "fahad").get("/staff/", headers=EN).text
    assert 'href="/staff/reasons"' not in as_user(app, "noura").get("/staff/", headers=EN).text


def test_the_page_lists_the_shipped_reasons_in_both_languages(app, supervisor):
    fahad = as_user(app, "fahad")
    english = fahad.get("/staff/reasons", headers=EN).text
    arabic = fahad.get("/staff/reasons").text
    done = reason("done")
    for page in (english, arabic):
        assert done.text_ar in page and done.text_en in page and f'href="/staff/reasons/{done.id}"' in page
    assert "Ready-made reasons" in english and "No supervisor has changed a reason yet" in english
    assert "الأسباب الجاهزة" in arabic and "لم يغيّر أي مشرف سببًا بعد" in arabic


# ------------------------------------------------------------------ add

def test_a_supervisor_adds_a_reason_for_one_service(app, resident, officer, supervisor):
    on_passport, on_other = submit_request(resident), submit_request(resident, service="dependents")
    fahad = as_user(app, "fahad")
    added = fahad.post("/staff/reasons", data={"service": "passport", "kind": "reject",
                                               "text_ar": f"  {AR_TEXT} ", "text_en": EN_TEXT})
    assert added.status_code == 303
    new = Reason.get(Reason.text_en == EN_TEXT)
    assert added.headers["Location"] == f"/staff/reasons#reason-{new.id}"
    assert (new.service_id, new.kind, new.text_ar, new.retired_at) == (passport().id, "reject", AR_TEXT, None)
    change = ReasonChange.get()
    assert (change.action, change.reason_id, change.actor_id) == ("add", new.id, supervisor.id)
    assert (change.old_text_ar, change.new_text_ar, change.new_text_en) == (None, AR_TEXT, EN_TEXT)
    noura = as_user(app, "noura")
    under_review_by(noura, on_passport)
    under_review_by(noura, on_other)
    assert offered(noura, on_passport)[new.id] == EN_TEXT
    assert offered(noura, on_passport, headers={})[new.id] == AR_TEXT
    assert new.id not in offered(noura, on_other)
    history = fahad.get("/staff/reasons", headers=EN).text
    assert "Fahad Supervisor" in history and "Added" in history
    assert history.count(EN_TEXT) == 3  # listed, its link's label, the record
    assert "أُضيف" in fahad.get("/staff/reasons").text


def test_a_reason_for_every_service_is_offered_for_every_service(app, resident, officer, supervisor):
    service_request = submit_request(resident, service="dependents")
    as_user(app, "fahad").post("/staff/reasons", data={"service": "", "kind": "accept",
                                                       "text_ar": AR_TEXT, "text_en": EN_TEXT})
    new = Reason.get(Reason.text_en == EN_TEXT)
    assert new.service_id is None
    noura = as_user(app, "noura")
    under_review_by(noura, service_request)
    assert new.id in offered(noura, service_request)


@pytest.mark.parametrize("change, english, arabic", [
    (dict(text_ar=""), "Write the reason in Arabic.", "اكتب السبب بالعربية."),
    (dict(text_en="   "), "Write the reason in English.", "اكتب السبب بالإنجليزية."),
    (dict(text_ar="Expired copy"), "Write the Arabic text in Arabic letters.", "اكتب النص العربي بحروف عربية."),
    (dict(text_en=AR_TEXT), "Write the English text in English letters.", "اكتب النص الإنجليزي بحروف إنجليزية."),
    (dict(text_en="x" * 501), "At most 500 characters.", "500 حرف كحد أقصى."),
    (dict(kind="maybe"), "Choose acceptance or rejection.", "اختر القبول أو الرفض."),
    (dict(kind=""), "Choose acceptance or rejection.", "اختر القبول أو الرفض."),
    (dict(service="nope"), "Choose a service from the list.", "اختر خدمة من القائمة."),
])
def test_a_reason_to_correct_is_refused_with_what_was_typed_kept(app, supervisor, change, english, arabic):
    fahad = as_user(app, "fahad")
    data = dict(service="passport", kind="reject", text_ar=AR_TEXT, text_en=EN_TEXT) | change
    count = Reason.select().count()
    refused = fahad.post("/staff/reasons", data=data, headers=EN)
    assert refused.status_code == 422 and english in refused.text
    kept = [value for value in (data["text_ar"], data["text_en"]) if value.strip() and len(value) < 100]
    assert all(value in refused.text for value in kept)
    in_arabic = fahad.post("/staff/reasons", data=data)
    assert in_arabic.status_code == 422 and arabic in in_arabic.text
    assert Reason.select().count() == count and ReasonChange.select().count() == 0


def test_a_form_without_its_csrf_token_is_refused(app, supervisor):
    app.config["WTF_CSRF_ENABLED"] = True
    client = as_user(app, "fahad")
    response = client.post("/staff/reasons", data={"kind": "reject", "text_ar": AR_TEXT, "text_en": EN_TEXT})
    assert response.status_code == 400
    assert client.post(f"/staff/reasons/{reason('done').id}/retire").status_code == 400
    assert ReasonChange.select().count() == 0 and reason("done").retired_at is None


# ------------------------------------------------------------------ reword

def test_a_reworded_reason_keeps_its_old_words_on_old_decisions(app, resident, officer, supervisor):
    old = reason("docs_missing")
    decided = rejected_with(submit_request(resident), old)
    fahad = as_user(app, "fahad")
    assert fahad.get(f"/staff/reasons/{old.id}", headers=EN).text.count(old.text_en) >= 2  # shown, and in the form
    response = fahad.post(f"/staff/reasons/{old.id}/reword", data={"text_ar": AR_TEXT, "text_en": EN_TEXT})
    assert response.status_code == 303
    new = Reason.get(Reason.replaces == old.id)
    assert (new.text_ar, new.text_en, new.kind, new.service_id) == (AR_TEXT, EN_TEXT, old.kind, old.service_id)
    assert reason("docs_missing").retired_at is not None and reason("docs_missing").text_en == old.text_en
    change = ReasonChange.get()
    assert (change.action, change.reason_id, change.previous_id, change.actor_id) == ("reword", new.id, old.id,
                                                                                     supervisor.id)
    assert (change.old_text_ar, change.old_text_en, change.new_text_ar, change.new_text_en) == (
        old.text_ar, old.text_en, AR_TEXT, EN_TEXT)
    amal = as_user(app, "amal")
    english = amal.get(f"/requests/{decided.number}", headers=EN).text
    assert old.text_en in english and EN_TEXT not in english
    amal.post("/auth/language", data={"lang": "ar"})
    arabic = amal.get(f"/requests/{decided.number}").text
    assert old.text_ar in arabic and AR_TEXT not in arabic
    noura = as_user(app, "noura")
    staff_page = noura.get(f"/staff/requests/{decided.number}", headers=EN).text
    assert old.text_en in staff_page and EN_TEXT not in staff_page
    another = submit_request(resident)
    under_review_by(noura, another)
    offers = offered(noura, another)
    assert offers[new.id] == EN_TEXT and old.id not in offers
    history = fahad.get("/staff/reasons", headers=EN).text
    assert "Reworded" in history and old.text_en in history and EN_TEXT in history
    assert "أُعيدت صياغته" in fahad.get(f"/staff/reasons/{new.id}").text  # the chain's history on its page


def test_rewording_with_the_same_words_or_a_retired_reason_is_refused(app, supervisor):
    fahad = as_user(app, "fahad")
    done = reason("done")
    same = fahad.post(f"/staff/reasons/{done.id}/reword", data={"text_ar": done.text_ar, "text_en": done.text_en},
                      headers=EN)
    assert same.status_code == 422 and "These are the reason's words already" in html.unescape(same.text)
    assert "هذه كلمات السبب نفسها" in fahad.post(f"/staff/reasons/{done.id}/reword",
                                                 data={"text_ar": done.text_ar, "text_en": done.text_en}).text
    missing = fahad.post(f"/staff/reasons/{done.id}/reword", data={"text_ar": AR_TEXT, "text_en": ""}, headers=EN)
    assert missing.status_code == 422 and "Write the reason in English." in missing.text and AR_TEXT in missing.text
    retire_reason(supervisor, done)
    late = fahad.post(f"/staff/reasons/{done.id}/reword", data={"text_ar": AR_TEXT, "text_en": EN_TEXT}, headers=EN)
    assert late.status_code == 409 and "retired or reworded a moment ago" in late.text
    assert Reason.select().where(Reason.replaces == done.id).count() == 0
    assert fahad.get("/staff/reasons/999999").status_code == 404
    assert fahad.get(f"/staff/reasons/{2 ** 64}").status_code == 404


# ------------------------------------------------------------------ retire

def test_a_retired_reason_is_not_offered_but_still_shows_on_its_decisions(app, resident, officer, supervisor):
    old = reason("conditions")
    decided = rejected_with(submit_request(resident), old)
    fahad = as_user(app, "fahad")
    assert fahad.post(f"/staff/reasons/{old.id}/retire").status_code == 303
    retired = reason("conditions")
    assert retired.retired_at is not None and retired.text_en == old.text_en
    change = ReasonChange.get()
    assert (change.action, change.reason_id, change.old_text_en, change.new_text_en) == (
        "retire", old.id, old.text_en, None)
    assert fahad.post(f"/staff/reasons/{old.id}/retire", headers=EN).status_code == 409
    assert ReasonChange.select().count() == 1
    page = fahad.get(f"/staff/reasons/{old.id}", headers=EN).text
    assert "This reason was retired on" in page and "/retire" not in page
    amal = as_user(app, "amal")
    assert old.text_en in amal.get(f"/requests/{decided.number}", headers=EN).text
    amal.post("/auth/language", data={"lang": "ar"})
    assert old.text_ar in amal.get(f"/requests/{decided.number}").text
    noura = as_user(app, "noura")
    another = submit_request(resident)
    under_review_by(noura, another)
    assert old.id not in offered(noura, another) and old.text_en not in noura.get(
        f"/staff/requests/{another.number}", headers=EN).text


def test_a_decision_with_a_reason_retired_a_moment_ago_is_refused_and_keeps_what_was_typed(
        app, resident, officer, supervisor):
    service_request = submit_request(resident)
    noura = as_user(app, "noura")
    under_review_by(noura, service_request)
    chosen = reason("docs_missing")
    assert chosen.id in offered(noura, service_request)  # the form the officer has open
    retire_reason(supervisor, chosen)
    typed = "Your passport copy is blurred; please send a clearer scan."
    for headers, message in ((EN, "The ready-made reason you chose was retired a moment ago"),
                             ({}, "السبب الجاهز الذي اخترته أُوقف للتو")):
        refused = noura.post(f"/staff/requests/{service_request.number}/decide", headers=headers,
                             data={"decision": REJECTED, "reason_choice": chosen.id, "reason": typed})
        assert refused.status_code == 422 and message in refused.text and typed in refused.text
    assert ServiceRequest.get_by_id(service_request.id).status == UNDER_REVIEW


def test_the_decision_itself_refuses_a_reason_retired_while_the_form_was_checked(app, resident, supervisor):
    """The model's own check, inside the decision's transaction: the page's form may
    have been checked just before the retirement committed."""
    service_request = submit_request(resident)
    chosen = reason("docs_missing")
    ServiceRequest.get_by_id(service_request.id).change_status(UNDER_REVIEW)
    retire_reason(supervisor, chosen)
    with pytest.raises(ReasonRetired):
        ServiceRequest.get_by_id(service_request.id).change_status(REJECTED, reason_choice=chosen)
    current = ServiceRequest.get_by_id(service_request.id)
    assert (current.status, current.reason_choice_id) == (UNDER_REVIEW, None)


# ------------------------------------------------------------------ the record

def test_the_record_of_changes_refuses_update_and_delete(app, supervisor):
    add_reason(supervisor, None, "reject", AR_TEXT, EN_TEXT)
    for sql in ('UPDATE "reason_change" SET "new_text_en" = NULL', 'DELETE FROM "reason_change"'):
        with pytest.raises(DatabaseError, match="append-only"), db.atomic():
            db.execute_sql(sql)
    change = ReasonChange.get()
    change.new_text_en = "changed"
    with pytest.raises(PermissionError):
        change.save()
    assert ReasonChange.get().new_text_en == EN_TEXT


# ------------------------------------------------------------------ a restart

def test_the_catalogue_written_at_start_never_undoes_a_supervisors_change(app, resident, supervisor):
    decided = rejected_with(submit_request(resident), reason("docs_missing"))
    version = ServiceRequest.get_by_id(decided.id).version
    reworded = reword_reason(supervisor, reason("docs_missing"), AR_TEXT, EN_TEXT)
    retire_reason(supervisor, reason("done"))
    added = add_reason(supervisor, passport(), "accept", "جاهز للاستلام.", "Ready to collect.")
    offered_before = [r.id for r in Reason.for_service(passport())]
    upgrade()  # what every start runs: migrations, then the shipped catalogue
    assert reason("docs_missing").retired_at is not None and reason("done").retired_at is not None
    assert Reason.get_by_id(reworded.id).text_en == EN_TEXT and Reason.get_by_id(added.id).retired_at is None
    assert [r.id for r in Reason.for_service(passport())] == offered_before
    assert "docs_missing" not in [r.code for r in Reason.for_service(passport())]
    assert ServiceRequest.get_by_id(decided.id).version == version  # no word it shows changed
    assert ReasonChange.select().count() == 3


def test_a_shipped_reason_missing_from_the_table_is_added_at_start(app, supervisor):
    with db.atomic():
        Reason.delete().where(Reason.code == "transfer_refused").execute()
    upgrade()
    assert reason("transfer_refused").retired_at is None
