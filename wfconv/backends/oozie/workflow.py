"""``workflow.xml``: the plan (normal and error edges), the series-parallel
tree rendered as actions, fork/join and decision nodes, error transitions,
and the naming of control nodes."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from lxml import etree

from wfconv.backends.common import (
    ERROR_RULES,
    error_paths,
)
from wfconv.backends.oozie.actions import ACTIONS, _act_opaque
from wfconv.backends.oozie.context import (
    _DONE_RULES,
    _ERR_MESSAGE,
    _NATIVE_RULES,
    _NODE_NAME,
    _RESERVED,
    WF_NS,
    _Ctx,
    _q,
    _sub,
    _xml_safe,
    to_el,
)
from wfconv.backends.seriesparallel import Leaf, Node, Parallel, Series, decompose
from wfconv.ir.model import Task, Workflow, implied_by_all_success

# ---------------------------------------------------------------------------
# graph -> nodes


@dataclass
class _Plan:
    """Which edges are ok-flow, which are error transitions."""

    normal: list[tuple[str, str]]
    errors: dict[str, list[str]]  # task -> error targets, in edge order
    main: list[str]
    handlers: list[str]


def _plan(w: Workflow, ctx: _Ctx) -> _Plan:
    p = error_paths(w)
    return _Plan(p.normal, p.errors, p.main, p.handlers)


class _Builder:
    def __init__(self, w: Workflow, ctx: _Ctx, plan: _Plan):
        self.w = w
        self.ctx = ctx
        self.plan = plan
        self.tasks = {t.id: t for t in w.tasks}
        self.names = ctx.names
        self.nodes: list[etree._Element] = []
        self.taken = set(self.names.values()) | set(_RESERVED)
        self.counter = 0
        self.entry_of: dict[str, str] = {}  # task id -> node name reached first
        self.in_fork: set[str] = set()
        self.join_of: dict[str, str | None] = {}  # task -> innermost join around it
        self.converge_targets: set[str] = set()
        self.join_to: dict[str, str] = {}  # join node -> the node after it
        self.kill_name = next(
            (n for n in ("kill", "fail", "wf-kill") if n not in set(self.names.values())), None
        ) or self.fresh("kill")
        self.taken.add(self.kill_name)
        self.kill_used = False
        self.error_leaves_fork = False
        self.pending_errors: list[tuple[etree._Element, str]] = []
        self.preds: dict[str, list[str]] = {}
        for a, b in plan.normal:
            self.preds.setdefault(b, []).append(a)

    def fresh(self, stem: str) -> str:
        while True:
            self.counter += 1
            name = f"{stem}-{self.counter}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    # Each render returns (entry node name, elements in flow order).
    def render(self, node: Node, nxt: str, join: str | None) -> tuple[str, list]:
        if isinstance(node, Leaf):
            return self.leaf(node.node, nxt, join)
        if isinstance(node, Parallel):
            fork, jn = self.fresh("fork"), self.fresh("join")
            self.join_to[jn] = nxt
            fork_el = etree.Element(_q("fork"), name=fork)
            join_el = etree.Element(_q("join"), name=jn, to=nxt)
            body: list = []
            for c in node.children:
                entry, els = self.render(c, jn, jn)
                _sub(fork_el, "path", start=entry)
                body.extend(els)
            return fork, [fork_el, *body, join_el]
        return self.series(node.children, nxt, join)

    def series(self, children: list[Node], nxt: str, join: str | None) -> tuple[str, list]:
        # Group a branch leaf with the element after it (the decision's paths).
        items: list[tuple[str, Node | None]] = []
        i = 0
        while i < len(children):
            c = children[i]
            if isinstance(c, Leaf) and self.tasks[c.node].action.kind == "branch":
                after = children[i + 1] if i + 1 < len(children) else None
                items.append((c.node, after))
                i += 2
            else:
                items.append(("", c))
                i += 1
        entries: list[tuple[str, list]] = []
        cont = nxt
        cont_task: str | None = None
        for branch, node in reversed(items):
            if branch:
                entry, els = self.decision(branch, node, cont, join, cont_task)
                cont_task = branch
            else:
                assert node is not None
                entry, els = self.render(node, cont, join)
                cont_task = _first(node)
            entries.append((entry, els))
            cont = entry
        out: list = []
        for _, els in reversed(entries):
            out.extend(els)
        return cont, out

    def decision(
        self, bid: str, after: Node | None, nxt: str, join: str | None, next_task: str | None = None
    ):
        """A branch task as a <decision>: one path per direct downstream task,
        the paths converging where the task graph converges."""
        task = self.tasks[bid]
        if task.retries or task.timeout_s:
            self.ctx.warn(
                "BO701",
                "a decision node has no retries or timeout; dropped",
                task=task,
                target="decision",
            )
        name = self.names[bid]
        self.entry_of[bid] = name
        self.join_of[bid] = join
        succs = {b for a, b in self.plan.normal if a == bid}
        arms: list[tuple[str, str]] = []  # (first task of a path, its entry node)
        els: list = []
        converge: list[str | None] = []
        if after is not None:
            els = self._arms(after, succs, nxt, join, arms, converge, next_task)
        for cont_task in dict.fromkeys(converge):
            self._check_convergence(bid, cont_task)
            if cont_task is not None:
                self.converge_targets.add(cont_task)
        arm_entries = dict(arms)
        cases = task.action.fields.get("cases") or []
        default = task.action.fields.get("default")
        end_target = join or "end"
        switch: list[tuple[str, str]] = []  # (EL predicate, node name)
        if cases:
            for case in cases:
                target = arm_entries.get(case.get("to"))
                if target is None:
                    target = self._outside_target(task, case.get("to"), end_target)
                switch.append((str(case.get("when") or "${false}"), target))
            if default in arm_entries:
                dtarget = arm_entries[default]
            else:
                dtarget = self._outside_target(task, default, end_target)
            named = {t for _, t in switch} | {dtarget}
            for first, entry in arms:
                if entry not in named:
                    # A path the IR reaches but no case names: keep it reachable
                    # (Oozie rejects unreachable nodes) under a case that never holds.
                    self.ctx.warn(
                        "BO206",
                        f"path to {first!r} is named by no case; kept "
                        "under a case that never holds",
                        task=task,
                        target="${false}",
                    )
                    switch.append(("${false}", entry))
                    named.add(entry)
        else:
            prop = f"{name}_branch".replace("-", "_")
            self.ctx.warn(
                "BO205",
                f"branch callable {task.action.fields.get('callable')!r} cannot run in Oozie; "
                f"the decision follows job property {prop!r} (default: first path)",
                task=task,
                target="decision on ${wf:conf(...)}",
            )
            self.ctx.warn(
                "BO205",
                f"job property {prop!r} (read back as a workflow parameter) chooses the path of "
                f"decision {name!r}",
                target=f"${{wf:conf('{prop}')}}",
            )
            for first, entry in arms:
                switch.append((f"${{wf:conf('{prop}') eq '{self.names[first]}'}}", entry))
            if not arms:
                switch.append(("${true}", nxt))
            dtarget = switch[0][1]
        el = etree.Element(_q("decision"), name=name)
        sw = _sub(el, "switch")
        for pred, target in switch:
            _sub(sw, "case", _xml_safe(pred), to=target)
        _sub(sw, "default", to=dtarget)
        return name, [el, *els]

    def _arms(
        self,
        node: Node,
        succs: set[str],
        nxt: str,
        join: str | None,
        arms: list[tuple[str, str]],
        converge: list[str | None],
        next_task: str | None,
    ) -> list:
        """Render ``node`` (what follows a decision) so that each direct
        downstream of the decision starts a path; returns the elements."""
        if isinstance(node, Series):
            head, rest = node.children[0], node.children[1:]
            cont, cont_els, cont_task = nxt, [], next_task
            if rest:
                cont_node = rest[0] if len(rest) == 1 else Series(rest)
                cont, cont_els = self.render(cont_node, nxt, join)
                cont_task = _first(cont_node)
            if _leafset(head) & succs:
                return self._arms(head, succs, cont, join, arms, converge, cont_task) + cont_els
            entry, els = self.render(head, cont, join)
            arms.append((_first(head), entry))
            return els + cont_els
        if isinstance(node, Parallel):
            out: list = []
            if sum(bool(_leafset(c) & succs) for c in node.children) > 1:
                converge.append(next_task)  # several paths meet after this point
            for child in node.children:
                if _leafset(child) & succs:
                    out += self._arms(child, succs, nxt, join, arms, converge, next_task)
                else:
                    entry, els = self.render(child, nxt, join)
                    arms.append((_first(child), entry))
                    out += els
            return out
        entry, els = self.render(node, nxt, join)
        arms.append((node.node, entry))
        return els

    def _outside_target(self, task: Task, to, end_target: str) -> str:
        if to in (None, "end") and end_target == "end":
            return "end"
        if to in self.ctx.dissolved:
            # a routing hop of the source: go where it led, if that is in reach
            after = self.ctx.dissolved[to]
            if (
                len(after) == 1
                and after[0] in self.entry_of
                and (self.join_of.get(after[0]) == self.join_of.get(task.id))
            ):
                return self.entry_of[after[0]]
            return end_target
        if to in self.names and to in self.entry_of:
            return self.entry_of[to]
        if to in self.names and self.tasks[to].action.kind == "fail":
            return self.names[to]
        self.ctx.warn(
            "BO206",
            f"decision target {to!r} is not a path of the decision; transition to {end_target!r}",
            task=task,
            target=end_target,
        )
        return end_target

    def _check_convergence(self, bid: str, cont_task: str | None) -> None:
        if cont_task is None:
            return
        t = self.tasks[cont_task]
        if t.trigger_rule not in (
            "one_success",
            "all_success",
            "none_skipped",
            "all_done_min_one_success",
        ):
            self.ctx.warn(
                "BO209",
                f"converging paths of decision {bid!r}: trigger rule "
                f"{t.trigger_rule} is read back as one_success",
                task=t,
                target="converging transitions",
            )
        if t.trigger_rule in ("all_success", "none_skipped", "all_done_min_one_success"):
            self.ctx.warn(
                "BO202",
                f"runs after whichever path decision {bid!r} takes; in the IR its trigger rule "
                f"{t.trigger_rule} skips it when a path was not taken",
                task=t,
                target="converging transitions",
            )

    def leaf(self, tid: str, nxt: str, join: str | None) -> tuple[str, list]:
        task = self.tasks[tid]
        name = self.names[tid]
        self.entry_of[tid] = name
        self.join_of[tid] = join
        if join is not None:
            self.in_fork.add(tid)
        kind = task.action.kind
        if kind == "fail":
            el = etree.Element(_q("kill"), name=name)
            msg = task.action.fields.get("message") or f"{tid} failed"
            _sub(el, "message", _xml_safe(to_el(str(msg), self.ctx, task)))
            return name, [el]
        if kind == "branch":
            return self.decision(tid, None, nxt, join)
        el = etree.Element(_q("action"), name=name)
        self.retry(el, task)
        builder = ACTIONS.get(kind)
        if builder is None:
            builder = _act_opaque
        builder(el, self.ctx, task)
        _sub(el, "ok", to=nxt)
        err = _sub(el, "error", to=self.kill_name)
        self.pending_errors.append((err, tid))
        return name, [el]

    def rules(self, task: Task, handlers: set[str]) -> None:
        r = task.trigger_rule
        main_ups = [u for u in self.preds.get(task.id, []) if u not in handlers]
        if r == "one_success" and (len(main_ups) <= 1 or task.id in self.converge_targets):
            return  # an ok path and error paths, or decision paths: exclusive, so exact
        if (
            r in ("none_failed", "none_failed_min_one_success", "none_skipped")
            and main_ups
            and (task.id not in self.converge_targets)
            and not self._after_a_decision(task.id)
        ):
            self.ctx.warn(
                "BO210",
                f"trigger rule {r} is what an Oozie join does (no skipped "
                "state); read back as all_success (same runs, another rule)",
                task=task,
                target="all_success",
            )
            return
        if r in _NATIVE_RULES or r in ERROR_RULES or r in _DONE_RULES:
            if (
                r == "all_failed"
                and len(self.preds.get(task.id, []))
                + sum(task.id in v for v in self.plan.errors.values())
                > 1
            ):
                self.ctx.warn(
                    "BO201",
                    "all_failed becomes an error transition from each upstream "
                    "(runs when the first one fails)",
                    task=task,
                    target="error transition",
                )
            return
        self.ctx.warn(
            "BO201",
            f"trigger rule {r} has no Oozie form; the task waits for all "
            "upstream paths to succeed (join)",
            task=task,
            target="ok transition / join",
        )

    def _after_a_decision(self, tid: str) -> bool:
        """Is a branch task among the ancestors (then a path may be untaken)?"""
        stack, seen = list(self.preds.get(tid, [])), set()
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            if self.tasks[n].action.kind == "branch":
                return True
            stack.extend(self.preds.get(n, []))
        return False

    def retry(self, el, task: Task) -> None:
        if task.retries <= 0:
            return
        if task.action.kind == "sensor":
            # The polling loop fails only when its time is up, and Airflow
            # never retries a sensor that timed out: a retry would wait again.
            self.ctx.warn(
                "BO409",
                f"retries={task.retries} not written: the sensor's polling loop fails only "
                "on its timeout, which Airflow never retries",
                task=task,
                target="no retry-max",
            )
            return
        el.set("retry-max", str(task.retries))
        self.ctx.warn(
            "BO301",
            "Oozie retries only whitelisted error codes "
            "(user.retry.error.code[.ext]); a failing shell command is not retried "
            "unless the server allows ALL",
            task=task,
            target="retry-max",
        )
        if task.retries > 3:
            self.ctx.warn(
                "BO303",
                f"retries={task.retries} exceed Oozie's default system "
                "maximum 3 (oozie.service.LiteWorkflowStoreService.user.retry.max)",
                task=task,
                target="retry-max",
            )
        delay = task.retry_delay_s
        if isinstance(delay, list):
            if delay:
                self.ctx.warn(
                    "BO304",
                    f"per-attempt delays {delay} collapse to the first one",
                    task=task,
                    target="retry-interval",
                )
            delay = delay[0] if delay else None
        if delay is not None:
            minutes = max(1, math.ceil(float(delay) / 60))
            if float(delay) != minutes * 60:
                self.ctx.warn(
                    "BO302",
                    f"retry delay {delay}s becomes {minutes} min",
                    task=task,
                    target="retry-interval",
                )
            el.set("retry-interval", str(minutes))
        if task.retry_backoff == "exponential":
            el.set("retry-policy", "exponential")
            if task.max_retry_delay_s is not None:
                self.ctx.warn(
                    "BO304",
                    "max_retry_delay has no Oozie counterpart; dropped",
                    task=task,
                    target="retry-policy",
                )

    def resolve_errors(
        self, region_entry: dict[str, str], region_join: dict[str, str | None]
    ) -> None:
        """Point each action's <error> at its handler, or at the shared kill node."""
        done_targets: dict[str, str] = {}
        for t in self.w.tasks:
            if t.trigger_rule in _DONE_RULES:
                ups = self.preds.get(t.id, [])
                if (
                    len(ups) == 1
                    and ups[0] not in self.plan.errors
                    and (self.join_of.get(ups[0], "?") == self.join_of.get(t.id, "!"))
                ):
                    done_targets[ups[0]] = self.entry_of.get(t.id, self.names[t.id])
                    if t.trigger_rule != "one_done":
                        self.ctx.warn(
                            "BO210",
                            f"trigger rule {t.trigger_rule}: ok and error of "
                            f"{ups[0]!r} both lead here; read back as one_done (it does not "
                            f"run when {ups[0]!r} never ran: an earlier failure kills the "
                            "workflow)",
                            task=t,
                            target="one_done",
                        )
                else:
                    self.ctx.warn(
                        "BO201",
                        f"trigger rule {t.trigger_rule} with upstreams {ups} "
                        "becomes all_success (an upstream failure kills the workflow)",
                        task=t,
                        target="ok transition",
                    )
        for err_el, tid in self.pending_errors:
            targets = self.plan.errors.get(tid, [])
            if targets:
                if len(targets) > 1:
                    first = region_entry.get(targets[0], self.names[targets[0]])
                    if any(region_entry.get(x) != first for x in targets[1:]):
                        self.ctx.warn(
                            "BO203",
                            f"error targets {targets}: Oozie keeps one; "
                            f"error goes to {targets[0]!r}",
                            task=self.tasks[tid],
                            target="error transition",
                        )
                err_el.set("to", region_entry.get(targets[0], self.names[targets[0]]))
                back_to = region_join.get(targets[0], "-")
                if (
                    tid in self.in_fork
                    and self.tasks[targets[0]].action.kind != "fail"
                    and back_to != self.join_of.get(tid)
                ):
                    self.error_leaves_fork = True
                    self.ctx.warn(
                        "BO207",
                        f"error path to {targets[0]!r} leaves a fork; "
                        "job.properties turns off Oozie's fork/join validation "
                        "(oozie.wf.validate.ForkJoin=false)",
                        task=self.tasks[tid],
                        target="error transition",
                    )
            elif tid in done_targets:
                err_el.set("to", done_targets[tid])
            elif tid in self.ctx.error_to_end:
                err_el.set("to", "end")
            else:
                self.kill_used = True
        handlers = set(self.plan.handlers)
        for t in self.w.tasks:
            if t.id in self.entry_of and t.action.kind not in ("fail", "branch"):
                self.rules(t, handlers)


