"""One module per entity: pure to_external / to_internal, and the natural-key lookup."""
