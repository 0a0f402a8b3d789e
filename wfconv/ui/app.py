"""The web application of ``wfconv ui`` (Starlette, jinja2 templates).

Pages (all GET; nothing on a page changes the store or the files):

- ``/runs``: the workflows of the run store, with their latest runs;
- ``/runs/grid?workflow=W``: tasks x runs coloured by state (Airflow's grid);
- ``/runs/{id}``: one run: its graph coloured by state, its Gantt chart;
- ``/runs/{id}/task?task=T``: a task instance: each attempt with its log,
  exit code, reason and rendered command, and the scenario it ran under;
- ``/migration``: every file of PATHS, its workflows, verdicts per target
  (sort, filter, search); ``/migration/workflow?w=KEY``: one workflow;
- ``/compare``: compare's roll-up over the workflows; ``/compare/workflow?w=KEY``.

A page showing a run in progress, or a migration still being verified,
reloads its content every two seconds (``static/ui.js``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

import wfconv
from wfconv.backends import svg
from wfconv.errors import InputError
from wfconv.ui import text
from wfconv.ui.history import History, RunRow
from wfconv.ui.migration import Migration, back_workflow, diff, source_text

HERE = Path(__file__).parent
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
GRID_RUNS = 25
VERDICT_ORDER = {"differs": 0, "error": 1, "not verified": 2, "equivalent": 3, None: 4}


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
    )
    env.filters.update(
        duration=text.duration,
        span=text.span,
        when=text.when,
        date=text.date,
        counts=text.counts,
        q=lambda v: quote(str(v), safe=""),
        tojson_pretty=lambda v: json.dumps(v, indent=2, sort_keys=True, ensure_ascii=False),
    )
    env.globals.update(version=wfconv.__version__, colours=svg.STATE_COLOURS, urlencode=urlencode)
    return env


class UI:
    """The state the pages read: the run store's path and the migration."""

    def __init__(self, db: Path | None, migration: Migration | None):
        self.db = db
        self.migration = migration
        self.templates = Jinja2Templates(env=_env())

    def history(self) -> History:
        if self.db is None or not self.db.is_file():
            raise HTTPException(404, f"no run store at {self.db}")
        try:
            return History(self.db)
        except InputError as exc:
            raise HTTPException(404, str(exc)) from None

    def page(self, request: Request, name: str, status: int = 200, **ctx: Any):
        ctx.setdefault("live", False)
        ctx.update(
            has_store=self.db is not None and self.db.is_file(),
            has_migration=self.migration is not None,
            db=self.db,
        )
        return self.templates.TemplateResponse(request, name, ctx, status_code=status)


def _int(request: Request, name: str, default: int, low: int = 0, high: int = 10**9) -> int:
    try:
        return max(low, min(high, int(request.query_params.get(name, default))))
    except ValueError:
        raise HTTPException(400, f"{name} must be a number") from None


# -- runs -----------------------------------------------------------------
def home(request: Request):
    ui: UI = request.app.state.ui
    if ui.db is not None and ui.db.is_file():
        return RedirectResponse("/runs", 302)
    if ui.migration is not None:
        return RedirectResponse("/migration", 302)
    return ui.page(request, "empty.html")


def runs_page(request: Request):
    ui: UI = request.app.state.ui
    if ui.db is None or not ui.db.is_file():
        return ui.page(request, "empty.html")
    with ui.history() as h:
        workflows = h.workflows(recent=20)
    live = any(r.running for w in workflows for r in w.recent)
    return ui.page(request, "runs.html", workflows=workflows, live=live)


