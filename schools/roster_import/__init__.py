"""Roster import from Excel (.xlsx) or CSV: students with their class, teaching assignments and
teacher accounts. Every row is validated first; one bad row and nothing is imported.

reading.py  bytes → rows of typed cells (size, format and zip-bomb limits)
columns.py  the columns of each kind and how header rows are recognised
values.py   one cell → one clean value (dates, sex, personal ID, dangerous text …)
validate.py what the kinds share: row cleaning, duplicates, classes by name
students.py, assignments.py, teachers.py  rows → a plan, or every row's errors
apply.py    a plan → database rows
service.py  `import_roster`: all of the above in one transaction
template.py the downloadable .xlsx templates
"""
