"""The application: the indexing run, where its work runs, settings and the ``archive`` CLI."""
