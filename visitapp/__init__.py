"""visitapp: the offline home-visit recorder for student financial aid (学生资助家访).

Everything but :mod:`visitapp.ui` is Qt-free; see DESIGN.md §1 for the layers.
"""

__version__ = "0.1.0"
