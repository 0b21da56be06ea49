"""Profiles, and the one new sessions get by default."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from parley.doors.http import models, views
from parley.doors.http.context import daemon, json
from parley.doors.http.errors import responses
from parley.engine.profiles import profile_info

router = APIRouter(tags=["profiles"])


@router.get("/profiles", response_model=models.Profiles, responses=responses())
async def list_profiles(request: Request) -> Response:
    service = daemon(request).service
    return json(
        {
            "profiles": [views.profile(profile_info(p)) for p in service.profiles()],
            "current": service.settings.profile,
        }
    )


@router.get("/profiles/current", response_model=models.Profile, responses=responses(404))
async def current(request: Request) -> Response:
    """The profile new sessions get when they name none."""
    service = daemon(request).service
    return json(views.profile(profile_info(service.profile(service.settings.profile))))


@router.put("/profiles/current", response_model=models.Profile, responses=responses(404))
async def set_current(request: Request, body: models.CurrentProfile) -> Response:
    """Change it for sessions created from now on, until the daemon stops (PUT /config with
    `profile` also writes it to the config file)."""
    service = daemon(request).service
    chosen = service.profile(body.profile_name)
    service.settings.profile = chosen.name
    service.settings.sources["profile"] = "PUT /api/v1/profiles/current"
    return json(views.profile(profile_info(chosen)))


@router.get("/profiles/{name}", response_model=models.Profile, responses=responses(404))
async def get_profile(request: Request, name: str) -> Response:
    return json(views.profile(profile_info(daemon(request).service.profile(name))))
