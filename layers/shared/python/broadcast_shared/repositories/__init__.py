"""DynamoDB access. Services receive these; nothing else talks to DynamoDB."""
