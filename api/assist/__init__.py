"""Agent assist (坐席辅助): live help for an agent during a call, over a WebSocket.

The desktop streams each party's audio (or finished utterance texts); ``audio`` cuts it into
utterances, ``decoder`` transcribes them with the service's Whisper model, ``advisor`` turns the
call so far into suggestions (reason, next script point, compliance still missing, competitor
card, flags) and ``session`` runs the message protocol (docs/agent-assist.md). When the call
ends it is analysed and stored like any uploaded call.
"""
