"""flask persons import FILE.csv: the registry of persons linked to each account owner."""
import csv
import sys

import click
from flask.cli import AppGroup

from models import InvalidNumber, Person, parse_id_number
from web.formatting import NATIONALITIES

persons = AppGroup("persons", help="The registry of linked persons.")


def read_person_rows(handle):
    """Parse the CSV; return (rows, errors). Errors carry the line number."""
    rows, errors, seen = [], [], set()
    reader = csv.reader(handle)
    for line_no, fields in enumerate(reader, start=1):
        if line_no == 1 and fields and not fields[0].strip()[:1].isdigit():
            continue  # header
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != 4:
            errors.append(f"line {line_no}: expected 4 fields (sponsor id, person id, name, nationality), "
                          f"got {len(fields)}")
            continue
        sponsor, person, name, nationality = (f.strip() for f in fields)
        try:
            sponsor, person = parse_id_number(sponsor), parse_id_number(person)
        except InvalidNumber as error:
            errors.append(f"line {line_no}: {error}")
            continue
        nationality = nationality.upper()
        if not name:
            errors.append(f"line {line_no}: the name is empty")
        elif nationality not in NATIONALITIES:
            errors.append(f"line {line_no}: unknown nationality code {nationality!r}")
        elif (sponsor, person) in seen:
            errors.append(f"line {line_no}: this sponsor and person appear twice in the file")
        else:
            seen.add((sponsor, person))
            rows.append(dict(sponsor_id_number=sponsor, id_number=person, name=name[:120],
                             nationality=nationality))
    return rows, errors


@persons.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
def import_persons(csv_file):
    """Import linked persons: sponsor id, person id, name, nationality (ISO code).
    Nothing of the file is saved when any row is wrong."""
    rows, errors = read_person_rows(csv_file)
    if errors:
        for error in errors:
            click.echo(error, err=True)
        click.echo(f"Nothing imported: {len(errors)} line(s) to fix.", err=True)
        sys.exit(1)
    Person.import_rows(rows)
    click.echo(f"Imported {len(rows)} person(s).")
