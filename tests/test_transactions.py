"""Writers never fail on each other: every transaction that writes takes the write
lock first (models.base.write_transaction), so on SQLite concurrent writers queue on
the busy timeout instead of failing with "database is locked" (a 503)."""
import hashlib
import io
import pathlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor

from cli.notices import deliver_due, gateway_from
from models import (
    MAX_DRAFTS_PER_OWNER,
    Draft,
    DraftFile,
    Notice,
    Person,
    Service,
    ServiceRequest,
    db,
    write_transaction,
)
from models.notices import DELIVERED
from tests.factories import make_id_number, make_user, minimal_pdf, person_of, sign_in_client

ROOT = pathlib.Path(__file__).resolve().parent.parent
APP_CODE = ("app.py", "models", "cli", "web", "blueprints", "bench")
RESIDENTS, SAVES_EACH = 6, 8  # 48 saves, each a new draft (fewer than MAX_DRAFTS_PER_OWNER each)


def app_sources():
    for name in APP_CODE:
        path = ROOT / name
        yield from [path] if path.is_file() else sorted(path.rglob("*.py"))


def test_app_code_opens_write_transactions_only_through_write_transaction():
    """`db.atomic()` is a deferred transaction on SQLite: one that reads first and
    writes then fails at once when another writer committed meanwhile. The one place
    that may call it is write_transaction itself."""
    found = [f"{path.relative_to(ROOT)}:{number}"
             for path in app_sources() if path != ROOT / "models" / "base.py"
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if re.search(r"\b(db|database)\.(atomic|transaction|savepoint)\(", line)]
    assert found == []


def new_resident(index):
    user = make_user(f"resident{index}", make_id_number(1, 30000000 + index), full_name=f"Resident {index}")
    person = Person.create(sponsor_id_number=user.id_number, id_number=user.id_number,
                           name=f"Resident {index}", nationality="SA")
    return user, person


def description(resident, save):
    return f"Resident {resident}, save {save}: my passport expires next month, please renew it."


def document(resident, save):
    return minimal_pdf(f"resident {resident} save {save}")


