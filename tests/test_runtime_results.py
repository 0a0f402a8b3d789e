"""Times in run results: aware UTC datetimes in Python, the same instants as
ISO-8601 text in JSON (wfconv/schemas/run.schema.json), and unchanged through
the run store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wfconv.ir.model import Action, Edge, Task, Workflow
from wfconv.runtime import ALL, Scenario, run
from wfconv.runtime.store import RunStore


def _wf() -> Workflow:
    return Workflow(
        "times",
        tasks=[
            Task("a", Action("empty"), retries=1, retry_delay_s=60),
            Task("b", Action("empty")),
            Task("c", Action("empty")),
        ],
        edges=[Edge("a", "b"), Edge("b", "c")],
    )


def _scenario() -> Scenario:
    # a fails once then succeeds; b fails for good, so c is upstream_failed.
    return Scenario(fail={"a": 1, "b": ALL}, durations={"a": 30})


def _times(res) -> list[datetime | None]:
    out = [res.logical_date, res.data_interval_start, res.data_interval_end, res.start, res.end]
    for tr in res.tasks.values():
        out += [tr.start, tr.end, tr.decided]
        for a in tr.attempts:
            out += [a.start, a.end]
    out += [e.time for e in res.trace]
    return out


def test_result_times_are_aware_utc_datetimes():
    (res,) = run(_wf(), _scenario(), date="2024-03-01")
    assert res.tasks["c"].state == "upstream_failed" and len(res.tasks["a"].attempts) == 2
    times = [t for t in _times(res) if t is not None]
    assert times and all(isinstance(t, datetime) and t.utcoffset() == timedelta(0) for t in times)
    assert res.logical_date == datetime(2024, 3, 1, tzinfo=UTC)
    a1, a2 = res.tasks["a"].attempts
    assert (a1.end - a1.start, a2.start - a1.end) == (timedelta(seconds=30), timedelta(seconds=60))
    # c never ran: when that was decided is its start and end, and b's end.
    c = res.tasks["c"]
    assert c.attempts == [] and c.start == c.end == c.decided == res.tasks["b"].end
    assert res.end == c.decided
    assert [e.time for e in res.trace] == sorted(e.time for e in res.trace)


def test_json_spells_the_same_instants_in_iso():
    (res,) = run(_wf(), _scenario(), date="2024-03-01")
    d = res.to_dict(detail=True)
    assert d["logical_date"] == res.logical_date.isoformat() == "2024-03-01T00:00:00+00:00"
    assert (d["start"], d["end"]) == (res.start.isoformat(), res.end.isoformat())
    for tid, tr in res.tasks.items():
        assert d["tasks"][tid]["end"] == tr.end.isoformat()
        assert [t["start"] for t in d["tasks"][tid]["tries"]] == [
            a.start.isoformat() for a in tr.attempts
        ]
    assert [e["time"] for e in res.trace_dicts()] == [e.time.isoformat() for e in res.trace]


def test_store_round_trip_keeps_the_times(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    (res,) = run(_wf(), _scenario(), date="2024-03-01", store=store)
    sr = store.load_run(res.store_id)
    assert (sr.info.logical_date, sr.info.data_interval_end) == (
        res.logical_date,
        res.data_interval_end,
    )
    stored = sr.initial
    assert [a.start for a in stored["a"].attempts] == [a.start for a in res.tasks["a"].attempts]
    assert [a.end for a in stored["b"].attempts] == [a.end for a in res.tasks["b"].attempts]
    assert [e.time for e in store.events(res.store_id)] == [e.time for e in res.trace]