def grid_page(request: Request):
    ui: UI = request.app.state.ui
    workflow = request.query_params.get("workflow")
    if not workflow:
        raise HTTPException(400, "which workflow? (?workflow=ID)")
    limit = _int(request, "limit", GRID_RUNS, 1, 100)
    offset = _int(request, "offset", 0)
    with ui.history() as h:
        total = h.count(workflow)
        if not total:
            raise HTTPException(404, f"no runs of {workflow!r} in this store")
        runs = h.runs(workflow, limit=limit, offset=offset)[::-1]  # oldest on the left
        tis = h.task_instances([r.id for r in runs])
        w = h.workflow_of(runs[-1]) if runs else None
    order = list(w.task_ids()) if w is not None else []
    for _, task in sorted(tis):
        if task not in order:
            order.append(task)
    longest = max((r.duration or 0 for r in runs), default=0) or 1
    return ui.page(
        request,
        "grid.html",
        workflow=workflow,
        runs=runs,
        tasks=order,
        tis=tis,
        total=total,
        limit=limit,
        offset=offset,
        longest=longest,
        live=any(r.running for r in runs),
    )


def _gantt(run: RunRow, order: list[str], attempts, tis) -> dict[str, Any]:
    """Bars of the Gantt chart, in seconds from the run's start."""
    t0 = run.start or min((a.start for a in attempts if a.start is not None), default=0.0)
    import time as _time

    ends = [a.end for a in attempts if a.end is not None]
    t1 = run.end or max(ends + [_time.time() if run.running else t0])
    total = max(t1 - t0, 1e-9)
    rows = []
    by_task: dict[str, list] = {}
    for a in attempts:
        by_task.setdefault(a.task, []).append(a)
    for task in order:
        bars, waits = [], []
        prev_end = None
        for a in by_task.get(task, []):
            start = a.start if a.start is not None else t0
            end = a.end if a.end is not None else t1
            if prev_end is not None and start > prev_end:
                waits.append(((prev_end - t0) / total, (start - prev_end) / total))
            bars.append(((start - t0) / total, max((end - start) / total, 0.002), a))
            prev_end = end
        ti = tis.get((run.id, task))
        mark = None
        if not bars and ti is not None and ti.decided is not None:
            mark = (ti.decided - t0) / total
        rows.append({"task": task, "bars": bars, "waits": waits, "mark": mark, "ti": ti})
    return {"rows": rows, "total": total, "t0": t0}


def run_page(request: Request):
    ui: UI = request.app.state.ui
    run_id = request.path_params["run"]
    with ui.history() as h:
        try:
            run = h.run(run_id)
        except InputError as exc:
            raise HTTPException(404, str(exc)) from None
        w = h.workflow_of(run)
        tis = h.task_instances([run.id])
        attempts = h.attempts(run.id)
        newer = h.db.execute(
            "SELECT id FROM runs WHERE workflow=? AND (logical_date>? OR (logical_date=? AND id>?))"
            " ORDER BY logical_date, id LIMIT 1",
            (run.workflow, run.logical_date, run.logical_date, run.id),
        ).fetchone()
        older = h.db.execute(
            "SELECT id FROM runs WHERE workflow=? AND (logical_date<? OR (logical_date=? AND id<?))"
            " ORDER BY logical_date DESC, id DESC LIMIT 1",
            (run.workflow, run.logical_date, run.logical_date, run.id),
        ).fetchone()
    order = list(w.task_ids()) if w is not None else sorted({t for _, t in tis})
    graph = None
    if w is not None:
        states = {t: tis[(run.id, t)].state for t in order if (run.id, t) in tis}
        links = {t: f"/runs/{run.id}/task?task={quote(t, safe='')}" for t in order}
        (graph,) = svg.draw([(w, svg.style(None, states=states, links=links))])
    return ui.page(
        request,
        "run.html",
        run=run,
        order=order,
        tis=tis,
        gantt=_gantt(run, order, attempts, tis),
        graph=graph,
        newer=newer[0] if newer else None,
        older=older[0] if older else None,
        live=run.running,
    )


