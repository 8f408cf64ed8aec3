output "websocket_url" {
  description = "URL clients connect to (wss://…/stage)."
  value       = module.websocket_api.stage_url
}

output "api_id" {
  description = "ID of the WebSocket API."
  value       = module.websocket_api.api_id
}

output "stage_name" {
  description = "Stage of the WebSocket API."
  value       = local.stage_name
}

output "route_keys" {
  description = "Every route deployed."
  value       = module.websocket_api.route_keys
}

output "tables" {
  description = "Every DynamoDB table by logical name."
  value       = module.tables.tables
}

output "functions" {
  description = "Every function name, by handler module."
  value       = { for key, fn in module.function : key => fn.function_name }
}

output "schedule_group" {
  description = "EventBridge Scheduler group of the periodic functions' schedules (make verify reads it)."
  value       = module.schedules.group_name
}

output "create_deployment" {
  description = "Whether the stage serves a deployment (false in the emulator, which has no CreateDeployment)."
  value       = var.create_deployment
}

output "region" {
  description = "The region everything is deployed in."
  value       = var.aws_region
}
