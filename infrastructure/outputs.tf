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

output "site_url" {
  description = "The speaker and listener pages' HTTPS URL (CloudFront); null when the site is not deployed."
  value       = one(module.site[*].url)
}

output "site" {
  description = "The site's bucket, CloudFront distribution and uploaded files (make verify reads it); null when not deployed."
  value = one([for site in module.site : {
    url             = site.url
    bucket          = site.bucket
    distribution_id = site.distribution_id
    files           = site.files
  }])
}

output "sign_in" {
  description = "The speakers' user pool, the speaker page's app client, the hosted UI and the group allowed to speak."
  value = {
    user_pool_id  = module.identity.user_pool_id
    client_id     = module.identity.client_id
    hosted_ui_url = module.identity.hosted_ui_url
    speaker_group = module.identity.speaker_group
  }
}

output "capacity" {
  description = "Talks at once the deployment carries (createSession refuses more with CAPACITY_REACHED), the bound that decides it, every bound in talks, and the plan they are derived from (docs/CAPACITY.md)."
  value = {
    max_concurrent_talks = local.max_concurrent_talks
    binding              = [for bound, talks in local.capacity_bounds : bound if talks == min(values(local.capacity_bounds)...)][0]
    bounds               = local.capacity_bounds
    plan                 = local.capacity_plan
  }
}
