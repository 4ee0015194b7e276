"""The test bed: real registries and fronts, the Kubernetes emulator, the real control plane (README.md)."""
