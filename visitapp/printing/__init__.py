"""Printing: reportlab documents built from plain dataclasses; no database, no Qt."""
