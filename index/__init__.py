"""The search layer over Whoosh: schema, index storage, writing, searching, highlighting."""
