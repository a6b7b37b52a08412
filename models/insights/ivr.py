"""Self-service path report: why inbound callers left the IVR / bot for an agent, which nodes fail
or loop, and which nodes callers last used before a transfer (and before a complaint).

Input is each inbound call's ``path`` (``[{channel, node, name, result}]``, oldest first, result one
of ok | fail | timeout | repeat | transfer), carried through the analysis from the call metadata.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from models.insights.calls import CallRecord
from models.insights.report import Chart, Report, Table
from models.insights.settings import DEFAULT_SETTINGS, SettingsError, section_settings
from nlp.taxonomy import load_taxonomy

CATEGORIES = ("zero_out", "after_failure", "after_loop", "other")
CATEGORY_NAMES = {"zero_out": "首层转人工", "after_failure": "自助失败后转人工", "after_loop": "循环后转人工",
                  "other": "其他"}
FAILED = ("fail", "timeout")

NodeKey = tuple[str, str, str]   # (channel, node, name)


def ivr_settings(settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``ivr`` section of the report settings (None reads settings.yaml), its complaint reasons
    checked against the taxonomy; a ``SettingsError`` names a bad one."""
    conf = section_settings("ivr", settings)
    reasons = conf["complaint_reasons"]
    known = load_taxonomy(None).reasons
    source = DEFAULT_SETTINGS if settings is None else "<settings>"
    for code in reasons:
        if not isinstance(code, str) or code not in known:
            raise SettingsError(f"{source}: ivr.complaint_reasons: {code!r} is not a taxonomy reason; "
                                f"known: {', '.join(known)}")
    return conf


def node_key(step: dict[str, Any]) -> NodeKey:
    """A node as the report names it: channel, node id and menu name."""
    return str(step.get("channel") or ""), str(step.get("node") or ""), str(step.get("name") or "")


def node_label(key: NodeKey) -> str:
    """Chart label of a node, e.g. '卡片激活 (ivr 1-1)'."""
    channel, node, name = key
    return f"{name or node} ({channel} {node})"


def transfer_index(path: list[dict[str, Any]]) -> int | None:
    """Index of the step that handed the caller to an agent: the last step with result 'transfer'
    (an earlier one did not connect); None when the path has none."""
    hits = [i for i, step in enumerate(path) if step.get("result") == "transfer"]
    return hits[-1] if hits else None


