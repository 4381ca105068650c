"""The web face of sangsaeng-qa: Gradio chat, embeddable widget, HTTP API (built by `app.py`)."""
