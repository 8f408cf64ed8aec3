output "name" {
  description = "Name of the stream."
  value       = aws_kinesis_stream.this.name
}

output "arn" {
  description = "ARN of the stream."
  value       = aws_kinesis_stream.this.arn
}

output "event_source_mapping_uuids" {
  description = "UUID of each consumer's event source mapping, by consumer key."
  value       = { for key, mapping in aws_lambda_event_source_mapping.this : key => mapping.uuid }
}

output "alarm_names" {
  description = "The iterator-age and error alarms, by consumer key."
  value = {
    for key in keys(var.consumers) : key => [
      aws_cloudwatch_metric_alarm.iterator_age[key].alarm_name,
      aws_cloudwatch_metric_alarm.errors[key].alarm_name,
    ]
  }
}

output "reader_lag_alarm_name" {
  description = "The alarm on the consumers' own reader lag; null when there is none."
  value       = one(aws_cloudwatch_metric_alarm.reader_lag[*].alarm_name)
}

output "failures_queue_arn" {
  description = "The queue the consumers' event source mappings describe records that failed every retry on."
  value       = aws_sqs_queue.failures.arn
}
