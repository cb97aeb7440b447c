"""The gradebook grid: one term of a class's book edited cell by cell, and its year view.

- :mod:`.book`: what a book is (a subject's or the homeroom's) and reading its cells.
- :mod:`.display`: how a cell, an average and a name read on the page.
- :mod:`.results`: the computed cells (term average, D/CD, year results), by the rule in
  :mod:`gradebook.rules.subject_term`.
- :mod:`.explain`: "show the calculation" of a computed cell.
- :mod:`.page`: the rows of a term's page and of the year view, in a constant number of queries.
- :mod:`.changes`: what changed since a ledger cursor, for the page's polling.
"""