def _report_transitive_edges(plan: _Plan, ctx: _Ctx) -> None:
    """Oozie transitions cannot hold an edge a -> c next to a path a -> b -> c;
    the edge is implied, so reading the output back lists one edge fewer.
    (A decision's edges are alternative paths, not orderings: never implied.)"""
    branches = {t.id for t in ctx.w.tasks if t.action.kind == "branch"}
    succ: dict[str, list[str]] = {}
    for a, c in plan.normal:
        succ.setdefault(a, []).append(c)
    # What a's successors reach (one search per task with several successors,
    # not one per edge: that was quadratic): a -> c is implied when c is in it.
    below: dict[str, set[str]] = {}
    for a, c in plan.normal:
        if a in branches or len(succ[a]) < 2:
            continue
        if a not in below:
            seen: set[str] = set()
            stack = [n for x in succ[a] for n in succ.get(x, [])]
            while stack:
                n = stack.pop()
                if n not in seen:
                    seen.add(n)
                    stack.extend(succ.get(n, []))
            below[a] = seen
        if c not in below[a]:
            continue
        exact = implied_by_all_success(ctx.w)(a, c)
        ctx.warn(
            "BO102",
            f"edge {a!r} -> {c!r} is implied by a longer path; "
            "Oozie transitions keep only the path (listed in a comment)"
            + (
                ""
                if exact
                else f"; {c!r} (trigger rule {ctx.w.task(c).trigger_rule}) then "
                f"no longer sees {a!r}'s own state"
            ),
            task=None if exact else ctx.w.task(c),
            severity="info" if exact else "warning",
            target=f"{a} -> {c}",
        )
        ctx.implied.append((a, c))


