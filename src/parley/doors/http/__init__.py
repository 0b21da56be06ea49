"""`parley daemon`: the HTTP + SSE front door (REST under /api/v1), a thin adapter on the
engine service. See docs/http.md."""
