"""Alias kept for callers that name the HTTP adapter `backend.pointing.http:OpenAIPointer`; see remote.py."""
from backend.pointing.remote import OpenAIPointer, image_data_url, message_text  # noqa: F401
