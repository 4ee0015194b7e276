"""Tests of src/aimsource/stores."""
