from blueprints.staff import (
    objections,  # noqa: F401  (its routes join the staff blueprint)
    reasons,  # noqa: F401  (its views on bp)
    risks,  # noqa: F401 (its routes on bp)
    team,  # noqa: F401  (its routes join bp)
)
from blueprints.staff.routes import bp  # noqa: F401
