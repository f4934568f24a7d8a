from support.mockserver import SEED_CHILD, SEED_EVENTS, SEED_SESSION
from support.sse import SSEClient


def test_ready_line_and_seed_stream(mock):
    r = mock.get(f"/v1/sessions/{SEED_SESSION}/threads")
    assert r.status == 200
    with SSEClient(mock.host, mock.port, f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/stream") as s:
        frames = s.events(2)
        assert [f.id for f in frames] == SEED_EVENTS
