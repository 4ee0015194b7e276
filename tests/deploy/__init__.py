"""Tests of what we ship: the kustomize tree, the Dockerfile and the examples."""
