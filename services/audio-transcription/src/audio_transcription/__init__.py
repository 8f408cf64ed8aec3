"""Audio transcription: ``sendAudio`` to ordered, stable transcript segments."""
