locals {
  # One permission per function, however many routes it serves.
  route_functions = { for key, route in var.routes : route.function_name => route.function_name... }
}

resource "aws_apigatewayv2_api" "this" {
  name                       = var.name
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"
  description                = var.description
  tags                       = var.tags
}

resource "aws_apigatewayv2_authorizer" "connect" {
  api_id           = aws_apigatewayv2_api.this.id
  name             = "${var.name}-connect"
  authorizer_type  = "REQUEST"
  authorizer_uri   = var.authorizer.invoke_arn
  identity_sources = var.authorizer.identity_sources
}

resource "aws_apigatewayv2_integration" "this" {
  for_each = var.routes

  api_id                    = aws_apigatewayv2_api.this.id
  integration_type          = "AWS_PROXY"
  integration_method        = "POST"
  integration_uri           = each.value.invoke_arn
  content_handling_strategy = "CONVERT_TO_TEXT"
  timeout_milliseconds      = var.integration_timeout_milliseconds
  description               = "${each.key} -> ${each.value.function_name}"
}

resource "aws_apigatewayv2_route" "this" {
  for_each = var.routes

  api_id         = aws_apigatewayv2_api.this.id
  route_key      = each.key
  target         = "integrations/${aws_apigatewayv2_integration.this[each.key].id}"
  operation_name = replace(each.key, "$", "")

  authorization_type = each.key == "$connect" ? "CUSTOM" : "NONE"
  authorizer_id      = each.key == "$connect" ? aws_apigatewayv2_authorizer.connect.id : null
}

resource "aws_lambda_permission" "routes" {
  for_each = local.route_functions

  statement_id  = "AllowWebSocketApi"
  action        = "lambda:InvokeFunction"
  function_name = each.key
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}

resource "aws_lambda_permission" "authorizer" {
  statement_id  = "AllowWebSocketApiAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = var.authorizer.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.connect.id}"
}

# A deployment snapshots the routes: it is replaced whenever any route or integration
# changes, and only after all of them exist, so the stage never serves a stale or
# partial set of routes.
resource "aws_apigatewayv2_deployment" "this" {
  count = var.create_deployment ? 1 : 0

  api_id      = aws_apigatewayv2_api.this.id
  description = "routes: ${join(", ", sort(keys(var.routes)))}"

  triggers = {
    redeployment = sha1(jsonencode([
      [for key in sort(keys(var.routes)) : [aws_apigatewayv2_route.this[key].id, aws_apigatewayv2_route.this[key].target, aws_apigatewayv2_route.this[key].authorizer_id]],
      [for key in sort(keys(var.routes)) : [aws_apigatewayv2_integration.this[key].id, aws_apigatewayv2_integration.this[key].integration_uri]],
      aws_apigatewayv2_authorizer.connect.authorizer_uri,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [aws_apigatewayv2_route.this, aws_apigatewayv2_integration.this, aws_apigatewayv2_authorizer.connect]
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}/${var.stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  api_id        = aws_apigatewayv2_api.this.id
  name          = var.stage_name
  deployment_id = var.create_deployment ? aws_apigatewayv2_deployment.this[0].id : null

  default_route_settings {
    throttling_burst_limit = var.throttling.burst_limit
    throttling_rate_limit  = var.throttling.rate_limit
    logging_level          = var.execution_logging_level
    data_trace_enabled     = false
  }

  # Per-route limits under the stage-wide one: a flood on one route (joins, unknown actions) cannot use up the
  # stage's budget that audio and control messages need.
  dynamic "route_settings" {
    for_each = var.route_throttling
    content {
      route_key              = route_settings.key
      throttling_burst_limit = route_settings.value.burst_limit
      throttling_rate_limit  = route_settings.value.rate_limit
      logging_level          = var.execution_logging_level
      data_trace_enabled     = false
    }
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId    = "$context.requestId"
      connectionId = "$context.connectionId"
      routeKey     = "$context.routeKey"
      eventType    = "$context.eventType"
      status       = "$context.status"
      error        = "$context.error.message"
      integration  = "$context.integration.error"
      authorizer   = "$context.authorizer.error"
      ip           = "$context.identity.sourceIp"
      requestTime  = "$context.requestTimeEpoch"
    })
  }

  tags = var.tags

  # route_settings name routes, which must exist first
  depends_on = [aws_apigatewayv2_route.this]
}
