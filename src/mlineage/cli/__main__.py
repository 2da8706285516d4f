"""`python -m mlineage.cli ...` runs the `mlineage` command."""

from mlineage.cli import main

main()
