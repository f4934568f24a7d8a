"""The official SDK's stream parser against the mock's stream torture faults: frames sent in
1-byte or random pieces, a heartbeat before every frame, every frame held back, and the
connection cut in the middle of a frame. Through `resumable_stream` (sync and async) the SDK
must yield exactly the events of a clean stream, each once and in order; it reconnects after
the cut with the last whole event's id. Through the plain `stream`, the cut surfaces as
`APIConnectionError` after the whole frames, never as a half-parsed event.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

qca = pytest.importorskip("qca", reason="qca-sdk is not installed; run scripts/setup.sh --python")

TOKEN = "sdk-token"
STREAM = "/v1/sessions/*/events/stream"

FAULTS = {
    "one-byte pieces": {"split_frames": 1},
    "random pieces": {"split_frames": "random"},
    "heartbeat between frames": {"heartbeat_between_frames": True},
    "frames held back": {"frame_delay_ms": 25},
    "cut inside a frame": {"drop_in_frame": 4},
    "everything at once": {"split_frames": "random", "heartbeat_between_frames": True, "drop_in_frame": 6},
}


def client(mock) -> "qca.Managed":
    return qca.Managed(access_token=TOKEN, base_url=f"{mock.base}/api/v1/cloud", max_retries=0, timeout=15.0)


def two_turns(mock) -> tuple[str, list[str]]:
    """A session with two finished turns; returns its id and its events' ids."""
    assert mock.control("POST", "/clock/freeze", {}).status == 200
    with client(mock) as c:
        agent = c.agents.create(name="Echo", model="ultimate")
        sid = c.sessions.create(agent=agent.id, environment_id="env_local").id
        for text in ("first " * 40, "second " * 40):
            c.sessions.events.send(sid, events=[{"type": "user.message", "content": text}])
            assert mock.control("POST", "/clock/run-until-idle").status == 200
        ids = [e.id for e in c.sessions.events.list(sid)]
    assert len(ids) == 12
    return sid, ids


def arm(mock, fault: dict) -> None:
    r = mock.control("POST", "/faults", {"path": STREAM, "times": 1, **fault})
    assert r.status == 201, r.text


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_the_resumable_stream_yields_every_event_once(mock, fault):
    sid, ids = two_turns(mock)
    arm(mock, fault)
    got = []
    with client(mock) as c:
        with c.sessions.events.resumable_stream(sid, last_event_id=ids[0]) as stream:
            # A deadline for the whole read: the stream reconnects on its own, so a missing event
            # would otherwise keep it waiting for ever. Closing it ends the loop below.
            watchdog = threading.Timer(60, stream.close)
            watchdog.start()
            try:
                for event in stream:
                    got.append(event.id)
                    if event.id == ids[-1]:
                        break
            finally:
                watchdog.cancel()
    assert got == ids[1:]
    assert mock.control("GET", "/faults").json() == {"data": []}, "the fault was used"


@pytest.mark.parametrize("fault", [FAULTS["random pieces"], FAULTS["everything at once"]], ids=["random", "all"])
def test_the_async_resumable_stream_yields_every_event_once(mock, fault):
    sid, ids = two_turns(mock)
    arm(mock, fault)

    async def main() -> list[str]:
        got = []
        async with qca.AsyncManaged(access_token=TOKEN, base_url=f"{mock.base}/api/v1/cloud", max_retries=0) as c:
            async with c.sessions.events.resumable_stream(sid, last_event_id=ids[0]) as stream:
                async for event in stream:
                    got.append(event.id)
                    if event.id == ids[-1]:
                        break
        return got

    assert asyncio.run(asyncio.wait_for(main(), timeout=60)) == ids[1:]


def test_a_plain_stream_cut_inside_a_frame_raises_after_the_whole_frames(mock):
    sid, ids = two_turns(mock)
    arm(mock, {"drop_in_frame": 3, "split_frames": 2})
    got = []
    with client(mock) as c:  # each read has the client's 15 s timeout; no reconnection here
        with pytest.raises(qca.APIConnectionError):
            with c.sessions.events.stream(sid, last_event_id=ids[0]) as stream:
                for event in stream:
                    got.append(event.id)
    assert got == ids[1:3], "the two whole frames, and nothing of the cut one"
