output "topic_arn" {
  description = "The environment's alarm topic."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_actions" {
  description = "What every alarm notifies: the topic, then any extra actions (pass to other modules' alarms)."
  value       = local.alarm_actions
}

output "alarm_names" {
  description = "Every alarm this module made."
  value       = [for a in aws_cloudwatch_metric_alarm.this : a.alarm_name]
}

output "dashboard_name" {
  description = "The CloudWatch dashboard along a talk's path."
  value       = aws_cloudwatch_dashboard.talk.dashboard_name
}
