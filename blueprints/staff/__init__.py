from blueprints.staff import objections  # noqa: F401  (its routes join the staff blueprint)
from blueprints.staff.routes import bp  # noqa: F401
