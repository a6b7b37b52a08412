"""Signing in through the login page, in a real browser; the language switch."""

from __future__ import annotations

from tests.web.conftest import shot, signed_in


def test_login_then_switch_language(page, web_server):
    page.goto(f"{web_server.url}/")
    assert page.url.endswith("/login")  # pages need a signed-in user
    page.fill("input[name=token]", "wrong")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text() == "令牌无效"
    signed_in(page, web_server)
    assert "欢迎" in page.locator("h1").inner_text()
    shot(page, "home-zh")
    page.click("#lang-switch")
    assert "Welcome" in page.locator("h1").inner_text()
    assert page.locator("header nav a").first.inner_text() == "Upload"
