# Only the local environment uses this file. Lambda takes every artifact from this bucket instead of from the zip in
# the request (local_override.tf points the functions and the layer here): the AWS provider holds one lock across a
# zip-file deployment's whole create, 5 s wait for the function included, so 22 functions from files take 110 s one
# after another, and from S3 a few seconds side by side.

resource "aws_s3_bucket" "code" {
  # checkov:skip=CKV_AWS_21:an emulator's bucket; each apply uploads every artifact from dist/ again
  # checkov:skip=CKV2_AWS_6:an emulator's bucket; nothing public in the emulator
  # checkov:skip=CKV2_AWS_61:an emulator's bucket; it is dropped with the emulator
  # checkov:skip=CKV_AWS_145:an emulator's bucket; no KMS locally
  bucket        = "${local.name_prefix}-code"
  force_destroy = true
  tags          = local.tags
}

resource "aws_s3_object" "code" {
  # checkov:skip=CKV_AWS_186:an emulator's bucket; no KMS locally
  for_each = local.artifacts

  bucket      = aws_s3_bucket.code.id
  key         = "${each.key}.zip"
  source      = each.value.path
  source_hash = each.value.sha256
  tags        = local.tags
}
