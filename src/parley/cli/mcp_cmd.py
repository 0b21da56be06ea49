"""`parley mcp list`: the MCP servers a session would get, whether each starts, its tools.

Servers come from the config file and the profile (a session's own come from its host).
Each is started, listed and stopped again; `--no-start` only shows the configuration.
Exit code: 0 every server started, 1 one did not, 2 a configuration problem.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

from parley.cli.common import add_settings_flags, fail, settings_from, setup_logging
from parley.core.errors import ErrorCode, ParleyError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_mcp_parser(subparsers: Any) -> None:
    mcp = subparsers.add_parser("mcp", help="the MCP servers sessions get")
    commands = mcp.add_subparsers(dest="mcp_command", required=True, metavar="COMMAND")
    list_cmd = commands.add_parser(
        "list", help="configured MCP servers, whether each starts, and its tool count"
    )
    list_cmd.add_argument("--cwd", help="as for a session in this directory (default: here)")
    list_cmd.add_argument("--tools", action="store_true", help="name every tool too")
    list_cmd.add_argument(
        "--no-start", action="store_true", help="only show the configuration; start nothing"
    )
    list_cmd.add_argument("--json", action="store_true", help="as one JSON object")
    add_settings_flags(list_cmd)
    list_cmd.set_defaults(func=_list)


def _list(args: argparse.Namespace) -> int:
    from parley.engine.profile_files import load_profiles
    from parley.engine.session_tools import mcp_servers
    from parley.tools.mcp.config import ServerConfig
    from parley.tools.mcp.probe import Probe, probe

    try:
        settings = settings_from(args)
        setup_logging(settings)
        cwd = Path(args.cwd or os.getcwd()).expanduser().resolve()
        profiles = load_profiles(settings, cwd)
        profile = profiles.get(settings.profile)
        if profile is None:
            raise ParleyError(
                ErrorCode.PROFILE_NOT_FOUND,
                f"no profile named {settings.profile!r}; available: {', '.join(profiles)}",
            )
        servers = mcp_servers(None, profile, settings)
    except ParleyError as exc:
        fail(exc)
        return EXIT_USAGE
    if args.no_start:
        probes = [Probe(c, False) for c in servers]
    else:
        probes = asyncio.run(probe(servers, cwd, settings.env))

    def row(p: Probe) -> dict[str, Any]:
        c: ServerConfig = p.config
        out: dict[str, Any] = {
            "name": c.name,
            "transport": c.transport,
            "target": c.url if c.url is not None else " ".join([c.command or "", *c.args]),
            "source": c.source,
            "trusted": c.trusted,
        }
        if not args.no_start:
            out.update(starts=p.started, toolCount=len(p.tools), seconds=round(p.seconds, 2))
            if args.tools:
                out["tools"] = list(p.tools)
            if p.error:
                out["error"] = p.error
        return out

    rows = [row(p) for p in probes]
    code = EXIT_OK if all(p.started for p in probes) or args.no_start else EXIT_FAILED
    if args.json:
        print(json.dumps({"profile": settings.profile, "cwd": str(cwd), "servers": rows}, indent=2))
        return code
    if not rows:
        print(
            f"no MCP servers configured (profile {settings.profile}); add [mcp_servers.NAME] "
            "to your config file: see docs/mcp.md"
        )
        return code
    for r in rows:
        trust = ", trusted" if r["trusted"] else ""
        print(f"{r['name']}  ({r['transport']}{trust}; from {r['source']})")
        print(f"    {r['target']}")
        if args.no_start:
            continue
        if r["starts"]:
            print(f"    starts: yes, in {r['seconds']:.2f}s; {r['toolCount']} tools")
            if args.tools:
                print("    " + ", ".join(r["tools"]))
        else:
            print(f"    starts: NO: {r['error']}")
    return code
