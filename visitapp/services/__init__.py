"""Use cases of the client. Each public method is one transaction that writes its record, its
outbox row (for sync) and a hash-chained audit event. Screens and commands hold a
:class:`Workspace` and receive plain frozen data; they never see a database session."""

from visitapp.services.base import Identity  # noqa: F401
from visitapp.services.students import VisitProgress, StudentListItem, TimelineItem  # noqa: F401
from visitapp.services.workspace import (  # noqa: F401
    Workspace, create_profile, open_profile, open_profile_with_recovery,
)
from visitapp.storage.profile import (  # noqa: F401
    ProfileError, ProfileLockedError, ProfileTooNewError, default_profile_dir, profile_exists,
)
