environment = "prod"
aws_region  = "eu-west-1"

# Speakers sign in with a Cognito user pool; set its id and app client id.
speaker_auth = {
  issuer   = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_REPLACEME"
  audience = "REPLACE-WITH-APP-CLIENT-ID"
  jwks_url = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_REPLACEME/.well-known/jwks.json"
}

deletion_protection = true
log_retention_days  = 365
throttling          = { burst_limit = 2000, rate_limit = 5000 }
