"""One module per API Gateway route or schedule, named after it (createSession → create_session)."""
