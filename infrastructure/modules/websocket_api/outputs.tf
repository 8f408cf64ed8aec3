output "api_id" {
  description = "ID of the WebSocket API."
  value       = aws_apigatewayv2_api.this.id
}

output "api_endpoint" {
  description = "wss:// endpoint of the API (without the stage)."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "execution_arn" {
  description = "Execution ARN, for IAM policies such as execute-api:ManageConnections."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "stage_url" {
  description = "URL clients connect to."
  value       = "${aws_apigatewayv2_api.this.api_endpoint}/${aws_apigatewayv2_stage.this.name}"
}

output "route_keys" {
  description = "Every route key deployed."
  value       = sort(keys(aws_apigatewayv2_route.this))
}
