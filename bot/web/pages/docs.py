"""GET /docs and /redoc: Swagger UI and ReDoc from assets shipped in a Python package, no CDN."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from bot.web.errors import ApiError

# fastapi-offline ships Swagger UI 5 (it reads OpenAPI 3.1, as FastAPI writes) and ReDoc 2.
ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
SERVED = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
PREFIX = "/docs/assets"

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    """Serve Swagger UI for the app's OpenAPI document."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title}: API",
        swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{PREFIX}/favicon.png",
        # No call to the public validator service: the page works offline.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    """Serve ReDoc for the app's OpenAPI document."""
    return get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title}: API",
        redoc_js_url=f"{PREFIX}/redoc.standalone.js",
        redoc_favicon_url=f"{PREFIX}/favicon.png",
        with_google_fonts=False,
    )


@router.get(PREFIX + "/{name}")
def asset(name: Annotated[str, PathParam(max_length=40)]) -> FileResponse:
    """Serve one of the shipped assets; any other name is a 404 (no path is built from input)."""
    if name not in SERVED:
        raise ApiError(404, "not_found", f"no asset {name!r}")
    return FileResponse(
        ASSETS / SERVED[SERVED.index(name)], headers={"Cache-Control": "max-age=86400"}
    )
