"""Agent assist over the real server's WebSocket: text and audio sessions end to end, customer flags
from history, who may connect, and bad messages answered without ending the session."""

from __future__ import annotations

import json
import sqlite3
import time
import unicodedata
from pathlib import Path

import numpy as np
import pytest
import yaml
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.service.conftest import ADMIN, ROOT

# a data-overage call: identity check at turn 2, the customer names 联通 and asks for a cheaper pack at turn 5
SCRIPT = [
    ("agent", "您好，中国移动，很高兴为您服务，请问有什么可以帮您？"),
    ("customer", "你好，我这个月流量又超了，多扣了三十多块钱，这也太不划算了吧。"),
    ("agent", "给您添麻烦了，我先帮您核实一下身份，麻烦报一下机主姓名和身份证后四位。"),
    ("customer", "王磊，后四位是零八二五。"),
    ("agent", "王先生您好，核实通过了。您是五十八元的套餐，含二十个G，这个月用了二十八个G，超出部分收了三十二块。"),
    ("customer", "我同事用的联通，五十九块钱就有六十个G，比你们便宜多了，我都想转过去了。你们有没有更划算的流量包？"),
    ("agent", "理解您。其实不用换号，加一个流量包就行，每月二十块钱三十个G，完全够用。"),
    ("customer", "那行，先给我办一个试试。"),
    ("agent", "好的，跟您说明一下，流量包下月生效，每月二十元，自动续订，可以随时退订。您确认办理吗？"),
    ("customer", "确认。"),
    ("agent", "已经帮您办好了，稍后会有短信通知。感谢您的来电，再见。"),
]


def url(server, token: str | None = None) -> str:
    return f"ws://127.0.0.1:{server.port}/api/assist" + (f"?token={token}" if token else "")


def recv(ws, timeout: float = 180.0) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def until(ws, kind: str, seen: list | None = None, timeout: float = 180.0) -> dict:
    """Read messages until one of ``kind`` (others are appended to ``seen``)."""
    while True:
        message = recv(ws, timeout)
        if message["type"] == kind:
            return message
        assert message["type"] != "error", message
        if seen is not None:
            seen.append(message)


def start(ws, **fields) -> dict:
    ws.send(json.dumps({"type": "start", "direction": "inbound", "industry": "telecom", "mode": "text", **fields}))
    ready = recv(ws, 300)
    assert ready["type"] == "ready", ready
    return ready["session"]


def say(ws, role: str, text: str) -> tuple[dict, dict]:
    ws.send(json.dumps({"type": "utterance", "role": role, "text": text}))
    final = until(ws, "final")
    suggestions = until(ws, "suggestions")
    assert suggestions["turn"] == final["turn"]
    return final, suggestions


def end(ws) -> dict:
    ws.send(json.dumps({"type": "end"}))
    ended = until(ws, "ended")
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=30)
    assert closed.value.rcvd.code == 1000
    return ended


def db(server) -> sqlite3.Connection:
    return sqlite3.connect(server.data_dir / "callscope.db")


def stored_call(server, call_id: str) -> dict | None:
    with db(server) as conn:
        row = conn.execute("SELECT agent_id, customer_id, analysis, audio_path FROM calls WHERE call_id = ?",
                           (call_id,)).fetchone()
    if row is None:
        return None
    return {"agent_id": row[0], "customer_id": row[1], "analysis": json.loads(row[2]), "audio_path": row[3]}


def rules_of(items: list[dict]) -> set[str]:
    return {i["rule"] for i in items}


