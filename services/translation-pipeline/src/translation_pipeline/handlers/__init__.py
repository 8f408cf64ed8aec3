"""The pipeline entry point: an asynchronous invoke per transcript segment."""
