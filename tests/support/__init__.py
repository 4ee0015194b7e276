"""Real parts for tests: registry servers, fronts, the Kubernetes emulator."""
