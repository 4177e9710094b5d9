"""Local storage of a profile: SQLAlchemy 2 models, the encrypted column type, the profile
folder (lock, key file, database) and Alembic migrations run at open."""

from visitapp.storage.profile import (  # noqa: F401
    Profile, ProfileError, ProfileLockedError, ProfileTooNewError, default_profile_dir,
    profile_exists,
)
