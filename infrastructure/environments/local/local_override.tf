# Only the local environment uses this file: the Makefile assembles the local working
# directory from the root module plus this override, so none of this reaches dev,
# staging or prod. It keeps state on disk and sends every AWS call to the emulator.

terraform {
  backend "local" {
    path = "terraform.tfstate"
  }
}

provider "aws" {
  region                      = var.aws_region
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {
    apigatewayv2 = var.aws_endpoint_url
    cloudfront   = var.aws_endpoint_url
    cloudwatch   = var.aws_endpoint_url
    cognitoidp   = var.aws_endpoint_url
    dynamodb     = var.aws_endpoint_url
    events       = var.aws_endpoint_url
    iam          = var.aws_endpoint_url
    kinesis      = var.aws_endpoint_url
    kms          = var.aws_endpoint_url
    lambda       = var.aws_endpoint_url
    logs         = var.aws_endpoint_url
    s3           = var.aws_endpoint_url
    scheduler    = var.aws_endpoint_url
    sns          = var.aws_endpoint_url
    sqs          = var.aws_endpoint_url
    sts          = var.aws_endpoint_url
  }
}

# moto reports the distribution without its origin access control, so every apply changes it; nothing serves
# through it locally (the local runtime serves web/dist), so no apply waits for it to be Deployed, and it is created
# disabled, so that a destroy deletes it at once instead of disabling it and waiting for that to deploy.
module "site" {
  # checkov:skip=CKV_TF_1:an override of main.tf's module "site", whose source is a local path
  # checkov:skip=CKV_TF_2:an override of main.tf's module "site", whose source is a local path
  distribution_enabled = false
  wait_for_deployment  = false
}

# Every artifact deploys from the local code bucket (local_code.tf), so the provider creates the functions in parallel.
module "shared_layer" {
  # checkov:skip=CKV_TF_1:an override of main.tf's module "shared_layer", whose source is a local path
  # checkov:skip=CKV_TF_2:an override of main.tf's module "shared_layer", whose source is a local path
  code_object = {
    bucket = aws_s3_object.code["shared-layer"].bucket
    key    = aws_s3_object.code["shared-layer"].key
  }
}

module "function" {
  # checkov:skip=CKV_TF_1:an override of main.tf's module "function", whose source is a local path
  # checkov:skip=CKV_TF_2:an override of main.tf's module "function", whose source is a local path
  code_object = {
    bucket = aws_s3_object.code[each.value.artifact].bucket
    key    = aws_s3_object.code[each.value.artifact].key
  }
}
