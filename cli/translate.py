"""flask translate extract | compile: the Arabic and English catalogues."""
import os
import subprocess
import sys

from flask import current_app
from flask.cli import AppGroup

translate = AppGroup("translate", help="Extract, update and compile the catalogues.")


def pybabel(*args):
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "pybabel"), *args], check=True,
                   cwd=current_app.root_path)


@translate.command("extract")
def translate_extract():
    """Extract messages and update the ar and en catalogues."""
    pybabel("extract", "-F", "translations/babel.cfg", "-k", "_l", "-k", "lazy_ngettext:1,2",
            "--ignore-dirs", ".*",  # the default also skips templates/_macros and _partials
            "--no-location", "--sort-output", "-o", "translations/messages.pot", ".")
    pybabel("update", "-i", "translations/messages.pot", "-d", "translations",
            "--no-fuzzy-matching", "--ignore-obsolete")


@translate.command("compile")
def translate_compile():
    pybabel("compile", "-d", "translations")
