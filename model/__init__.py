"""The executable model of the DSP's Smart Metering Inventory rules.

Like the P language's PSrc: this package says what the system does. ``properties`` says what
must hold, ``tests`` drives both.
"""
