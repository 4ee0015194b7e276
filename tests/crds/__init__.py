"""Tests of the CRDs, and of the domain rules that mirror them."""
