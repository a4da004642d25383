"""What must hold (like the P language's PSpec): properties, explorer, fuzzing."""
