"""Dashboard users: the account's people who sign in with an email and a password; add one,
set a new password, remove one.

A removed user's sessions end at once, and a new password ends the user's older sessions (see
:func:`.context.signed_in`). Must not show, log or keep a password.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from postillon.dashboard.context import (
    Context,
    DashboardContext,
    Session,
    SignedIn,
    check_csrf,
    not_found,
    render,
)
from postillon.services.errors import NotFoundError
from postillon.services.users import InvalidUserError, UserExistsError

router = APIRouter()


@router.get("/users", response_class=HTMLResponse, name="users")
async def list_users(request: Request, context: Context, session: SignedIn) -> HTMLResponse:
    """The account's dashboard users by email."""
    return await _page(context, request, session)


@router.post("/users", response_class=HTMLResponse, name="add_user")
async def add_user(
    request: Request,
    context: Context,
    session: SignedIn,
    *,
    csrf: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """A new user of the account; a bad email, short password or taken email is shown."""
    check_csrf(context, session, csrf)
    try:
        await context.services.users.add(session.account, email, password)
    except (InvalidUserError, UserExistsError) as error:
        return await _page(context, request, session, 422, error=str(error), email=email)
    return RedirectResponse(str(request.url_for("users")), status_code=303)


@router.post("/users/password", response_class=HTMLResponse, name="set_user_password")
async def set_password(
    request: Request,
    context: Context,
    session: SignedIn,
    *,
    csrf: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """A new password for one of the account's users (their older sessions end)."""
    check_csrf(context, session, csrf)
    try:
        await context.services.users.set_password(session.account.id, email, password)
    except InvalidUserError as error:
        return await _page(context, request, session, 422, error=f"{email}: {error}")
    except NotFoundError:
        return not_found(context, request, session)
    return RedirectResponse(str(request.url_for("users")), status_code=303)


@router.post("/users/remove", name="remove_user")
async def remove_user(
    request: Request,
    context: Context,
    session: SignedIn,
    csrf: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
) -> Response:
    """Remove one of the account's users (removing yourself signs you out)."""
    check_csrf(context, session, csrf)
    try:
        await context.services.users.remove(session.account.id, email)
    except NotFoundError:
        return not_found(context, request, session)
    return RedirectResponse(str(request.url_for("users")), status_code=303)


async def _page(
    context: DashboardContext,
    request: Request,
    session: Session,
    status_code: int = 200,
    *,
    error: str | None = None,
    email: str = "",
) -> HTMLResponse:
    users = await context.services.users.list(session.account.id)
    return render(
        context, request, "users.html", session, status_code, users=users, error=error,
        email=email,
    )  # fmt: skip