def self_service_steps(path: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Steps before the transfer that are not on the transfer node itself (asking for an agent again
    is not self-service); the whole path when it has no transfer step."""
    t = transfer_index(path)
    if t is None:
        return list(path)
    transfer_node = path[t].get("node")
    return [step for step in path[:t] if step.get("node") != transfer_node]


def exit_step(path: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The last self-service step before the transfer (None when there was none: a zero-out)."""
    if path_category(path) == "zero_out":
        return None
    steps = self_service_steps(path)
    return steps[-1] if steps else None


def path_category(path: list[dict[str, Any]]) -> str:
    """Why the caller reached an agent, one of ``CATEGORIES``: zero_out (first step is the transfer
    node or a transfer), else after_failure (a self-service fail/timeout; wins over a loop), else
    after_loop (a node visited twice or a 'repeat'), else other."""
    t = transfer_index(path)
    first = path[0]
    if first.get("result") == "transfer" or (t is not None and first.get("node") == path[t].get("node")):
        return "zero_out"
    steps = self_service_steps(path)
    if any(step.get("result") in FAILED for step in steps):
        return "after_failure"
    visits = Counter((step.get("channel"), step.get("node")) for step in steps)
    if any(n > 1 for n in visits.values()) or any(step.get("result") == "repeat" for step in steps):
        return "after_loop"
    return "other"


def is_complaint(call: CallRecord, conf: dict[str, Any] | None = None) -> bool:
    """Whether a call is followed by a complaint: a complaint reason, complaint risk at or over the
    threshold, or (when the input carries it) labels.complained_later. ``conf``: the ivr settings."""
    conf = conf or ivr_settings()
    if any(r.get("code") in conf["complaint_reasons"] for r in call.reasons):
        return True
    risk = call.complaint_risk
    if risk is not None and risk >= conf["complaint_risk_threshold"]:
        return True
    labels = call.data.get("labels")
    return bool(conf["use_complained_later"] and isinstance(labels, dict) and labels.get("complained_later"))


def build_ivr_report(calls: list[CallRecord], *, settings: dict[str, Any] | None = None) -> Report:
    """Categories of why inbound callers reached an agent, per-node failure and repeat rates, and
    the nodes last used before a transfer and before a complaint. ``settings``: sections as
    ``load_settings`` returns them (None reads settings.yaml)."""
    conf = ivr_settings(settings)
    inbound = [c for c in calls if c.direction == "inbound"]
    routed = [c for c in inbound if c.path]
    per_call = [_call_row(call, conf) for call in routed]
    categories = Counter(row["category"] for row in per_call)
    category_rows = [{"category": cat, "label": CATEGORY_NAMES[cat], "calls": categories[cat],
                      "share": round(categories[cat] / len(routed), 4) if routed else None} for cat in CATEGORIES]
    nodes = _node_table(routed)
    exits = _exit_table(routed, conf)
    summary = {
        "inbound_calls": len(inbound),
        "calls_with_path": len(routed),
        "categories": {cat: categories[cat] for cat in CATEGORIES},
        "zero_out_share": category_rows[0]["share"],
        "self_service_failure_share": category_rows[1]["share"],
        "nodes": len(nodes.rows),
        "top_exit_node": exits.rows[0]["label"] if exits.rows else None,
        "complaint_calls": sum(1 for row in per_call if row["complaint"]),
    }
    notes = [
        ("Only inbound calls with a non-empty IVR/bot path are classified, exactly one category each. The transfer "
         "step is the last step with result 'transfer' (the whole path is self-service when there is none); steps "
         "on the transfer node before it (asking for an agent again) are not self-service."),
        ("首层转人工 (zero_out): the first step is the transfer node or a transfer. 自助失败后转人工 (after_failure): "
         "a self-service step before the transfer failed or timed out. 循环后转人工 (after_loop): a self-service "
         "node was visited more than once or a step was 'repeat', with no failure. 其他 (other): self-service "
         "steps all ok, then the caller asked for an agent."),
        ("Precedence: zero_out, then after_failure, then after_loop, then other; so a path that both failed and "
         "looped counts as after_failure (the failure is what the self-service owner must fix)."),
        ("Nodes are channel + node id + name; failure_rate = (fail + timeout) / visits over every step of every "
         "path, the transfer node included. The exit node is the last self-service step before the transfer "
         "(zero-outs have none)."),
        ("A call counts as followed by a complaint when a reason is one of "
         f"{', '.join(conf['complaint_reasons'])}, or complaint_risk >= {conf['complaint_risk_threshold']:g}"
         + (", or labels.complained_later is true (when the input carries labels)" if conf["use_complained_later"]
            else "") + "; settings: the ivr section of models/insights/settings.yaml."),
    ]
    return Report(
        name="ivr", title="自助服务路径分析", summary=summary,
        tables=[Table("categories", ["category", "label", "calls", "share"], category_rows), nodes, exits,
                Table("calls", ["call_id", "day", "agent_id", "category", "label", "steps", "exit_node",
                                "transfer_node", "complaint", "path"], per_call)],
        charts=[_category_chart(category_rows), _failure_chart(nodes.rows[: conf["chart_nodes"]]),
                _exit_chart(exits.rows[: conf["chart_exits"]])],
        notes=notes, xlsx=True,
    )


def _call_row(call: CallRecord, conf: dict[str, Any]) -> dict[str, Any]:
    """One classified call: category, exit and transfer nodes, complaint flag, the path as text."""
    path = call.path
    category = path_category(path)
    exit_at = exit_step(path)
    t = transfer_index(path)
    return {
        "call_id": call.call_id, "day": call.day, "agent_id": call.agent_id,
        "category": category, "label": CATEGORY_NAMES[category], "steps": len(path),
        "exit_node": node_label(node_key(exit_at)) if exit_at else None,
        "transfer_node": node_label(node_key(path[t])) if t is not None else None,
        "complaint": is_complaint(call, conf),
        "path": " > ".join(f"{s.get('name') or s.get('node')}({s.get('result')})" for s in path),
    }


def _node_table(calls: list[CallRecord]) -> Table:
    """Visits, distinct calls, fails (fail + timeout), repeats, transfers and failure rate per node."""
    stats: dict[NodeKey, Counter] = defaultdict(Counter)
    callsets: dict[NodeKey, set[str]] = defaultdict(set)
    for call in calls:
        for step in call.path:
            key = node_key(step)
            result = step.get("result")
            stats[key]["visits"] += 1
            stats[key]["fails"] += result in FAILED
            stats[key]["repeats"] += result == "repeat"
            stats[key]["transfers"] += result == "transfer"
            callsets[key].add(call.call_id)
    rows = [{"channel": key[0], "node": key[1], "name": key[2], "label": node_label(key),
             "visits": s["visits"], "calls": len(callsets[key]), "fails": s["fails"], "repeats": s["repeats"],
             "transfers": s["transfers"], "failure_rate": round(s["fails"] / s["visits"], 4)}
            for key, s in stats.items()]
    rows.sort(key=lambda r: (-r["visits"], r["channel"], r["node"], r["name"]))
    return Table("nodes", ["channel", "node", "name", "label", "visits", "calls", "fails", "repeats", "transfers",
                           "failure_rate"], rows)


def _exit_table(calls: list[CallRecord], conf: dict[str, Any]) -> Table:
    """Per exit node: transfers that followed it (by category) and complaints among those calls."""
    counts: dict[NodeKey, Counter] = defaultdict(Counter)
    for call in calls:
        step = exit_step(call.path)
        if step is None:
            continue
        key = node_key(step)
        counts[key]["transfers"] += 1
        counts[key][path_category(call.path)] += 1
        counts[key]["complaints"] += is_complaint(call, conf)
    total = sum(c["transfers"] for c in counts.values())
    rows = [{"channel": key[0], "node": key[1], "name": key[2], "label": node_label(key),
             "transfers": c["transfers"], "share": round(c["transfers"] / total, 4),
             "after_failure": c["after_failure"], "after_loop": c["after_loop"], "other": c["other"],
             "complaints": c["complaints"], "complaint_rate": round(c["complaints"] / c["transfers"], 4)}
            for key, c in counts.items()]
    rows.sort(key=lambda r: (-r["transfers"], -r["complaints"], r["channel"], r["node"], r["name"]))
    return Table("exit_nodes", ["channel", "node", "name", "label", "transfers", "share", "after_failure",
                                "after_loop", "other", "complaints", "complaint_rate"], rows)


def _category_chart(rows: list[dict[str, Any]]) -> Chart:
    """Pie of the four categories."""
    option = {
        "tooltip": {"trigger": "item", "formatter": "{b}: {c} ({d}%)"},
        "legend": {"top": 0},
        "series": [{"type": "pie", "radius": ["35%", "65%"], "top": 30,
                    "label": {"formatter": "{b}\n{c} ({d}%)"},
                    "data": [{"name": r["label"], "value": r["calls"]} for r in rows]}],
    }
    return Chart("转人工原因分类", option, height=380)


def _failure_chart(rows: list[dict[str, Any]]) -> Chart:
    """Horizontal bars: failure rate (%) of the most visited nodes, most visited on top."""
    option = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 10, "right": 40, "top": 30, "bottom": 10, "containLabel": True},
        "xAxis": {"type": "value", "name": "失败率 %", "max": 100},
        "yAxis": {"type": "category", "inverse": True, "data": [r["label"] for r in rows]},
        "series": [{"type": "bar", "name": "失败率 %", "label": {"show": True, "position": "right"},
                    "data": [round(100 * r["failure_rate"], 1) for r in rows]}],
    }
    return Chart("节点失败率（访问最多的节点）", option, height=max(300, 60 + 30 * len(rows)))


def _exit_chart(rows: list[dict[str, Any]]) -> Chart:
    """Horizontal bars: transfers and complaints after each exit node."""
    option = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": {"left": 10, "right": 40, "top": 40, "bottom": 10, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "inverse": True, "data": [r["label"] for r in rows]},
        "series": [{"type": "bar", "name": "转人工", "data": [r["transfers"] for r in rows]},
                   {"type": "bar", "name": "投诉", "data": [r["complaints"] for r in rows]}],
    }
    return Chart("转人工前的最后自助节点", option, height=max(300, 60 + 36 * len(rows)))
