output "arns" {
  description = "ARN of each queue made here, by key."
  value       = { for key, queue in aws_sqs_queue.this : key => queue.arn }
}

output "names" {
  description = "Name of each queue made here, by key."
  value       = { for key, queue in aws_sqs_queue.this : key => queue.name }
}

output "alarm_names" {
  description = "The not-empty alarm of every watched queue, by key."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.queue_not_empty : key => alarm.alarm_name }
}
