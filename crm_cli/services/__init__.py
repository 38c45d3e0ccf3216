"""One module per operator command's logic (full-sync, import, cleanup, stats,
test-connection, the dry-run preview) and the ``ServiceCrm`` API; the CLI only renders
what these return."""
