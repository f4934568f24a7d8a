"""A large fixture file (1 MiB and more) has its sessions read on two threads while it is parsed.
The world it makes, and the first problem it reports, are those of the one-thread reading: a
folder holding the same file is read that way (README: "Fixtures"), so the two are compared.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support.mockserver import REPO, binary_path

FROZEN_AT = "2026-06-20T00:00:00.000Z"
READ_AHEAD_FROM = 1 << 20  # FixtureFiles.readAheadFrom


@pytest.fixture(scope="module")
def big_doc(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("readahead") / "gen.json"
    subprocess.run([sys.executable, str(REPO / "bench" / "gen_fixture.py"), "--sessions", "30", "--threads", "4",
                    "--events", "50", "--out", str(out)], check=True, capture_output=True, timeout=60)
    return json.loads(out.read_text())


def _write_both(tmp_path: Path, doc: dict, text: str | None = None) -> tuple[Path, Path]:
    """The document as one file (read ahead) and as the only file of a folder (read on one thread)."""
    text = json.dumps(doc) if text is None else text
    assert len(text.encode()) >= READ_AHEAD_FROM
    file = tmp_path / "big.json"
    file.write_text(text)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "big.json").write_text(text)
    return file, folder


def _state(start_server, fixtures: Path) -> bytes:
    srv = start_server("--fixtures", str(fixtures), "--frozen-clock", FROZEN_AT)
    r = srv.control("GET", "/state")
    assert r.status == 200
    return r.body


def _refusal(fixtures: Path, named: Path | None = None) -> str:
    """What the binary says about a fixture it refuses, without the name of the file (or folder)."""
    proc = subprocess.run([binary_path(), "--port", "0", "--fixtures", str(fixtures)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    prefix = f"cloud-agents-mock: {named or fixtures}: "
    assert proc.stderr.startswith(prefix), proc.stderr
    return proc.stderr.removeprefix(prefix)


def test_a_large_fixture_file_makes_the_world_its_folder_makes(start_server, tmp_path, big_doc):
    file, folder = _write_both(tmp_path, big_doc)
    state = _state(start_server, file)
    assert state == _state(start_server, folder)
    world = json.loads(state)
    assert len(world["sessions"]) == 30
    assert sum(len(t["events"]) for s in world["sessions"] for t in s["threads"]) == 30 * 4 * 50


def test_members_after_the_sessions_are_read_as_well(start_server, tmp_path, big_doc):
    # The roster after the sessions: they cannot be read before it is known.
    doc = {"sessions": big_doc["sessions"], "tokens": ["tok-late"], "agents": big_doc["agents"]}
    file, folder = _write_both(tmp_path, doc)
    state = _state(start_server, file)
    assert state == _state(start_server, folder)
    assert json.loads(state)["tokens"] == ["tok-late"]


def _events(doc: dict, s: int, t: int) -> list:
    return doc["sessions"][s]["threads"][t]["events"]


PROBLEMS = [
    # (mutation, JSON path of the problem, message fragment)
    (lambda d: _events(d, 29, 3)[49].__setitem__("id", _events(d, 0, 0)[0]["id"]),
     "$.sessions[29].threads[3].events[49].id", "(first used at $.sessions[0].threads[0].events[0].id)"),
    (lambda d: d["sessions"][27]["threads"][2].__setitem__("id", d["sessions"][3]["threads"][1]["id"]),
     "$.sessions[27].threads[2].id", "(first used at $.sessions[3].threads[1].id)"),
    (lambda d: d["sessions"][20].__setitem__("id", d["sessions"][19]["id"]),
     "$.sessions[20].id", "(first used at $.sessions[19].id)"),
    (lambda d: _events(d, 15, 1)[7].__setitem__("type", "two words"),
     "$.sessions[15].threads[1].events[7].type", "must be 1 to 128 letters"),
    (lambda d: d["sessions"][25]["threads"][0].__setitem__("agent_id", "agent_ghost"),
     "$.sessions[25].threads[0].agent_id", "unknown agent 'agent_ghost'"),
    (lambda d: d["agents"][1].__setitem__("version", "two"),
     "$.agents[1].version", ""),
]


@pytest.mark.parametrize("mutate,path,fragment", PROBLEMS, ids=[p[1] for p in PROBLEMS])
def test_a_large_fixture_file_reports_the_first_problem_as_its_folder_does(tmp_path, big_doc, mutate, path,
                                                                             fragment):
    doc = json.loads(json.dumps(big_doc))
    mutate(doc)
    file, folder = _write_both(tmp_path, doc)
    said = _refusal(file)
    assert said == _refusal(folder)
    assert said.startswith(f"{path}: ") and fragment in said, said


def test_a_large_fixture_file_that_is_not_json_names_the_place(tmp_path, big_doc):
    text = json.dumps(big_doc)
    cut = text[: len(text) - 5000]  # ends inside the last session
    file, folder = _write_both(tmp_path, {}, text=cut)
    said = _refusal(file)
    # A folder's file is named by its own path.
    assert said == _refusal(folder, named=folder / "big.json")
    assert said.startswith("$: not valid JSON: ") and f"(byte {len(cut.encode())})" in said, said
