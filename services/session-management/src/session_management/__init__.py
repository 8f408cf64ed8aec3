"""Session management: connections, sessions, listeners, broadcast control and status."""