def task_page(request: Request):
    ui: UI = request.app.state.ui
    run_id = request.path_params["run"]
    task = request.query_params.get("task")
    if task is None:
        raise HTTPException(400, "which task? (?task=ID)")
    with ui.history() as h:
        try:
            run = h.run(run_id)
        except InputError as exc:
            raise HTTPException(404, str(exc)) from None
        ti = h.task_instances([run.id]).get((run.id, task))
        if ti is None:
            raise HTTPException(404, f"run {run.id} has no task {task!r}")
        attempts = h.attempts(run.id, task)
        commands = [h.command(run, task, a.number) for a in attempts] or [h.command(run, task, 1)]
        w = h.workflow_of(run)
    scenario = {
        kind: value[task]
        for kind, value in run.scenario.items()
        if isinstance(value, dict) and task in value
    }
    if task in (run.scenario.get("skip") or []):
        scenario["skip"] = True
    return ui.page(
        request,
        "task.html",
        run=run,
        task=task,
        ti=ti,
        attempts=attempts,
        commands=commands,
        scenario=scenario,
        spec=w.task(task) if w is not None and task in w.task_ids() else None,
        live=run.running,
    )


# -- migration and compare ------------------------------------------------
def _migration(request: Request) -> Migration:
    m = request.app.state.ui.migration
    if m is None:
        raise HTTPException(404, "no PATHS given: `wfconv ui PATHS...` shows a migration")
    return m


def _overall(entry, targets) -> str | None:
    """The worst verdict over the targets (None while some are pending)."""
    got = [entry.results.get(t) for t in targets]
    if any(v is None for v in got):
        return None
    return min((v["verdict"] for v in got), key=lambda v: VERDICT_ORDER[v])


SORTS = {
    "path": lambda r: (r["path"], r["id"] or ""),
    "workflow": lambda r: ((r["id"] or "~").lower(), r["path"]),
    "engine": lambda r: (r["engine"] or "~", r["path"]),
    "tasks": lambda r: (r["tasks"] or 0, r["path"]),
    "findings": lambda r: (r["findings"], r["path"]),
    "verdict": lambda r: (VERDICT_ORDER[r["verdict"]], r["path"]),
}


def migration_page(request: Request):
    ui: UI = request.app.state.ui
    m = _migration(request)
    q = request.query_params
    search = (q.get("q") or "").strip().lower()
    engine = q.get("engine") or ""
    verdict = q.get("verdict") or ""
    show = q.get("show") or "all"
    sort = q.get("sort") if q.get("sort") in SORTS else "path"
    desc = q.get("dir") == "desc"
    rows = []
    for f in list(m.files):
        entries = list(f.workflows) or [None]
        for e in entries:
            row = {
                "path": f.path,
                "file": f,
                "entry": e,
                "id": e.id if e else None,
                "engine": e.engine if e else f.engine,
                "tasks": len(e.workflow.tasks) if e else None,
                "findings": len(e.findings if e else f.findings),
                "verdict": _overall(e, m.targets) if e else None,
            }
            rows.append(row)
    engines = sorted({r["engine"] for r in rows if r["engine"]})
    if show == "workflows":
        rows = [r for r in rows if r["entry"] is not None]
    if search:
        rows = [r for r in rows if search in r["path"].lower() or search in (r["id"] or "").lower()]
    if engine:
        rows = [r for r in rows if r["engine"] == engine]
    if verdict == "pending":
        rows = [r for r in rows if r["entry"] is not None and r["verdict"] is None]
    elif verdict:
        rows = [r for r in rows if r["verdict"] == verdict]
    rows.sort(key=SORTS[sort], reverse=desc)
    params = {"q": q.get("q") or "", "engine": engine, "verdict": verdict, "show": show}
    return ui.page(
        request,
        "migration.html",
        m=m,
        rows=rows,
        engines=engines,
        params=params,
        sort=sort,
        desc=desc,
        live=not m.done,
        total_files=len(m.files),
    )


def _entry(request: Request):
    m = _migration(request)
    key = request.query_params.get("w")
    entry = m.workflows.get(key or "")
    if entry is None:
        raise HTTPException(404, f"no workflow {key!r} in this migration")
    if len(entry.results) < len(m.targets):
        m.want(entry.key)
    return m, entry


