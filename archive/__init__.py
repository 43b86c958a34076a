"""The news archive application: articles, readers, clean-up, summaries and the CLI."""