class NoticesWorker(threading.Thread):
    """`flask notices deliver` at work: new notices keep arriving (each in the
    transaction of its cause) and the worker claims, sends and records them."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.send = gateway_from(app.config, app.logger)
        self.stop, self.queued, self.delivered, self.errors = threading.Event(), 0, 0, []

    def run(self):
        with db.connection_context():
            try:
                while not self.stop.is_set():
                    with write_transaction():
                        for _ in range(3):
                            Notice.queue(f"load-{self.queued}", "+966500000000", "Tawasul: a notice", "status")
                            self.queued += 1
                    self.delivered += deliver_due(self.send, batch=2)[DELIVERED]
            except Exception as error:  # reported by the test
                self.errors.append(error)


def test_concurrent_draft_saves_all_kept_while_the_notices_worker_commits(app):
    """6 residents save 8 new requests each, all at once, while the SMS worker commits:
    no save is refused (no 503 for a locked database) and each draft holds exactly
    what its form sent."""
    clients, persons = [], []
    for index in range(RESIDENTS):
        _user, person = new_resident(index)
        client = app.test_client()
        assert sign_in_client(client, f"resident{index}").status_code == 303
        clients.append(client)
        persons.append(person.id)
    db.close()
    saves = [(resident, save) for save in range(SAVES_EACH) for resident in range(RESIDENTS)]
    barrier = threading.Barrier(len(saves))

    def save_draft(resident, save):
        data = dict(service="passport", person=str(persons[resident]), description=description(resident, save),
                    id_number="", documents=[(io.BytesIO(document(resident, save)), f"passport-{save}.pdf")])
        barrier.wait()
        response = clients[resident].post("/requests/new", data=data, content_type="multipart/form-data")
        return resident, save, response.status_code, response.headers.get("Location", "")

    worker = NoticesWorker(app)
    worker.start()
    try:
        with ThreadPoolExecutor(max_workers=len(saves)) as pool:
            results = list(pool.map(lambda args: save_draft(*args), saves))
    finally:
        worker.stop.set()
        worker.join()
    db.connect(reuse_if_open=True)
    assert [(resident, save, status) for resident, save, status, _ in results if status != 303] == []
    assert worker.errors == [] and worker.delivered > 0
    for resident, save, _status, location in results:
        token = re.fullmatch(r"/requests/new/check\?draft=([\w-]+)", location).group(1)
        draft = Draft.get(Draft.token == token)
        assert (draft.owner.username, draft.person_id, draft.description) == (
            f"resident{resident}", persons[resident], description(resident, save))
        assert [f.sha256 for f in DraftFile.select().where(DraftFile.draft == draft)] == [
            hashlib.sha256(document(resident, save)).hexdigest()]
    assert Draft.select().count() == len(saves)


def test_concurrent_saves_never_pass_the_drafts_limit(app):
    """The count of an owner's drafts and the new draft are one step: of several new
    requests saved at once when one place is left, one is kept and the others are
    refused (422), on PostgreSQL too, where reading does not wait for other writers."""
    user, person = new_resident(0)
    for _ in range(MAX_DRAFTS_PER_OWNER - 1):
        Draft.create(owner=user, person=person, description=description(0, 0))
    clients = [app.test_client() for _ in range(6)]
    for client in clients:
        assert sign_in_client(client, "resident0").status_code == 303
    db.close()
    barrier = threading.Barrier(len(clients))

    def save_draft(save):
        data = dict(service="passport", person=str(person.id), description=description(0, save), id_number="",
                    documents=[(io.BytesIO(document(0, save)), "passport.pdf")])
        barrier.wait()
        return clients[save].post("/requests/new", data=data, content_type="multipart/form-data").status_code

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        statuses = sorted(pool.map(save_draft, range(len(clients))))
    db.connect(reuse_if_open=True)
    assert statuses == [303] + [422] * (len(clients) - 1)
    assert Draft.select().where(Draft.owner == user).count() == MAX_DRAFTS_PER_OWNER


def complete_draft(resident):
    draft = Draft.create(owner=resident, person=person_of(resident, "Amal Saad"),
                         service=Service.get(Service.code == "passport"), description=description(0, 0))
    draft.add_file("passport.pdf", "application/pdf", minimal_pdf())
    return draft


def test_a_draft_is_sent_as_it_is_when_confirmed_not_as_it_was_checked(resident):
    """Confirming checks the draft, then sends it; another tab may save it in between.
    What is sent is what the draft holds then, and only when it is still ready."""
    changed = complete_draft(resident)
    checked = Draft.get_by_id(changed.id)  # as the confirmation read it
    Draft.update(description=description(0, 1)).where(Draft.id == changed.id).execute()  # the other tab
    assert ServiceRequest.submit(checked).description == description(0, 1)

    emptied = complete_draft(resident)
    checked = Draft.get_by_id(emptied.id)
    DraftFile.delete().where(DraftFile.draft == emptied).execute()  # the other tab removed the document
    assert ServiceRequest.submit(checked) is None
    assert ServiceRequest.select().count() == 1 and Draft.get_by_id(emptied.id).problems() == ["documents"]


def test_a_save_from_a_tab_whose_draft_was_sent_meanwhile_keeps_what_was_typed(resident):
    """One tab sends the draft (it is removed) while another tab's save is on its way:
    that save read the draft a moment before. It was a 500 (the file's foreign key);
    now what was typed goes into a new draft of its own."""
    sent = complete_draft(resident)
    stale = Draft.get_by_id(sent.id)  # as the other tab's save read it
    ServiceRequest.submit(Draft.get_by_id(sent.id))
    stale.save_from(stale.service, stale.person, description(0, 2), [],
                    [("later.pdf", "application/pdf", minimal_pdf("later"))], max_files=5)
    kept = Draft.get(Draft.owner == resident)
    assert kept.token != sent.token and kept.description == description(0, 2)
    assert [f.name for f in kept.files()] == ["later.pdf"]
    assert ServiceRequest.get().description == sent.description  # the sent request is as it was sent
