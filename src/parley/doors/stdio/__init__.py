"""`parley serve`: the Parley protocol over stdio JSON-RPC."""
