"""Work in progress: registers nothing yet."""
