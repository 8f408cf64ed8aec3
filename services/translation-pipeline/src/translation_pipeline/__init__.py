"""Translation pipeline: transcript segments to captions and speech in every listener language."""
