"""Front doors: thin adapters that translate a wire to the engine service and back."""