def test_text_session_end_to_end(server):
    token = server.token("agent-a107", "agent", agent_id="A107")
    with connect(url(server), additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        session = start(ws, call_id="assist-text-1", customer_id="C-ASSIST-1", queue="telecom-general")
        assert session["agent_id"] == "A107" and session["call_id"] == "assist-text-1"
        assert session["rulebook"] == "telecom_inbound" and session["flags"] == []
        said = [say(ws, role, text) for role, text in SCRIPT]
        ended = end(ws)
    assert ended == {"type": "ended", "call_id": "assist-text-1", "turns": len(SCRIPT), "stored": True,
                     "qa_score": ended["qa_score"]}

    finals = [f for f, _ in said]
    assert [f["turn"] for f in finals] == list(range(len(SCRIPT)))
    assert [f["text"] for f in finals] == [text for _, text in SCRIPT]
    first, customer_says, verified, _, _, competitor = (s for _, s in said[:6])

    # the talk track: after the greeting comes the identity check; once done, the track moves on
    assert first["next_script_point"]["code"] == "identity_check"
    assert "greeting" in first["next_script_point"]["done"]
    assert verified["next_script_point"]["code"] != "identity_check"
    assert "identity_check" in verified["next_script_point"]["done"]
    # the reason from the customer's words
    assert customer_says["reason"]["code"] in {"data_overage", "bill_dispute"}
    assert customer_says["reason"]["name"]
    # compliance still missing shrinks once the agent verifies identity
    before = customer_says["missing_compliance"]
    assert any(i["rule"] == "identity_not_checked" and i["status"] == "pending" for i in before)
    assert "identity_not_checked" not in rules_of(verified["missing_compliance"])
    assert len(verified["missing_compliance"]) < len(before)
    # the customer names 联通 about price: a card with the counter-points of the customer-edited file
    card = competitor["competitor_card"]
    assert card["brand"] == "中国联通" and card["dimension"] == "price" and card["turn"] == 5
    points = yaml.safe_load((ROOT / "callscope" / "data" / "counterpoints.yaml").read_text(encoding="utf-8"))
    assert points["brands"]["中国联通"]["price"][0] in card["counter_points"]
    assert points["industries"]["telecom"]["price"][0] in card["counter_points"]
    assert customer_says["competitor_card"] is None

    call = stored_call(server, "assist-text-1")
    assert call is not None and call["agent_id"] == "A107" and call["customer_id"] == "C-ASSIST-1"
    analysis = call["analysis"]
    assert [t["text"] for t in analysis["turns"]] == [unicodedata.normalize("NFKC", text) for _, text in SCRIPT]
    assert any(c["brand"] == "中国联通" for c in analysis["competitors"])
    assert analysis["reasons"] and analysis["qa"]["rulebook"] == "telecom_inbound"
    assert analysis["assist"]["mode"] == "text" and analysis["assist"]["ended"] == "end"
    with db(server) as conn:
        tags = set(conn.execute("SELECT kind, value FROM call_tags WHERE call_id = 'assist-text-1'").fetchall())
    assert ("competitor", "中国联通") in tags


def test_end_stores_the_call_and_flags_the_customer_next_time(server):
    customer = "C-ASSIST-2"
    with connect(url(server, ADMIN)) as ws:
        session = start(ws, customer_id=customer, agent_id="A200")
        assert session["agent_id"] == "A200"  # a qa/admin session names the agent it assists
        for role, text in SCRIPT[:5]:
            say(ws, role, text)
        ended = end(ws)
    assert ended["turns"] == 5 and ended["stored"] is True
    first = stored_call(server, ended["call_id"])
    assert first["analysis"]["assist"]["ended"] == "end" and first["agent_id"] == "A200"
    assert first["analysis"]["reasons"][0]["code"] in {"data_overage", "bill_dispute"}
    with server.client() as c:
        audit = c.get("/api/audit").json()
    assert any(e["action"] == "assist.call" and e["target"] == f"call:{ended['call_id']}" for e in audit)

    # the same customer again: a repeat caller, sensitive to fees; the CRM adds past complaints
    with connect(url(server, ADMIN)) as ws:
        session = start(ws, customer_id=customer, history={"complaints_90d": 2})
        flags = {f["code"]: f for f in session["flags"]}
        assert session["earlier_calls"] == 1
        assert set(flags) == {"repeat_caller", "fee_sensitive", "complaint_sensitive"}
        assert ended["call_id"] in flags["repeat_caller"]["detail"]
        _, suggestions = say(ws, "agent", SCRIPT[0][1])
        assert {"repeat_caller", "fee_sensitive"} <= {f["code"] for f in suggestions["flags"]}
    # a call id that exists already is refused, the session is not started
    with connect(url(server, ADMIN)) as ws:
        ws.send(json.dumps({"type": "start", "direction": "inbound", "industry": "telecom",
                            "call_id": ended["call_id"]}))
        error = recv(ws)
        assert error["type"] == "error" and "already exists" in error["message"]


def test_audio_session_streams_two_channels(server):
    from speech.audio import load_audio

    audio = load_audio(ROOT / "tests" / "data" / "short-stereo.wav")
    tail = np.zeros(16000, dtype=np.float32)  # one second of line silence after the last word
    pcm = [(np.clip(np.concatenate([c, tail]), -1, 1 - 1 / 32768) * 32768).astype("<i2") for c in audio.channels]
    messages: list[dict] = []
    with connect(url(server, ADMIN), max_size=None) as ws:
        session = start(ws, mode="audio", customer_id="C-ASSIST-3", sample_rate=16000)
        assert session["mode"] == "audio"
        step = 1600  # 100 ms frames, as fast as they go
        for i in range(0, len(pcm[0]), step):
            for channel in (0, 1):
                ws.send(bytes([channel]) + pcm[channel][i:i + step].tobytes())
        ws.send(json.dumps({"type": "end"}))
        ended = until(ws, "ended", messages, timeout=300)
    finals = [m for m in messages if m["type"] == "final"]
    suggestions = [m for m in messages if m["type"] == "suggestions"]
    assert len(finals) >= 3 and {f["role"] for f in finals} == {"agent", "customer"}
    assert [s["turn"] for s in suggestions] == [f["turn"] for f in finals]
    customer = "".join(f["text"] for f in finals if f["role"] == "customer")
    agent = "".join(f["text"] for f in finals if f["role"] == "agent")
    assert "流量包" in customer and "流量包" in agent and "中国移动" in agent
    assert all(f["end"] > f["start"] for f in finals)
    first_partial = next(i for i, m in enumerate(messages) if m["type"] == "partial")
    assert first_partial < messages.index(finals[0]) and messages[first_partial]["text"] == ""
    assert ended["stored"] and ended["turns"] == len(finals)

    call = stored_call(server, session["call_id"])
    analysis = call["analysis"]
    assert abs(analysis["duration_s"] - (audio.duration + 1.0)) < 0.2
    assert analysis["acoustics"]["talk_s"]["agent"] > 3 and analysis["acoustics"]["talk_s"]["customer"] > 1
    assert Path(call["audio_path"]).is_file()
    assert analysis["assist"]["mode"] == "audio"


def test_tokens_and_roles(server):
    for token in (None, "not-a-token"):
        with connect(url(server, token)) as ws:
            assert recv(ws)["type"] == "error"
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=30)
            assert closed.value.rcvd.code == 4401
    sales = server.token("sales-assist", "sales")
    with connect(url(server, sales)) as ws:
        assert "may not use agent assist" in recv(ws)["message"]
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
        assert closed.value.rcvd.code == 4403


