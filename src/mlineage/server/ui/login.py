"""The login page: keeps an API token in the `mlineage_token` cookie the server's auth reads."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from .templating import render

__all__ = ["LOGIN_PATH", "TOKEN_COOKIE", "router", "safe_next"]

router = APIRouter()
TOKEN_COOKIE = "mlineage_token"
LOGIN_PATH = "/login"
_MAX_AGE = 7 * 24 * 3600


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    error = ""
    if request.cookies.get(TOKEN_COOKIE):
        error = "The server refused the stored token (revoked, expired or of another project)."
    return render(request, "login.html", {"next": safe_next(next), "error": error})


@router.post("/login")
async def login(request: Request) -> Response:
    """Store the pasted token in the cookie (or forget it, with `forget`)."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    target = safe_next((form.get("next") or ["/"])[0])
    if form.get("forget"):
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        response.delete_cookie(TOKEN_COOKIE)
        return response
    token = (form.get("token") or [""])[0].strip()
    if not token:
        return render(request, "login.html", {"next": target, "error": "Paste an API token."}, 400)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        max_age=_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response
