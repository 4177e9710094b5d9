"""Packages of the distribution. Everything else is in pyproject.toml.

The repository keeps its package data in ``resources/`` at the top (DESIGN.md); it is shipped
as the package ``visitapp.resources`` (fonts, their licence, translations; not the
screenshots), which pyproject.toml alone cannot express: a package found by ``packages.find``
cannot be joined by one whose folder is elsewhere. See docs/decisions/packaging-resources.md.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["visitapp*", "sync_server*"]), "visitapp.resources"],
    package_dir={"visitapp.resources": "resources"},
)
