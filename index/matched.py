"""The hits of one page (or export batch) as Whoosh results of their own: what snippets
need, for those hits alone.

Whoosh's highlighter reads the character offsets of the matched terms of every hit in a
Results at once, the first time it highlights one: with every match collected (for exact
totals and facets), a page of ten hits at 20,000 articles read them for thousands.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any

from whoosh.searching import Results


def page_results(found: Results, start: int, stop: int) -> Results:
    """The hits ``start:stop`` of ``found`` as a Results of their own, same matched terms."""
    page = copy.copy(found)
    page.top_n = found.top_n[start:stop]
    page._char_cache = {}
    if found.has_matched_terms():
        termdocs: dict[Any, list[int]] = defaultdict(list)
        for _, docnum in page.top_n:
            for term in found.docterms.get(docnum, ()):
                termdocs[term].append(docnum)
        page.termdocs = dict(termdocs)
    return page
