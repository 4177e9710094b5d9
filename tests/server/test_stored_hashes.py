"""The hashes a push stores stay the ones stored before (issue 16 made them cheaper to compute):
a retry after an upgrade must find its first answer, and a record's content hash must still
say "same content" for what older versions stored."""

from __future__ import annotations

import hashlib
import importlib

from sync_server.core import content_hash
from visitapp.protocol.sync import Mutation

push_module = importlib.import_module("sync_server.sync.push")


def _mutation() -> Mutation:
    return Mutation(mutation_id="m-1", record_id="r-1", kind="visit", student_id="s-1", hlc="1764160000000-00000-dev-1",
                    routing={"id": "r-1", "student_id": "s-1", "status": "final", "note": "王老师"},
                    facts={"visit_date": "2026-11-20", "visitors": ["王老师", "李老师"]}, sealed="eyJhIjoxfQ==")


def test_mutation_hash_is_that_of_its_json() -> None:
    m = _mutation()
    assert push_module._mutation_hash(m) == hashlib.sha256(m.model_dump_json().encode()).hexdigest()


def test_content_hash_is_that_of_the_joined_canonical_texts() -> None:
    routing, facts, sealed = {"b": "二", "a": 1}, {"visitors": ["王老师"]}, "eyJhIjoxfQ=="
    for args, joined in [
        ((routing, facts, sealed, False), '{"a":1,"b":"二"}\x1f{"visitors":["王老师"]}\x1feyJhIjoxfQ==\x1f0'),
        ((routing, None, None, True), '{"a":1,"b":"二"}\x1f\x00\x1f\x00\x1f1'),
    ]:
        assert content_hash(*args) == hashlib.sha256(joined.encode()).hexdigest()
