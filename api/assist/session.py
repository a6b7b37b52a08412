"""One agent-assist session: the message protocol of ``WS /api/assist`` (docs/agent-assist.md).

The receive loop takes JSON messages (start, utterance, end) and binary audio frames; audio goes
through a per-channel ``Endpointer``, finished utterances to the process's ``DecodeQueue``. Turns
are handled in the order their utterances ended by one worker task, so ``final`` and
``suggestions`` come out in turn order whatever the decoding times. A bad message is answered with
an ``error`` and the session goes on. On ``end`` (or when the desktop disconnects) the call is
analysed and stored like an uploaded one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from api.assist.advisor import Advisor
from api.assist.audio import Endpointer, EndpointOptions, Event, pcm16_to_float
from api.assist.decoder import FINAL, PARTIAL, Decoded
from api.auth import Principal
from api.schemas.assist import (
    CHANNELS,
    CLIENT_MESSAGES,
    DroppedOut,
    EndedOut,
    ErrorOut,
    FinalOut,
    PartialOut,
    ReadyOut,
    SessionOut,
    StartIn,
    SuggestionsOut,
    UtteranceIn,
    out,
)
from callscope.types import Conversation, Turn
from speech.audio import SAMPLE_RATE

log = logging.getLogger("callscope.assist")
PARTIAL_EVERY_S = 1.0


@dataclass(slots=True)
class Pending:
    """A turn on its way: text already known (text mode) or a decode to wait for (audio)."""

    role: str
    start: float | None
    end: float | None
    utterance: int | None = None
    text: str | None = None
    decode: asyncio.Future | None = None
    channel: int | None = None


class AssistSession:
    """The state of one WebSocket session and its handlers."""

    def __init__(self, websocket: WebSocket, who: Principal):
        self.ws = websocket
        self.who = who
        self.config = websocket.app.state.config
        self.db = websocket.app.state.db
        self.id = secrets.token_hex(6)
        self.start_msg: StartIn | None = None
        self.call_id = ""
        self.agent_id: str | None = None
        self.started_at: datetime | None = None
        self.advisor: Advisor | None = None
        self.analyzer: Any = None
        self.queue: Any = None
        self.endpointers: dict[int, Endpointer] = {}
        self.pending: asyncio.Queue[Pending | None] = asyncio.Queue()
        self.worker: asyncio.Task | None = None
        self.send_lock = asyncio.Lock()
        self.ids: dict[tuple[int, int], int] = {}
        self.live: set[int] = set()
        self.starts: dict[int, float] = {}
        self.ahead: dict[int, tuple[float | None, asyncio.Future]] = {}
        self.tasks: set[asyncio.Task] = set()
        self.crm: dict[str, Any] | None = None
        self.partial_from: dict[int, int] = {}
        self.partial_busy: set[int] = set()
        self.regions: list[tuple[int, float, float]] = []
        self.next_utterance = 0
        self.finished = False
        self.gone = False

    # --- the loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the session until ``end`` or the desktop goes away."""
        try:
            while not self.finished:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    self.gone = True
                    break
                if message.get("bytes") is not None:
                    await self.on_audio(message["bytes"])
                elif message.get("text") is not None:
                    await self.on_text(message["text"])
        except WebSocketDisconnect:
            self.gone = True
        finally:
            if self.start_msg is not None and not self.finished:
                try:
                    await self.finish("disconnected")
                except Exception:  # nobody is left to tell; keep the log
                    log.exception("assist session %s: could not store call %s", self.id, self.call_id)

    async def send(self, message: BaseModel | dict[str, Any]) -> None:
        """Send one server message (dropped silently once the desktop has gone)."""
        if self.gone:
            return
        data = out(message) if isinstance(message, BaseModel) else message
        async with self.send_lock:
            try:
                await self.ws.send_json(data)
            except (WebSocketDisconnect, RuntimeError, OSError):
                self.gone = True

    async def error(self, message: str) -> None:
        await self.send(ErrorOut(message=message))

    # --- JSON messages ---------------------------------------------------------------------------

    async def on_text(self, raw: str) -> None:
        """Dispatch one JSON message; anything wrong is answered with an error naming it."""
        try:
            data = json.loads(raw)
        except ValueError as exc:
            await self.error(f"not valid JSON ({exc})")
            return
        if not isinstance(data, dict):
            await self.error("a message must be a JSON object with a \"type\"")
            return
        kind = data.get("type")
        model = CLIENT_MESSAGES.get(kind) if isinstance(kind, str) else None
        if model is None:
            await self.error(f"unknown message type {kind!r}; expected one of {', '.join(CLIENT_MESSAGES)} "
                             f"(audio goes in binary frames)")
            return
        try:
            message = model.model_validate(data)
        except ValidationError as exc:
            await self.error(f"{kind}: " + "; ".join(_problem(e) for e in exc.errors()))
            return
        if isinstance(message, StartIn):
            await self.start(message)
        elif self.start_msg is None:
            await self.error(f"{kind} before start: send a start message first")
        elif isinstance(message, UtteranceIn):
            await self.pending.put(Pending(message.role, message.start, message.end, text=message.text.strip()))
        else:
            try:
                await self.finish("end")
            except Exception as exc:  # the desktop is told; the log has the trace
                log.exception("assist session %s: could not store call %s", self.id, self.call_id)
                await self.error(f"the call could not be stored: {type(exc).__name__}: {exc}")
                await self.ws.close(code=1011)

    async def start(self, message: StartIn) -> None:
        """Open the session: agent id, call id, analyzer, customer flags; reply ``ready``."""
        from api.assist.history import customer_flags, earlier_calls
        from api.assist.resources import analyzer_for, decode_queue
        from api.assist.settings import AssistSettingsError, load_assist_settings, load_counterpoints

        if self.start_msg is not None:
            await self.error("the session has already started; open a new connection for another call")
            return
        agent_id = message.agent_id
        if self.who.role == "agent":
            if agent_id is not None and agent_id != self.who.agent_id:
                await self.error(f"start: agent_id {agent_id!r} is not yours: an agent's session carries the "
                                 f"token's agent id {self.who.agent_id!r}")
                return
            agent_id = self.who.agent_id
        call_id = message.call_id or f"assist-{datetime.now():%Y%m%d-%H%M%S}-{self.id}"
        if await asyncio.to_thread(self._call_exists, call_id):
            await self.error(f"start: call {call_id!r} already exists; use a new call_id")
            return
        try:
            analyzer = await asyncio.to_thread(analyzer_for, self.config)
            settings = load_assist_settings(_own_file(self.config, "assist.yaml"), taxonomy=analyzer.scorer.taxonomy)
            counterpoints = load_counterpoints(_own_file(self.config, "counterpoints.yaml"))
            queue = decode_queue(self.config) if message.mode == "audio" else None
        except AssistSettingsError as exc:
            await self.error(f"agent assist is misconfigured: {exc}")
            return
        except Exception as exc:  # e.g. the speech model is not installed
            log.exception("assist session %s: start failed", self.id)
            await self.error(f"cannot start the session: {type(exc).__name__}: {exc}"
                             + ("; text mode still works" if message.mode == "audio" else ""))
            return
        started = (message.started_at or datetime.now().astimezone())
        crm = message.history.model_dump(exclude_none=True) if message.history else None
        flags: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        if message.customer_id:
            calls = await asyncio.to_thread(self._earlier, message.customer_id,
                                            settings.customer_flags.lookback_calls, earlier_calls)
        flags = customer_flags(calls, settings.customer_flags, started, crm)
        meta = {"direction": message.direction, "industry": message.industry}
        meta.update({k: v for k, v in (("queue", message.queue), ("customer_id", message.customer_id),
                                       ("agent_id", agent_id)) if v})
        self.analyzer = analyzer
        self.advisor = Advisor(analyzer, settings, counterpoints, meta, call_id=call_id, customer_flags=flags)
        self.start_msg, self.call_id, self.agent_id, self.started_at = message, call_id, agent_id, started
        self.crm = crm
        if queue is not None:
            self.queue = queue
            options = EndpointOptions(endpoint_ms=message.endpoint_ms)
            self.endpointers = {ch: Endpointer(options) for ch in CHANNELS}
            queue.submit(None, FINAL)  # load the model now, not at the first utterance
        self.worker = asyncio.create_task(self._turns())
        await self.send(ReadyOut(session=SessionOut(
            id=self.id, call_id=call_id, agent_id=agent_id, customer_id=message.customer_id,
            direction=message.direction, industry=message.industry, queue=message.queue, mode=message.mode,
            rulebook=self.advisor.book.name if self.advisor.book else None, flags=flags, earlier_calls=len(calls))))

    def _call_exists(self, call_id: str) -> bool:
        from api.storage.models import Call

        with self.db.session() as session:
            return session.get(Call, call_id) is not None

    def _earlier(self, customer_id: str, limit: int, reader) -> list[dict[str, Any]]:
        with self.db.session() as session:
            return reader(session, customer_id, limit)

    # --- audio -----------------------------------------------------------------------------------

    async def on_audio(self, payload: bytes) -> None:
        """One binary frame: a channel byte (0 agent, 1 customer), then 16-bit little-endian PCM."""
        if self.start_msg is None:
            await self.error("audio before start: send a start message first")
            return
        if self.queue is None:
            await self.error("this session is in text mode: send utterance messages, not audio")
            return
        if len(payload) < 3 or (len(payload) - 1) % 2:
            await self.error(f"a binary frame is one channel byte (0 agent, 1 customer) followed by 16-bit PCM "
                             f"samples; got {len(payload)} bytes")
            return
        channel = payload[0]
        if channel not in CHANNELS:
            await self.error(f"unknown channel byte {channel}; use 0 for the agent, 1 for the customer")
            return
        endpointer = self.endpointers[channel]
        for event in endpointer.feed(pcm16_to_float(payload[1:])):
            await self.on_event(channel, event)
        self._maybe_partial(channel)

    async def on_event(self, channel: int, event: Event) -> None:
        """React to what the endpointer saw: speech started, utterance ended, burst dropped."""
        role = CHANNELS[channel]
        if event.kind == "started":
            uid = self.ids[(channel, event.utterance)] = self.next_utterance
            self.next_utterance += 1
            self.live.add(uid)
            self.starts[uid] = round(event.start, 3)
            self.partial_from[channel] = self.endpointers[channel].audio.length
            await self.send(PartialOut(utterance=uid, role=role, text="", start=round(event.start, 3)))
            return
        if event.kind == "paused":
            uid = self.ids.get((channel, event.utterance))
            if uid is not None:
                self._drop_ahead(uid)
                self.ahead[uid] = (event.end, self.queue.submit(event.samples, FINAL))
            return
        uid = self.ids.pop((channel, event.utterance), None)
        if uid is None:
            return
        self.live.discard(uid)
        self.starts.pop(uid, None)
        if event.kind == "dropped":
            self._drop_ahead(uid)
            await self.send(DroppedOut(utterance=uid, role=role, reason="too short to be speech"))
            return
        self.regions.append((channel, event.start, event.end or event.start))
        ahead = self.ahead.pop(uid, None)
        if ahead is not None and ahead[0] == event.end:
            future = ahead[1]  # decoded while waiting for the endpoint: nobody spoke since
        else:
            if ahead is not None:
                ahead[1].cancel()
            future = self.queue.submit(event.samples, FINAL)
        await self.pending.put(Pending(role, round(event.start, 3), round(event.end or event.start, 3), uid,
                                       decode=future, channel=channel))

    def _drop_ahead(self, uid: int) -> None:
        """Forget a decode made ahead for an utterance that went on (or was dropped)."""
        old = self.ahead.pop(uid, None)
        if old is not None:
            old[1].cancel()

    def _maybe_partial(self, channel: int) -> None:
        """Decode the utterance going on so far, every second or so, when no final is waiting."""
        if not self.start_msg.partials:
            return
        endpointer = self.endpointers[channel]
        uid = next((u for (ch, _), u in self.ids.items() if ch == channel), None)
        if (uid is None or not endpointer.speaking or endpointer.silent_ms > 100 or channel in self.partial_busy
                or self.queue.busy):
            return
        if endpointer.audio.length - self.partial_from.get(channel, 0) < PARTIAL_EVERY_S * SAMPLE_RATE:
            return
        self.partial_from[channel] = endpointer.audio.length
        self.partial_busy.add(channel)
        future = self.queue.submit(endpointer.current(), PARTIAL,
                                   wanted=lambda: uid in self.live and not self.queue.busy)
        task = asyncio.create_task(self._partial(channel, uid, future))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _partial(self, channel: int, uid: int, future: asyncio.Future) -> None:
        try:
            decoded: Decoded | None = await future
        except Exception:  # noqa: BLE001 - a failed partial is only a missed preview
            decoded = None
        finally:
            self.partial_busy.discard(channel)
        if decoded is not None and decoded.text and uid in self.live:
            await self.send(PartialOut(utterance=uid, role=CHANNELS[channel], text=decoded.text,
                                       start=self.starts.get(uid, 0.0)))

    # --- turns, in order -------------------------------------------------------------------------

    async def _turns(self) -> None:
        """Turn each pending utterance into ``final`` + ``suggestions``, in the order they ended."""
        while True:
            item = await self.pending.get()
            if item is None:
                return
            try:
                await self._turn(item)
            except Exception as exc:  # one bad turn never ends the session
                log.exception("assist session %s: turn failed", self.id)
                await self.error(f"could not process an utterance of the {item.role}: {type(exc).__name__}: {exc}")

    async def _turn(self, item: Pending) -> None:
        decode_s = None
        confidence = None
        text = item.text
        if item.decode is not None:
            decoded: Decoded = await item.decode
            if not decoded.text:
                await self.send(DroppedOut(utterance=item.utterance, role=item.role, reason="no words (noise)"))
                return
            text, confidence, decode_s = decoded.text, decoded.confidence, round(decoded.seconds, 3)
        turn = Turn(item.role, text, item.start, item.end, confidence)  # type: ignore[arg-type]
        await self.send(FinalOut(turn=len(self.advisor.turns), utterance=item.utterance, role=item.role, text=text,
                                 start=item.start, end=item.end, confidence=confidence, decode_s=decode_s))
        suggestions = await asyncio.to_thread(self.advisor.add, turn)
        await self.send(SuggestionsOut.model_validate(suggestions))

    # --- the end ---------------------------------------------------------------------------------

    async def finish(self, how: str) -> None:
        """Flush audio, wait for every turn, analyse and store the call; reply ``ended`` on ``end``."""
        self.finished = True
        for channel, endpointer in self.endpointers.items():
            for event in endpointer.flush():
                await self.on_event(channel, event)
        await self.pending.put(None)
        if self.worker is not None:
            await self.worker
        turns = list(self.advisor.turns)
        stored, score = False, None
        if turns:
            analysis, audio_path = await asyncio.to_thread(self._analyse, turns, how)
            await asyncio.to_thread(self._store, analysis, audio_path, how)
            stored, score = True, (analysis.get("qa") or {}).get("score")
        log.info("assist session %s: call %s %s with %d turns", self.id, self.call_id, how, len(turns))
        if how == "end":
            await self.send(EndedOut(call_id=self.call_id, turns=len(turns), qa_score=score, stored=stored))
            if not self.gone and self.ws.application_state == WebSocketState.CONNECTED:
                await self.ws.close(code=1000)

    def _analyse(self, turns: list[Turn], how: str) -> tuple[dict[str, Any], str | None]:
        """The stored analysis of the call: turns in time order, metadata, acoustics from the audio."""
        from speech.features import agitation, measure
        from speech.segments import Region

        if all(t.start is not None for t in turns):
            turns = sorted(turns, key=lambda t: t.start)  # type: ignore[arg-type, return-value]
        meta = dict(self.advisor.meta)
        meta["started_at"] = self.started_at.isoformat(timespec="seconds") if self.started_at else None
        if self.crm:
            meta["history"] = self.crm
        conversation = Conversation(self.call_id, turns, extra={k: v for k, v in meta.items() if v is not None})
        audio_path = None
        if self.endpointers:
            channels = [self.endpointers[ch].audio.all() for ch in sorted(CHANNELS)]
            length = max(len(c) for c in channels)
            conversation.duration_s = length / SAMPLE_RATE
            regions = [Region(ch, s, e) for ch, s, e in self.regions]
            conversation.acoustics = measure(regions, {0: "agent", 1: "customer"}, turns)
            padded = [np.pad(c, (0, length - len(c))) for c in channels]
            if all(t.start is not None and t.end is not None for t in turns):
                agitation(turns, padded, {"agent": 0, "customer": 1})
            audio_path = self._write_wav(padded)
        analysis = self.analyzer.analyze(conversation)
        analysis["assist"] = {"session": self.id, "mode": self.start_msg.mode, "ended": how, "by": self.who.name}
        return analysis, audio_path

    def _write_wav(self, channels: list[np.ndarray]) -> str | None:
        """The call's two channels as a stereo 16-bit wav in ``data_dir/assist`` (None if empty)."""
        if not len(channels[0]):
            return None
        folder = Path(self.config.data_dir) / "assist"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.call_id}.wav"
        pcm = (np.clip(np.stack(channels, axis=1), -1.0, 1.0 - 1 / 32768) * 32768).astype("<i2")
        with wave.open(str(path), "wb") as out_file:
            out_file.setnchannels(2)
            out_file.setsampwidth(2)
            out_file.setframerate(SAMPLE_RATE)
            out_file.writeframes(pcm.tobytes())
        return str(path.resolve())

    def _store(self, analysis: dict[str, Any], audio_path: str | None, how: str) -> None:
        from api.storage.audit import record
        from api.storage.calls import save_analysis

        with self.db.session() as session:
            save_analysis(session, analysis, audio_path=audio_path)
            record(session, self.who.name, "assist.call", f"call:{self.call_id}", assist_session=self.id,
                   turns=len(analysis.get("turns") or []), mode=self.start_msg.mode, ended=how)


def _own_file(config, name: str) -> Path | None:
    """The contact centre's copy of a settings file in the data folder, if it has one."""
    path = Path(config.data_dir) / name
    return path if path.is_file() else None


def _problem(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()))
    message = str(error.get("msg", "invalid"))
    return f"{where}: {message}" if where else message
