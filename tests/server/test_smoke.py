"""The basic round trip: enroll, meta, push a visit, pull it back on another device."""

from tests.server.conftest import visit


def test_round_trip(server):
    teacher = server.staff("王芳")
    sid = server.student()
    server.assign("visitor", teacher, sid)
    dev = server.device(teacher)
    meta = server.client.get("/v1/sync/meta", headers=dev.auth).json()
    assert meta["role"] == "teacher" and meta["school_name"] == "实验小学" and meta["staff_name"] == "王芳"
    m = visit(dev, sid)
    res = server.push(dev, [m])
    assert res["results"][0]["status"] == "applied", res
    seen, cursor, purges = server.pull_all(server.officer_device())
    assert seen[m["record_id"]]["sealed"] == m["sealed"]
    assert seen[m["record_id"]]["facts"]["mode"] == "on_site"
    assert seen[sid]["kind"] == "student"
    # the cursor is the snapshot's seq: at least the visit's (a key change, such as the officer
    # device enrolled here, takes a seq of its own for the keys marker), and nothing lies beyond it
    assert cursor >= res["server_seq"]
    assert server.pull_all(server.officer_device(), cursor)[0] == {}
