"""The `pumpqi` command line: thin commands over the library (commands.py and one module
per larger command), shared options and one-line errors (common.py)."""
