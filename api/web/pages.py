"""Page plumbing: templates, the signed-in user from the session cookie, language, login and logout.

Pages render on the server from the storage functions the API uses (``api/storage``), so a page is
one request with no client-side data fetching except where live updates need it (htmx).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from api.auth import Principal, principal_for
from api.web.i18n import LANGUAGES, translator

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
COOKIE = "callscope_token"
LANG_COOKIE = "callscope_lang"

router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """Raised by page dependencies when nobody is signed in; answered with a redirect to /login."""


def page_user(request: Request) -> Principal:
    """The signed-in user of a page request (session cookie holding an API token)."""
    who = principal_for(request.app, request.cookies.get(COOKIE))
    if who is None:
        raise LoginRequired
    return who


PageUser = Annotated[Principal, Depends(page_user)]


def language(request: Request) -> str:
    """zh unless the user chose English (``?lang=en`` sets the cookie)."""
    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return lang if lang in LANGUAGES else "zh"


def render(request: Request, template: str, who: Principal | None = None, **context: Any) -> HTMLResponse:
    """A page: the template with the user, language, translator and current path."""
    lang = language(request)
    response = TEMPLATES.TemplateResponse(request, template, {
        "who": who, "lang": lang, "t": translator(lang), "path": request.url.path, **context})
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, error: str | None = None) -> HTMLResponse:
    return render(request, "login.html", error=error)


@router.post("/login")
def login(request: Request, token: Annotated[str, Form()]) -> RedirectResponse:
    """Check the token and keep it in an HttpOnly, same-site cookie."""
    if principal_for(request.app, token.strip()) is None:
        return RedirectResponse("/login?error=1", status_code=303)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict", max_age=12 * 3600)
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, who: PageUser) -> HTMLResponse:
    return render(request, "home.html", who)
