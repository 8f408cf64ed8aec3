# Speakers sign in with a Cognito user pool's hosted UI (authorization code with PKCE); only members of the
# speaker group may speak. Accounts are created by an administrator: nobody signs up on their own.

data "aws_region" "current" {}

locals {
  issuer = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.this.id}"
}

resource "aws_cognito_user_pool" "this" {
  name                     = var.name
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = var.deletion_protection ? "ACTIVE" : "INACTIVE"
  mfa_configuration        = var.mfa

  dynamic "software_token_mfa_configuration" {
    for_each = var.mfa == "OFF" ? [] : [true]
    content {
      enabled = true
    }
  }

  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 12
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = false
    temporary_password_validity_days = 7
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  tags = var.tags
}

# The speaker page's client: public (a browser keeps no secret), authorization code with PKCE only.
resource "aws_cognito_user_pool_client" "speaker_page" {
  name         = "${var.name}-speaker-page"
  user_pool_id = aws_cognito_user_pool.this.id

  generate_secret                      = false
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = var.callback_urls
  logout_urls                          = coalesce(var.logout_urls, var.callback_urls)
  explicit_auth_flows                  = ["ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors        = "ENABLED"
  enable_token_revocation              = true

  id_token_validity      = var.token_validity.id_hours
  access_token_validity  = var.token_validity.access_hours
  refresh_token_validity = var.token_validity.refresh_days
  token_validity_units {
    id_token      = "hours"
    access_token  = "hours"
    refresh_token = "days"
  }
}

resource "aws_cognito_user_pool_domain" "hosted_ui" {
  domain       = var.domain_prefix
  user_pool_id = aws_cognito_user_pool.this.id
}

resource "aws_cognito_user_group" "speakers" {
  name         = var.speaker_group
  user_pool_id = aws_cognito_user_pool.this.id
  description  = "May create sessions and broadcast (the $connect authorizer checks cognito:groups)."
}