def migration_workflow_page(request: Request):
    ui: UI = request.app.state.ui
    m, entry = _entry(request)
    target = request.query_params.get("target")
    if target not in m.targets:
        target = m.targets[0]
    view = entry.results.get(target)
    src_name, src = source_text(entry)
    files, lines, graphs = [], [], []
    if view is not None and view.get("files"):
        files = sorted(view["files"].items())
        name, code = files[0]
        lines = diff(src_name, src, name, code)
    items = [(entry.workflow, svg.style("source: " + entry.id))]
    back = back_workflow(view) if view else None
    if back is not None:
        hot = set(view["row"]["differing_tasks"])
        items.append((back, svg.style(f"{target}, read back", hot)))
    graphs = svg.draw(items)
    return ui.page(
        request,
        "migration_workflow.html",
        m=m,
        e=entry,
        target=target,
        view=view,
        source_name=src_name,
        source=src,
        files=files,
        diff=lines,
        graphs=graphs,
        live=len(entry.results) < len(m.targets),
    )


def compare_page(request: Request):
    ui: UI = request.app.state.ui
    m = _migration(request)
    entries = list(m.workflows.values())
    rollup = {t: {} for t in m.targets}
    differing = {t: 0 for t in m.targets}
    for e in entries:
        for t in m.targets:
            v = e.results.get(t)
            if v is None:
                continue
            name = v["row"]["verdict"] if v["verdict"] != "not verified" else "not verified"
            rollup[t][name] = rollup[t].get(name, 0) + 1
            differing[t] += len(v["row"]["differing_scenarios"])
    return ui.page(
        request,
        "compare.html",
        m=m,
        entries=entries,
        rollup=rollup,
        differing=differing,
        live=not m.done,
    )


def compare_workflow_page(request: Request):
    from wfconv.compare import FEATURES, features_used

    ui: UI = request.app.state.ui
    m, entry = _entry(request)
    items = [(entry.workflow, svg.style("source: " + entry.id))]
    titles = []
    for t in m.targets:
        v = entry.results.get(t)
        back = back_workflow(v) if v else None
        if back is not None:
            items.append((back, svg.style(f"{t}, read back", set(v["row"]["differing_tasks"]))))
            titles.append(t)
    graphs = svg.draw(items)
    used = features_used(entry.workflow)
    return ui.page(
        request,
        "compare_workflow.html",
        m=m,
        e=entry,
        features=[(f, FEATURES[f][1]) for f in used],
        graphs=graphs,
        live=len(entry.results) < len(m.targets),
    )


def progress_api(request: Request):
    m = request.app.state.ui.migration
    if m is None:
        return JSONResponse({"migration": None})
    return JSONResponse({"phase": m.phase, "progress": m.progress, "errors": m.errors[:1]})


async def not_found(request: Request, exc: HTTPException):
    ui: UI = request.app.state.ui
    return ui.page(request, "error.html", status=exc.status_code, message=exc.detail)


def create_app(
    db: str | Path | None, migration: Migration | None, host: str = "127.0.0.1"
) -> Starlette:
    routes = [
        Route("/", home),
        Route("/runs", runs_page),
        Route("/runs/grid", grid_page),
        Route("/runs/{run:int}", run_page),
        Route("/runs/{run:int}/task", task_page),
        Route("/migration", migration_page),
        Route("/migration/workflow", migration_workflow_page),
        Route("/compare", compare_page),
        Route("/compare/workflow", compare_workflow_page),
        Route("/api/progress", progress_api),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    # Bound to loopback, only loopback names are served: a web page elsewhere
    # cannot point a DNS name at 127.0.0.1 and read the store (DNS rebinding).
    allowed = list(LOOPBACK) if host in LOOPBACK else ["*"]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed)],
        exception_handlers={HTTPException: not_found},
    )
    app.state.ui = UI(Path(db) if db is not None else None, migration)
    return app
