"""``python -m smi_spec``: the same command line as the ``smi-spec`` script."""

from smi_spec.cli import main

main()
