from blueprints.staff import risks  # noqa: F401 (its routes on bp)
from blueprints.staff.routes import bp  # noqa: F401
