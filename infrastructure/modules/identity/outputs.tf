output "user_pool_id" {
  description = "ID of the user pool."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_arn" {
  description = "ARN of the user pool."
  value       = aws_cognito_user_pool.this.arn
}

output "client_id" {
  description = "ID of the speaker page's app client (the aud of its ID tokens)."
  value       = aws_cognito_user_pool_client.speaker_page.id
}

output "hosted_ui_url" {
  description = "Base URL of the hosted UI (/oauth2/authorize, /oauth2/token, /logout)."
  value       = "https://${aws_cognito_user_pool_domain.hosted_ui.domain}.auth.${data.aws_region.current.name}.amazoncognito.com"
}

output "speaker_group" {
  description = "Name of the group whose members may speak."
  value       = aws_cognito_user_group.speakers.name
}

output "authorizer" {
  description = "What the $connect authorizer verifies tokens against: issuer, audience (the app client) and the pool's JWKS URL."
  value = {
    issuer        = local.issuer
    audience      = aws_cognito_user_pool_client.speaker_page.id
    jwks_url      = "${local.issuer}/.well-known/jwks.json"
    speaker_group = aws_cognito_user_group.speakers.name
  }
}

output "redirect_uri" {
  description = "The first callback URL: where the speaker page asks the hosted UI to send the speaker back."
  value       = var.callback_urls[0]
}
