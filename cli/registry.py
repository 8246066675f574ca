"""flask persons import FILE.csv: the registry of persons linked to each account owner,
with their mobiles (where the sign-up code and the notices are sent)."""
import csv
import sys

import click
from flask.cli import AppGroup

from models import InvalidNumber, Person, parse_id_number, parse_mobile
from web.formatting import NATIONALITIES

persons = AppGroup("persons", help="The registry of linked persons.")


FIELDS = "sponsor id, person id, name, nationality[, mobile]"


def read_person_rows(handle):
    """Parse the CSV; return (rows, errors). Errors carry the line number. A row of
    five fields sets the person's mobile (empty: none); a row of four leaves a known
    mobile as it is."""
    rows, errors, seen = [], [], set()
    reader = csv.reader(handle)
    for line_no, fields in enumerate(reader, start=1):
        if line_no == 1 and fields and not fields[0].strip()[:1].isdigit():
            continue  # header
        if not any(f.strip() for f in fields):
            continue
        if len(fields) not in (4, 5):
            errors.append(f"line {line_no}: expected 4 or 5 fields ({FIELDS}), got {len(fields)}")
            continue
        sponsor, person, name, nationality, *mobile = (f.strip() for f in fields)
        try:
            sponsor, person = parse_id_number(sponsor), parse_id_number(person)
        except InvalidNumber as error:
            errors.append(f"line {line_no}: {error}")
            continue
        row = dict(sponsor_id_number=sponsor, id_number=person, name=name[:120], nationality=nationality.upper())
        if mobile:
            try:
                row["mobile"] = parse_mobile(mobile[0]) if mobile[0] else None
            except InvalidNumber as error:
                errors.append(f"line {line_no}: the mobile {mobile[0]!r} is wrong. {error}")
                continue
        if not name:
            errors.append(f"line {line_no}: the name is empty")
        elif row["nationality"] not in NATIONALITIES:
            errors.append(f"line {line_no}: unknown nationality code {row['nationality']!r}")
        elif (sponsor, person) in seen:
            errors.append(f"line {line_no}: this sponsor and person appear twice in the file")
        else:
            seen.add((sponsor, person))
            rows.append(row)
    return rows, errors


@persons.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
def import_persons(csv_file):
    """Import linked persons, one a line: sponsor id, person id, name, nationality
    (ISO code) and, optionally, the person's mobile (05XXXXXXXX or +9665XXXXXXXX;
    empty: none). Nothing of the file is saved when any row is wrong."""
    rows, errors = read_person_rows(csv_file)
    if errors:
        for error in errors:
            click.echo(error, err=True)
        click.echo(f"Nothing imported: {len(errors)} line(s) to fix.", err=True)
        sys.exit(1)
    Person.import_rows(rows)
    click.echo(f"Imported {len(rows)} person(s).")
