"""A pull page is read by pydantic's JSON parser (``visitapp.services.sync._read_page``), and
reads as ``json.loads`` and validating would have read it, including a page that parser
refuses: a lone surrogate in a text, which the record checks then set aside alone."""

from __future__ import annotations

import json

from visitapp.protocol.sync import PullResponse
from visitapp.services.sync import _read_page


def _page(routing_term: str) -> bytes:
    change = {"server_seq": 7, "record_id": "v-1", "kind": "visit", "op": "upsert", "student_id": "s-1",
              "hlc": "h", "routing": {"term": routing_term, "visitors": ["王老师"], "n": 1.5}, "facts": {"a": None},
              "sealed": "eyJ9"}
    return json.dumps({"changes": [change], "cursor": 7, "more": False, "total": 1, "keys_marker": 3}).encode()


def test_a_page_reads_as_json_loads_and_validating_read_it():
    body = _page("2026-1")
    assert _read_page(body) == PullResponse.model_validate(json.loads(body))


def test_a_lone_surrogate_does_not_fail_the_page():
    body = _page("2026\ud800")  # json.dumps writes it as \ud800, which pydantic's parser refuses
    page = _read_page(body)
    assert page == PullResponse.model_validate(json.loads(body))
    assert page.changes[0].routing["term"] == "2026\ud800"
