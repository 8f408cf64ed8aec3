output "schedule_arns" {
  description = "ARN of each schedule, by name."
  value       = { for key, schedule in aws_scheduler_schedule.this : key => schedule.arn }
}

output "role_arn" {
  description = "Role EventBridge Scheduler assumes to invoke the functions."
  value       = aws_iam_role.scheduler.arn
}

output "group_name" {
  description = "The schedule group every schedule belongs to."
  value       = aws_scheduler_schedule_group.this.name
}
