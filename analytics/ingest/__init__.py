"""Input: the data contract, reading files, checking them in SQL, quarantining faults and
loading what passes into the database in one transaction.

    contract.py     the input tables, declared once (columns, types, ranges, enums)
    readers.py      CSV / Parquet / Excel into Arrow text tables, with line numbers
    validation.py   the SQL that types and checks every cell
    identifiers.py  the guard against direct identifiers in names and values
    load.py         validate_files() and ingest_files()
"""
