"""The built-in report writers: HTML (one self-contained page), JSON (every number, versioned
schema) and Markdown, each a ``ganlens_write_report`` extension."""
