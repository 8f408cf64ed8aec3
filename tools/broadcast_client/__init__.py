"""Command-line clients of the public WebSocket protocol (docs/PROTOCOL.md): speaker and listener."""
