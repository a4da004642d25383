"""What must hold (like the P language's PSpec): the safety properties, the recoverability
properties and the ways back each may use, and when each is armed. The checker that
searches for violations is ``checker/``; the property ids are a contract of the variant
files, so they live below, in ``model/property_ids.py``."""
