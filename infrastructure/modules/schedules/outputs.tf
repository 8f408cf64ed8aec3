output "schedule_arns" {
  description = "ARN of each schedule, by name."
  value       = { for key, schedule in aws_scheduler_schedule.this : key => schedule.arn }
}

output "role_arn" {
  description = "Role EventBridge Scheduler assumes to invoke the functions."
  value       = aws_iam_role.scheduler.arn
}
