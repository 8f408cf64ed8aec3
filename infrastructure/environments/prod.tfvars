environment = "prod"
aws_region  = "eu-west-1"

# Speakers sign in at the Cognito hosted UI https://speech-broadcast-prod.auth.eu-west-1.amazoncognito.com
# (modules/identity); the $connect authorizer checks that pool's tokens. The prefix must be free in the region.
sign_in = {
  domain_prefix = "speech-broadcast-prod"
}

deletion_protection = true
log_retention_days  = 365
throttling          = { burst_limit = 2000, rate_limit = 5000 }