def _leafset(node: Node) -> set[str]:
    if isinstance(node, Leaf):
        return {node.node}
    out: set[str] = set()
    for c in node.children:
        out |= _leafset(c)
    return out


def _first(node: Node) -> str:
    while not isinstance(node, Leaf):
        node = node.children[0]
    return node.node


# ---------------------------------------------------------------------------
# workflow.xml


def _workflow_xml(w: Workflow, ctx: _Ctx) -> tuple[bytes, dict[str, str | None], bool]:
    plan = _plan(w, ctx)
    b = _Builder(w, ctx, plan)
    order = {tid: i for i, tid in enumerate(w.task_ids())}

    def sp(members: list[str]):
        mset = set(members)
        edges = [(a, c) for a, c in plan.normal if a in mset and c in mset]
        dec = decompose(members, edges)
        for lost in dec.losses:
            pairs = ", ".join(f"{a} -> {c}" for a, c in lost.pairs[:20])
            more = f" (+{len(lost.pairs) - 20} more)" if len(lost.pairs) > 20 else ""
            ctx.warn(
                "BO101",
                f"fork/join nesting makes {lost.after} wait for {lost.before}; "
                f"orderings added: {pairs}{more}",
                target="join",
            )
        return dec.tree

    _report_transitive_edges(plan, ctx)
    main_tree = sp(plan.main)
    # Handler regions: weakly connected groups of tasks reached through errors.
    regions: list[list[str]] = []
    hset = set(plan.handlers)
    adj: dict[str, set[str]] = {h: set() for h in plan.handlers}
    for a, c in plan.normal:
        if a in hset and c in hset:
            adj[a].add(c)
            adj[c].add(a)
    seen: set[str] = set()
    for h in plan.handlers:
        if h in seen:
            continue
        comp, stack = [], [h]
        seen.add(h)
        while stack:
            n = stack.pop()
            comp.append(n)
            for m in sorted(adj[n], key=order.__getitem__):
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
        regions.append(sorted(comp, key=order.__getitem__))

    body: list = []
    start_to = "end"
    if main_tree is not None:
        start_to, els = b.render(main_tree, "end", None)
        body.extend(els)
    region_entry: dict[str, str] = {}
    region_join: dict[str, str | None] = {}  # handler task -> join context it returns to
    for comp in regions:
        tree = sp(comp)
        exit_to, back_join = "end", None
        members = set(comp)
        outs = [c for a, c in plan.normal if a in members and c not in members]
        sources = [s for s, ts in plan.errors.items() if s not in members and set(ts) & members]
        if outs:
            tgt = outs[0]
            same_context = tgt in b.entry_of and all(
                b.join_of.get(src) == b.join_of.get(tgt) for src in sources
            )
            src_joins = {b.join_of.get(src) for src in sources}
            via_join = next(iter(src_joins)) if len(src_joins) == 1 else None
            if same_context:
                exit_to, back_join = b.entry_of[tgt], b.join_of.get(tgt)
            elif via_join is not None and b.join_to.get(via_join) == b.entry_of.get(tgt):
                # the handler rejoins its fork path: it goes to the join before tgt
                exit_to, back_join = via_join, via_join
            else:
                ctx.warn(
                    "BO204",
                    f"handler path {comp} flows into {tgt!r} in another fork "
                    "path; it ends at the end node instead",
                    task=b.tasks[comp[0]],
                    target="end",
                )
        entry, els = b.render(tree, exit_to, None)
        for tid in comp:
            region_entry[tid] = b.entry_of.get(tid, entry)
            region_join[tid] = back_join
        # error transitions to the region's first task enter through its structure
        region_entry[_first(tree)] = entry
        body.extend(els)
    b.resolve_errors(region_entry, region_join)

    root = etree.Element(_q("workflow-app"), nsmap={None: WF_NS}, name=_xml_safe(w.id))
    mapping = {name: tid for tid, name in ctx.names.items() if name != tid}
    params = _parameters_needed(w, ctx)
    if params:
        pe = _sub(root, "parameters")
        for pname, default in params.items():
            p = _sub(pe, "property")
            _sub(p, "name", pname)
            if default is not None:
                _sub(p, "value", _xml_safe(default))
    glob = _sub(root, "global")
    _sub(glob, "resource-manager", "${resourceManager}")
    _sub(glob, "name-node", "${nameNode}")
    _sub(root, "start", to=start_to)
    root.extend(body)
    # Control nodes renamed in the whole document at once (the start node too).
    taken = set(ctx.names.values()) | set(_RESERVED) | {b.kill_name}
    _renumber_control_nodes(root, body, taken)
    _original_control_names(root, body, ctx, taken)
    if b.kill_used:
        ctx.warn(
            "BO208",
            f"unhandled action errors go to the kill node {b.kill_name!r} (the run "
            "fails, as in the source; a comment marks the node for wfconv's Oozie reader)",
            severity="info",
            target=b.kill_name,
        )
        k = _sub(root, "kill", name=b.kill_name)
        _sub(k, "message", _ERR_MESSAGE)
    _sub(root, "end", name="end")
    if ctx.implied:
        pairs = [[ctx.names[a], ctx.names[c]] for a, c in ctx.implied]
        root.insert(0, etree.Comment(" wfconv implied edges: " + _comment_json(pairs) + " "))
    if b.kill_used:
        root.insert(
            0,
            etree.Comment(
                " wfconv kill node for unhandled errors: " + _comment_json(b.kill_name) + " "
            ),
        )
    if mapping:
        root.insert(
            0, etree.Comment(" wfconv node names -> task ids: " + _comment_json(mapping) + " ")
        )
    data = etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")
    return data, params, b.error_leaves_fork


