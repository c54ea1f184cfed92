"""Pointing models: parsers per output convention, adapters (HTTP, transformers, embedded), serve."""
