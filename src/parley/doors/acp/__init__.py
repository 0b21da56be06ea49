"""`parley acp`: the Agent Client Protocol door (Zed, JetBrains, any ACP client)."""