def _local(el) -> str:
    """The local name of a node element of the body (all in the workflow
    namespace): the tag after ``}``, 25 times cheaper than ``etree.QName``."""
    return el.tag.rpartition("}")[2]


def _renumber_control_nodes(root, body: list, taken: set[str]) -> dict[str, str]:
    """Name forks and joins ``fork-1``, ``join-1`` ... in document order (they
    are created right to left), skipping names a task already uses."""
    rename: dict[str, str] = {}
    counter = 0
    for el in body:
        tag = _local(el)
        if tag in ("fork", "join"):
            old = el.get("name")
            if tag == "fork":
                counter += 1
                while f"fork-{counter}" in taken or f"join-{counter}" in taken:
                    counter += 1
            rename[old] = f"{tag}-{counter}"
    # joins pair with their forks: a join takes its fork's number
    pairs: dict[str, str] = {}
    stack: list[str] = []
    for el in body:
        tag = _local(el)
        if tag == "fork":
            stack.append(rename[el.get("name")])
        elif tag == "join":
            pairs[el.get("name")] = "join-" + stack.pop().split("-", 1)[1]
    rename.update(pairs)
    _rename_nodes(root, rename)
    return rename


def _rename_nodes(root, rename: dict[str, str]) -> None:
    """Node names in ``name``, ``to`` and ``start`` attributes under the
    workflow-app ``root`` (not its own name) renamed: the elements holding
    one are found by one XPath, in C, not by visiting every one."""
    if not rename:
        return
    for node in _NAMED(root):
        for attr in ("name", "to", "start"):
            v = node.get(attr)
            if v in rename:
                node.set(attr, rename[v])


