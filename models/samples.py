"""Made-up residents for the demo data (`flask init-db --demo`) and the tests'
factories, one source for both: a valid identity number from a few digits, and a
resident's account with their own row in the registry and the persons linked to them."""
from models.rules import luhn_digit
from models.users import Person, User


def make_id_number(prefix, body):
    """A valid identity number: prefix digit (1 national, 2 resident), 8 digits, Luhn check digit."""
    payload = f"{prefix}{body:08d}"
    return payload + luhn_digit(payload)


def link_person(sponsor_id_number, id_number, name, nationality, mobile=None):
    """The registry's person `id_number` linked to `sponsor_id_number`; one already
    there keeps what it holds."""
    return Person.get_or_create(sponsor_id_number=sponsor_id_number, id_number=id_number,
                                defaults=dict(name=name, nationality=nationality, mobile=mobile))[0]


def make_resident(username, full_name, id_number, password_hash, nationality="SA", mobile=None, linked=()):
    """A resident's account (kept when the username exists) linked to themself in the
    registry and to the `linked` persons: (name, id number, nationality) each."""
    user = User.get_or_none(User.username == username)
    if user is None:
        user = User.create(username=username, full_name=full_name, id_number=id_number, mobile=mobile,
                           password_hash=password_hash)
    link_person(id_number, id_number, full_name, nationality, mobile)
    for name, number, person_nationality in linked:
        link_person(id_number, number, name, person_nationality)
    return user
