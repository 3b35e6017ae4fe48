"""Deleting analyses from the pages: a confirmation page that says what will happen (to a
forum share too), the trash, and restoring from it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fakelens.forum.shares import shared_topic
from fakelens.web.deps import AppSettings, DbSession, PageAnalysis, PageUser, TrashedAnalysis
from fakelens.web.routes.auth import Csrf
from fakelens.web.templating import flash, render

router = APIRouter(include_in_schema=False)


@router.get("/analyses/{analysis_id}/delete", response_class=HTMLResponse,
            name="delete_confirm")
def delete_confirm(request: Request, row: PageAnalysis, user: PageUser, db: DbSession,
                   settings: AppSettings) -> HTMLResponse:
    return render(request, "delete.html", user=user, row=row, shared=shared_topic(db, row),
                  trash_days=settings.trash_days)


@router.post("/analyses/{analysis_id}/delete", dependencies=[Csrf], name="delete_page")
def delete(request: Request, row: PageAnalysis, db: DbSession,
           settings: AppSettings) -> Response:
    from fakelens.web.trash import move_to_trash

    had_share = move_to_trash(db, settings, row)
    message = (f"“{row.filename}” is in the trash: restore it below within "
               f"{settings.trash_days:g} days, after that it is deleted for good.")
    if had_share:
        message += (" Its forum share no longer shows the media; restoring the analysis "
                    "does not share it again.")
    flash(request, message)
    return RedirectResponse("/history#trash", status_code=303)


@router.post("/analyses/{analysis_id}/restore", dependencies=[Csrf], name="restore_page")
def restore(request: Request, row: TrashedAnalysis, db: DbSession) -> Response:
    from fakelens.web.trash import restore as restore_row

    restore_row(db, row)
    flash(request, f"“{row.filename}” was restored.")
    return RedirectResponse(f"/analyses/{row.public_id}", status_code=303)
