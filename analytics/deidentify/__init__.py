"""De-identification of a raw clinic export into a contract file (keyed pseudonyms,
identifiers dropped, optional date shift).

    core.py        deidentify(): read, plan columns, transform, write
    keys.py        the pseudonym key file and the keyed hash
    mapping.py     the column map (which raw column becomes which contract column)
    transforms.py  dates, ages, ZIP3, note scrubbing, value maps
"""
