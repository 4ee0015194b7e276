"""Self-tests of the test bed (tests/support): the emulator, the registries and fronts, the offline
CRD judge and the real testbed script (see tests/support/README.md)."""
