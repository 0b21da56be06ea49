"""The system prompt a session sends: its profile's prompt for its cwd, then the context files."""

from __future__ import annotations

from parley.config import ConfigError
from parley.engine.profiles import Profile
from parley.tools.base import ToolContext, ToolError
from parley.tools.file_io import open_regular, read_bounded
from parley.tools.paths import resolve_inside

# All context files together; past it a file is cut, so one huge file cannot fill the window.
MAX_CONTEXT_CHARS = 100_000


def system_prompt(profile: Profile, ctx: ToolContext) -> str:
    """`{cwd}` in the prompt becomes the working directory; context files are read now.

    Context files resolve like a tool's paths, inside the session's roots: a profile that came
    with a project cannot send the user's other files to the model. Only regular files are
    read, and no more of each than the budget: a named pipe cannot hold up session creation.
    """
    parts = [profile.system_prompt.replace("{cwd}", str(ctx.cwd))]
    budget = MAX_CONTEXT_CHARS
    for i, name in enumerate(profile.context_files):
        where = f"{profile.source}: context_files[{i}]"
        try:
            path = resolve_inside(ctx, name, must_exist=True)
            data = read_bounded(open_regular(ctx, path, name), budget * 4)
            text = data.decode("utf-8", errors="replace")
        except ToolError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read {name!r}: {exc.strerror}") from None
        if len(text) > budget:
            text = text[:budget] + f"\n[cut: {len(text) - budget} more characters not included]"
        budget = max(0, budget - len(text))
        parts.append(f'<context_file path="{name}">\n{text}\n</context_file>')
    return "\n\n".join(parts)
