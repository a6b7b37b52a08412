"""The service starts, answers health, and knows who is calling."""

from __future__ import annotations


def test_health_and_tokens(server):
    with server.client(None) as anonymous:
        assert anonymous.get("/api/health").json() == {"status": "ok"}
        assert anonymous.get("/api/me").status_code == 401
    with server.client() as admin:
        assert admin.get("/api/me").json()["role"] == "admin"
    qa = server.token("qa-basic", "qa")
    with server.client(qa) as c:
        assert c.get("/api/me").json() == {"name": "qa-basic", "role": "qa", "agent_id": None, "senior": False,
                                           "see_pii": False}
        assert c.post("/api/tokens", json={"name": "x", "role": "admin"}).status_code == 403
    with server.client() as admin:
        entries = admin.get("/api/audit").json()
        assert any(e["action"] == "token.create" and e["target"] == "token:qa-basic" for e in entries)
        assert admin.post("/api/tokens", json={"name": "a1", "role": "agent"}).status_code == 422  # needs agent_id
        assert admin.post("/api/tokens", json={"name": "qa-basic", "role": "qa"}).status_code == 409
