"""The application's package data: fonts (with their licence) and translations.

In the checkout this folder is ``resources/`` at the top of the repository; in an installed copy
(a wheel, ``pip install .``) it is the package ``visitapp.resources`` (``setup.py`` maps the
folder to that name). Code finds the files with :func:`visitapp.assets.resource_path`, never
by a path beside the source tree. ``screenshots/`` is documentation and is not shipped.
"""