def test_bad_messages_are_answered_and_the_session_goes_on(server):
    token = server.token("agent-a108", "agent", agent_id="A108")
    with connect(url(server, token)) as ws:
        def error_for(payload) -> str:
            ws.send(payload)
            message = recv(ws)
            assert message["type"] == "error", message
            return message["message"]

        assert "not valid JSON" in error_for("{nope")
        assert "JSON object" in error_for("[1, 2]")
        assert "unknown message type 'hello'" in error_for(json.dumps({"type": "hello"}))
        assert "before start" in error_for(json.dumps({"type": "utterance", "role": "agent", "text": "您好"}))
        assert "before start" in error_for(bytes([0, 0, 0]))
        assert "16000" in error_for(json.dumps({"type": "start", "direction": "inbound", "industry": "telecom",
                                                "sample_rate": 8000}))
        assert "direction" in error_for(json.dumps({"type": "start", "direction": "sideways", "industry": "telecom"}))
        assert "colour" in error_for(json.dumps({"type": "start", "direction": "inbound", "industry": "telecom",
                                                 "colour": "red"}))
        assert "not yours" in error_for(json.dumps({"type": "start", "direction": "inbound", "industry": "telecom",
                                                    "agent_id": "A999"}))
        session = start(ws, mode="audio")
        assert session["agent_id"] == "A108"
        assert "already started" in error_for(json.dumps({"type": "start", "direction": "inbound",
                                                          "industry": "telecom"}))
        assert "role" in error_for(json.dumps({"type": "utterance", "role": "boss", "text": "你好"}))
        assert "blank" in error_for(json.dumps({"type": "utterance", "role": "agent", "text": "   "}))
        assert "is before start" in error_for(json.dumps({"type": "utterance", "role": "agent", "text": "好",
                                                          "start": 5, "end": 2}))
        assert "channel byte 7" in error_for(bytes([7, 0, 0]))
        assert "16-bit PCM" in error_for(bytes([0, 0, 0, 0]))
        final, suggestions = say(ws, "agent", SCRIPT[0][1])
        assert final["turn"] == 0 and suggestions["next_script_point"]["code"] == "identity_check"
        call_id = session["call_id"]
    # the desktop went away without "end": the call is stored all the same
    deadline = time.monotonic() + 60
    while (call := stored_call(server, call_id)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert call is not None and call["agent_id"] == "A108"
    assert call["analysis"]["assist"]["ended"] == "disconnected"


def test_counterpoints_edited_in_the_data_folder(server):
    edited = server.data_dir / "counterpoints.yaml"
    try:
        edited.write_text("version: 1\nbrands:\n  中国联通:\n    price: [先核对对方套餐是否含通话和宽带]\n", encoding="utf-8")
        with connect(url(server, ADMIN)) as ws:
            start(ws)
            say(ws, "agent", SCRIPT[0][1])
            _, suggestions = say(ws, "customer", SCRIPT[5][1])
            card = suggestions["competitor_card"]
            assert card["brand"] == "中国联通" and card["counter_points"] == ["先核对对方套餐是否含通话和宽带"]
        edited.write_text("version: 1\nbrands:\n  不存在银行:\n    price: [x]\n", encoding="utf-8")
        with connect(url(server, ADMIN)) as ws:
            ws.send(json.dumps({"type": "start", "direction": "inbound", "industry": "telecom", "mode": "text"}))
            error = recv(ws)
            assert error["type"] == "error" and "counterpoints.yaml" in error["message"]
            assert "不存在银行" in error["message"]
    finally:
        edited.unlink(missing_ok=True)