_NAMED = etree.XPath("descendant::*[@name or @to or @start]")


def _original_control_names(root, body: list, ctx: _Ctx, taken: set[str]) -> dict[str, str]:
    """Give a fork/join the name it had in an Oozie source when the source's
    routing tasks recorded it and exactly one node here has the same tasks
    right after it (a join's successor, a fork's path starts)."""
    task_of = {name: tid for tid, name in ctx.names.items()}
    made: dict[tuple[str, frozenset[str]], list[str]] = {}
    for el in body:
        tag = _local(el)
        if tag == "join":
            after = [el.get("to")]
        elif tag == "fork":
            after = [p.get("start") for p in el if etree.QName(p).localname == "path"]
        else:
            continue
        if all(a in task_of for a in after):
            made.setdefault((tag, frozenset(task_of[a] for a in after)), []).append(el.get("name"))
    wanted: dict[tuple[str, frozenset[str]], list[str]] = {}
    for name, key in ctx.controls.items():
        wanted.setdefault(key, []).append(name)
    rename: dict[str, str] = {}
    for key, names in sorted(wanted.items(), key=lambda kv: sorted(kv[1])):
        have = made.get(key, [])
        if len(names) == 1 and len(have) == 1 and names[0] not in taken:
            if _NODE_NAME.fullmatch(names[0]) and names[0] not in rename.values():
                rename[have[0]] = names[0]
    existing = {el.get("name") for el in body} - set(rename)
    rename = {old: new for old, new in rename.items() if new not in existing}
    _rename_nodes(root, rename)
    return rename


def _comment_json(value) -> str:
    """JSON that can sit inside an XML comment (no ``--``, ASCII only)."""
    return json.dumps(value, ensure_ascii=True, sort_keys=True).replace("-", "\\u002d")


def _parameters_needed(w: Workflow, ctx: _Ctx) -> dict[str, str | None]:
    """Workflow <parameters>: the workflow's params with their defaults, then
    the run-time dates the coordinator passes (no default: a manual run must
    give them)."""
    out: dict[str, str | None] = {}
    for raw, name in ctx.param_names.items():
        v = w.params[raw]
        if v is None:
            out[name] = None  # unresolved in the source: the submitter must give it
        else:
            out[name] = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    for prop in sorted(ctx.dates_used):
        out.setdefault(prop, None)
    return out
