"""One module per entry point: ``sendAudio`` and the Kinesis transcription worker."""
