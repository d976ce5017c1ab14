"""Tests of tlsspec.runtime, one module per runtime module."""
