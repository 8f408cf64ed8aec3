output "tables" {
  description = "Every table by logical name (sessions, connections, rate-limits, translation-cache, transcripts, shard-positions): name and ARN."
  value       = { for key, table in aws_dynamodb_table.this : key => { name = table.name, arn = table.arn } }
}

output "connections_by_session_index" {
  description = "The connections GSI on sessionId and targetLanguage: name and ARN."
  value = {
    name = var.connections_by_session_index
    arn  = "${aws_dynamodb_table.this["connections"].arn}/index/${var.connections_by_session_index}"
  }
}
