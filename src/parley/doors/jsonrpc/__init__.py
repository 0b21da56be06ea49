"""The JSON-RPC 2.0 layer the stdio and ACP doors share: framing, pygls, dispatch."""
