"""The installable web app: manifest (with a Web Share Target, so a phone's gallery or a
messaging app can share a video straight into fakelens), the service worker and the page
it shows offline. The share target itself is an upload: ``pages.share_target``."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from fakelens.web.deps import MaybeUser
from fakelens.web.templating import render

router = APIRouter(include_in_schema=False)

SHARE_TARGET = "/share-target"


def manifest() -> dict:
    icons = [{"src": f"/static/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png",
              "purpose": "any maskable"} for n in (192, 512)]
    icons.append({"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml"})
    return {
        "name": "fakelens: deepfake detector", "short_name": "fakelens", "id": "/",
        "description": "Check a video or image for face manipulation, with the evidence.",
        "start_url": "/", "scope": "/", "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#0b57d0", "icons": icons,
        "share_target": {"action": SHARE_TARGET, "method": "POST",
                         "enctype": "multipart/form-data",
                         "params": {"title": "title", "text": "text",
                                    "files": [{"name": "file",
                                               "accept": ["video/*", "image/*", "audio/*"]}]}},
    }


@router.get("/manifest.webmanifest", name="manifest")
def web_manifest() -> Response:
    return JSONResponse(manifest(), media_type="application/manifest+json")


@router.get("/sw.js", name="service_worker")
def service_worker() -> Response:
    script = (resources.files("fakelens.web") / "static" / "sw.js").read_text("utf-8")
    return Response(script, media_type="text/javascript",
                    headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"})


@router.get("/offline", response_class=HTMLResponse, name="offline_page")
def offline(request: Request, user: MaybeUser) -> HTMLResponse:
    return render(request, "offline.html", user=None)
