"""The text library: articles, readers, clean-up, dates, sentences and summaries."""
