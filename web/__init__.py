"""What every page needs and that is not a blueprint: the Flask extensions, the
view helpers, the Jinja filters, the error pages and the static files."""
