"""One module per screen (DESIGN.md §10); :mod:`visitapp.ui.main_window` wires them."""
