"""The smi-spec tool: command line, reports and diagrams over the model and properties."""
