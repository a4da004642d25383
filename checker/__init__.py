"""The checker (like the P language's checker, apart from PSpec): explorer, composition, causes,
fuzzing, replay, coverage, narration, fleet figures. It reads the model and the properties;
nothing below it imports it."""
