"""Letters not yet sent: the ones kept to print and post, with a button to mark each
posted, and the draft restrictions that wait for their decision letter. The page the
reminder digest links to; posting goes through the API's own route (its rules, its
audit entry)."""

from __future__ import annotations

from aiohttp import web

from gateway.store.casework.letters import letters_waiting
from gateway.ui.apicall import UiProblem, call
from gateway.ui.core import PREFIX, USER, api, page, redirect, render
from rules.roles import Permission


@page()
async def waiting(request: web.Request) -> web.StreamResponse:
    return await _waiting(request)


async def _waiting(
    request: web.Request, problem: UiProblem | None = None, status: int = 200
) -> web.Response:
    async with api(request).admin.reading("letters not yet sent") as conn:
        found = await letters_waiting(conn)
    return render(
        request,
        "letters.html",
        status=status,
        to_post=found["to_post"],
        awaiting=found["awaiting_letter"],
        problem=problem,
    )


@page(Permission.PROPOSE)
async def posted(request: web.Request) -> web.StreamResponse:
    """Mark a letter printed and posted, then back to the list."""
    try:
        await call(
            request,
            request[USER],
            "POST",
            "/letters/{letter_id}/posted",
            params={"letter_id": request.match_info["letter_id"]},
            body={},
        )
    except UiProblem as problem:
        return await _waiting(request, problem, problem.status if problem.status != 422 else 400)
    return redirect(f"{PREFIX}/letters")
