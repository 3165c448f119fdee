"""GraphiQL, the development IDE at `GET /graphql`, served from the project: no CDN, so it works offline.

`graphiql.html` loads React, ReactDOM and GraphiQL from `static/vendor/` (exact npm releases, checked
against their published hashes; see `static/vendor/README.md`), and starts the IDE with `static/ide.js`;
all of it under `/graphiql/`, all same-origin, so the page's Content-Security-Policy
(`middleware.IDE_CSP`) allows scripts from 'self' only. Mounted in development only, like the IDE.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

PREFIX = "/graphiql"
STATIC = Path(__file__).with_name("static")
PAGE = Path(__file__).with_name("graphiql.html").read_text(encoding="utf-8")

routes = [Mount(PREFIX, app=StaticFiles(directory=STATIC), name="graphiql")]
