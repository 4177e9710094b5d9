"""The domain: plain Python entities, enums, privacy tiers and the rules of DESIGN.md §2.

Nothing here touches a database, a network, a key or a screen.
"""

from visitapp.domain.enums import *  # noqa: F401,F403
from visitapp.domain.errors import *  # noqa: F401,F403
from visitapp.domain.entities import *  # noqa: F401,F403
from visitapp.domain.tiers import Tier, field_tiers, split_by_tier, join_tiers  # noqa: F401
from visitapp.domain.terms import term_of, term_label, term_bounds  # noqa: F401
from visitapp.domain import rules  # noqa: F401,E402
