"""The WebSocket protocol as typed models: what clients send and what the server answers."""
