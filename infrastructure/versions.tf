terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Remote state in S3 with S3-native locking; the bucket and key come from
  # environments/<env>.s3.tfbackend. The local environment replaces this with local
  # state (environments/local/local_override.tf).
  backend "s3" {}
}
